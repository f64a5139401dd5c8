/**
 * Whether a release record is signed, and whether that signature checks out with the consumer's
 * keys: its bundle (the sidecar `NAME.record.sigstore.json`, or a bundle attached to the image whose
 * statement is a release record) must verify with a `--key` and sign exactly this record — a record
 * edited after signing no longer matches. `check` reports the outcome under signed-source
 * (policy/rules/signed-source.ts); `verify` judges record bundles as statements of their own.
 */
import { stat } from 'node:fs/promises';
import type { RecordSignatureStatus } from '../policy/types.ts';
import type { ReleaseRecord } from '../record/types.ts';
import { bundleSidecarPath } from '../sign/bundle-files.ts';
import { parseSignedText, readSignedFile, type SignedItem } from '../sign/signed-input.ts';
import { parseStatement } from '../sign/statement.ts';
import type { SignatureCheck, TrustedKey } from '../sign/verify-signature.ts';
import type { Artifact } from '../sources/types.ts';
import { loadAttachedBundles } from './attachments.ts';

/** JSON with object keys sorted, to compare two copies of a statement regardless of key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Whether a signed statement is this record (same JSON, whatever the key order), in words. */
export function recordMatch(
  record: ReleaseRecord,
  signed: unknown,
  location: string,
): { passed: boolean; detail: string } {
  return canonicalJson(record) === canonicalJson(signed)
    ? { passed: true, detail: `the signed record is the record in ${location}` }
    : {
        passed: false,
        detail: `the record in ${location} differs from the signed record: it was edited after signing`,
      };
}

/** The statement a signed item carries, when it is a release record (signature not yet checked). */
function recordStatementOf(content: SignatureCheck['content']) {
  if (content.kind !== 'dsse') return undefined;
  const statement = parseStatement(content.payloadType, content.payload);
  return typeof statement !== 'string' && statement.kind === 'record' ? statement : undefined;
}

/** The record's bundles: its sidecar, and bundles attached to the image (or published beside a release). */
async function recordBundleItems(artifact: Artifact): Promise<SignedItem[]> {
  const items: SignedItem[] = [];
  // A registry image has no directory of its own, and a release's sidecars are the checked copies
  // loadAttachedBundles gives (as verify reads them): only other kinds have a local sidecar.
  const sidecar = bundleSidecarPath(artifact.path, 'record');
  const local = artifact.kind !== 'registry' && artifact.kind !== 'release';
  if (local && (await stat(sidecar).catch(() => undefined)) !== undefined)
    for (const item of await readSignedFile(sidecar)) items.push(item);
  for (const attached of await loadAttachedBundles(artifact)) {
    for (const item of parseSignedText(attached.bytes.toString('utf8'), attached.source)) items.push(item);
  }
  return items;
}

/**
 * The record's signature status with the consumer's `keys`. Undefined without a record. A bundle
 * that is no record statement (an SBOM attestation attached beside it) is not counted.
 */
export async function recordSignatureStatus(
  artifact: Artifact,
  loaded: { record: ReleaseRecord; location: string } | undefined,
  keys: TrustedKey[],
): Promise<RecordSignatureStatus | undefined> {
  if (!loaded) return undefined;
  const items = await recordBundleItems(artifact);
  if (items.length === 0) return { state: 'unsigned', detail: 'no record bundle' };
  // The verifier and the trusted root are loaded only for a signed record: check stays light without.
  const { verifySignedItem } = await import('../sign/verify-signature.ts');
  const trustedRoot = await (await import('../sign/trusted-root.ts')).loadTrustedRoot();
  const failures: string[] = [];
  let sawRecord = false;
  for (const item of items) {
    const signature = await verifySignedItem(item, { keys, trustedRoot, identity: {} });
    const statement = recordStatementOf(signature.content);
    if (!statement) continue;
    sawRecord = true;
    if (keys.length === 0) return { state: 'unchecked', detail: `${item.source}: no --key given` };
    if (!signature.passed) {
      failures.push(`${item.source}: ${signature.reason ?? 'the signature does not verify'}`);
      continue;
    }
    const match = recordMatch(loaded.record, statement.raw, loaded.location);
    if (!match.passed) {
      failures.push(`${item.source}: ${match.detail}`);
      continue;
    }
    return { state: 'verified', detail: `${item.source}, signed by ${signature.key}` };
  }
  if (!sawRecord) return { state: 'unsigned', detail: 'no record bundle' };
  return { state: 'failed', detail: failures[0]! };
}
