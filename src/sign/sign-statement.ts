/**
 * Signs an in-toto Statement as a DSSE envelope inside a Sigstore bundle v0.3
 * (application/vnd.dev.sigstore.bundle.v0.3+json), built by @sigstore/sign's DSSEBundleBuilder with the
 * caller's Signer and its witnesses (none for a key file: no transparency log, no timestamp).
 *
 * Determinism: the payload is the statement's JSON exactly as serialized here (no whitespace, keys in
 * the order the caller built them), so the same statement gives the same payload bytes. An Ed25519
 * signature is deterministic too, so the whole bundle is byte-identical run after run; an ECDSA
 * signature is randomized (a fresh nonce each time), so ECDSA bundles differ in `sig` only.
 */
import { bundleToJSON, type SerializedBundle } from '@sigstore/bundle';
import type { Signer as SigstoreSigner } from '@sigstore/sign';
import { WaybillError } from '../errors.ts';
import { checkStatement } from '../record/intoto.ts';
import type { Signer } from './signer.ts';

/** DSSE payloadType of an in-toto Statement (in-toto attestation spec, envelope.md). */
export const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** Adapts our Signer to @sigstore/sign's: the same call, its key-material shape. */
function sigstoreSigner(signer: Signer): SigstoreSigner {
  return {
    async sign(data: Buffer) {
      const { signature, key } = await signer.sign(data);
      return key.kind === 'public-key'
        ? { signature, key: { $case: 'publicKey', publicKey: key.publicKeyPem, hint: key.hint } }
        : { signature, key: { $case: 'x509Certificate', certificate: key.certificatePem } };
    },
  };
}

/** The DSSE payload bytes of a statement: compact JSON, keys in the caller's order. */
export function statementPayload(statement: unknown): Buffer {
  const issue = checkStatement(statement);
  if (issue) {
    throw new WaybillError(
      'USAGE',
      `statement${issue.pointer}`,
      `refusing to sign an invalid in-toto Statement: ${issue.reason}`,
    );
  }
  return Buffer.from(JSON.stringify(statement), 'utf8');
}

/**
 * Signs `statement` (an in-toto Statement v1 object, checked first) and returns the bundle as its
 * JSON object (the protobuf-specs JSON form). Serialize it with `serializeBundle`.
 */
export async function signStatement(statement: unknown, signer: Signer): Promise<SerializedBundle> {
  const payload = statementPayload(statement);
  // Loaded on first use: @sigstore/sign brings an HTTP stack (for Fulcio and Rekor) that the
  // commands which only read statements (check, inspect) should not pay for at start-up.
  const { DSSEBundleBuilder } = await import('@sigstore/sign');
  const builder = new DSSEBundleBuilder({ signer: sigstoreSigner(signer), witnesses: signer.witnesses() });
  const bundle = await builder.create({ data: payload, type: INTOTO_PAYLOAD_TYPE });
  return bundleToJSON(bundle);
}

/** The bytes written to a `.sigstore.json` file: 2-space JSON and a final newline. */
export function serializeBundle(bundle: SerializedBundle): string {
  return `${JSON.stringify(bundle, null, 2)}\n`;
}
