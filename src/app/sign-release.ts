/**
 * What `stamp` signs when it is given a key: the release record itself (it is an in-toto Statement
 * v1) and an SBOM attestation — an in-toto Statement v1 whose subject is the artifact and whose
 * predicate is the SBOM document, typed `https://cyclonedx.org/bom` or `https://spdx.dev/Document`
 * as the in-toto predicate specs name them (what `cosign attest --type cyclonedx|spdxjson` writes).
 * Each becomes a Sigstore bundle v0.3 (sign/sign-statement.ts) saved into the stamp transaction, so
 * the signatures are published together with what they sign.
 */
import { serializeRecord } from '../record/build.ts';
import type { ReleaseRecord, ResourceDescriptor } from '../record/types.ts';
import { serializeBundle, signStatement } from '../sign/sign-statement.ts';
import type { Signer } from '../sign/signer.ts';
import type { Artifact } from '../sources/types.ts';
import { type RecordStore, SBOM_PREDICATE_TYPES, type SbomFormat } from './attachments.ts';

const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';

/** The SBOM attestation: the artifact as subject, the SBOM document as predicate. */
export function sbomStatement(
  subject: readonly ResourceDescriptor[],
  sbom: Buffer,
  format: SbomFormat,
): Record<string, unknown> {
  return {
    _type: STATEMENT_TYPE,
    subject: subject.map((s) => ({ name: s.name, digest: { ...s.digest } })),
    predicateType: SBOM_PREDICATE_TYPES[format],
    predicate: JSON.parse(sbom.toString('utf8')) as unknown,
  };
}

/**
 * Signs the record and the SBOM attestation of `target` and saves both bundles into `store`, after
 * dropping any an earlier stamp signed (another SBOM format, an older record version). Without a
 * signer only the drop happens: earlier signatures would sign a record that is being replaced.
 * Returns where the bundles went.
 */
export async function signRelease(
  store: RecordStore,
  target: Artifact,
  record: ReleaseRecord,
  sbom: { bytes: Buffer; format: SbomFormat },
  signer: Signer | undefined,
): Promise<{ record: string; sbom: string } | undefined> {
  await store.dropBundles(target, ['record', 'sbom']);
  if (!signer) return undefined;
  // The record as published: its canonical JSON, so the signed payload and the sidecar agree.
  const recordBundle = await signStatement(JSON.parse(serializeRecord(record)), signer);
  const sbomBundle = await signStatement(sbomStatement(record.subject, sbom.bytes, sbom.format), signer);
  return {
    record: await store.saveBundle(target, 'record', record.predicateType, serializeBundle(recordBundle)),
    sbom: await store.saveBundle(
      target,
      'sbom',
      SBOM_PREDICATE_TYPES[sbom.format],
      serializeBundle(sbomBundle),
    ),
  };
}
