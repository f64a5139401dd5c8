/**
 * The plain copies of signed statements: `build` and `rebuild` write a Statement as `NAME.<kind>.json`
 * and, with a key, its signed bundle as `NAME.<kind>.sigstore.json` beside it. Readers of the plain
 * copy (a person, a script, another tool) never see the signature, so `verify` holds the copy to the
 * signed statement: a copy edited after signing fails, as an edited release record does. The record
 * (`NAME.waybill.json`) and the SBOM (pinned by the record's digest) are checked elsewhere.
 */
import { readFile } from 'node:fs/promises';
import { BUNDLE_SUFFIX } from '../sign/bundle-files.ts';
import { canonicalJson } from './record-signature.ts';

/** A plain statement copy found beside a sidecar bundle. */
export interface StatementCopy {
  /** `dist/hello.tar.gz.provenance.json` */
  location: string;
  /** Its parsed JSON, or why it could not be parsed. */
  parsed: { ok: true; value: unknown } | { ok: false; reason: string };
}

/** Statement kinds whose plain copy is checked here (record and sbom have their own checks). */
const COPIED_KINDS = /\.(provenance|rebuild|publication)\.sigstore\.json$/;

/** Largest plain copy read: a statement, not an SBOM. */
const MAX_COPY_BYTES = 64 * 1024 * 1024;

/** `X.provenance.sigstore.json` → `X.provenance.json`; undefined for other sidecars. */
export function copyPathOf(bundlePath: string): string | undefined {
  return COPIED_KINDS.test(bundlePath) ? `${bundlePath.slice(0, -BUNDLE_SUFFIX.length)}.json` : undefined;
}

/** Reads a plain copy; undefined when there is none. */
export type CopyReader = (location: string) => Promise<Buffer | undefined>;

/** A local file, when it exists. */
export const readLocalCopy: CopyReader = (location) => readFile(location).catch(() => undefined);

/**
 * The plain copies of `bundles` that exist, keyed by the bundle's source. `bundles` maps each bundle
 * source to where its plain copy would be read from (the path, or a release's sidecar name).
 */
export async function readStatementCopies(
  bundles: ReadonlyArray<{ source: string; bundle: string; describe?: (copy: string) => string }>,
  read: CopyReader,
): Promise<Map<string, StatementCopy>> {
  const copies = new Map<string, StatementCopy>();
  for (const { source, bundle, describe } of bundles) {
    const copy = copyPathOf(bundle);
    if (copy === undefined) continue;
    const bytes = await read(copy);
    if (bytes === undefined) continue; // no plain copy: the bundle stands alone
    const location = describe ? describe(copy) : copy;
    if (bytes.length > MAX_COPY_BYTES) {
      copies.set(source, { location, parsed: { ok: false, reason: `larger than ${MAX_COPY_BYTES} bytes` } });
      continue;
    }
    try {
      copies.set(source, { location, parsed: { ok: true, value: JSON.parse(bytes.toString('utf8')) } });
    } catch (e) {
      copies.set(source, {
        location,
        parsed: { ok: false, reason: `not valid JSON: ${(e as Error).message}` },
      });
    }
  }
  return copies;
}

/** Whether the plain copy is the signed statement (same JSON whatever the key order), in words. */
export function copyMatch(copy: StatementCopy, signed: unknown): { passed: boolean; detail: string } {
  if (!copy.parsed.ok) {
    return {
      passed: false,
      detail: `the statement in ${copy.location} is unreadable: ${copy.parsed.reason}`,
    };
  }
  return canonicalJson(copy.parsed.value) === canonicalJson(signed)
    ? { passed: true, detail: `the signed statement is the statement in ${copy.location}` }
    : {
        passed: false,
        detail: `the statement in ${copy.location} differs from the signed statement: it was edited after signing`,
      };
}
