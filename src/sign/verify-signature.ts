/**
 * Verifies the signature on one signed item, offline, with the consumer's trust only:
 * - key-based bundles and bare DSSE envelopes against the public keys given (`--key`); transparency
 *   log entries or timestamps a key bundle carries are verified too, against the trusted root;
 * - keyless bundles with @sigstore/verify against the trusted root: Fulcio chain, SCTs, Rekor
 *   inclusion proof and checkpoint or signed entry timestamp, RFC 3161 timestamps, the certificate
 *   valid at the log's integrated time; then the identity policy (identity-policy.ts);
 * - a DSSE envelope that carries its certificate but no log entry cannot be verified offline: the
 *   short-lived certificate has expired and nothing proves when the signature was made.
 *
 * The result is a value, never an exception, for anything wrong with the evidence; only the caller's
 * own input (an unreadable artifact) throws.
 */
import { verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type { Bundle } from '@sigstore/bundle';
import { dsse, X509Certificate } from '@sigstore/core';
import {
  type SignedEntity,
  type TrustMaterial,
  toSignedEntity,
  toTrustMaterial,
  Verifier,
} from '@sigstore/verify';
import { type CertificateIdentity, certificateIdentity } from './certificate-identity.ts';
import { type IdentityPolicy, identityProblem } from './identity-policy.ts';
import type { DsseEnvelope, SignedItem } from './signed-input.ts';
import type { LoadedTrustedRoot } from './trusted-root.ts';

/** A public key the consumer trusts, and where it came from. */
export interface TrustedKey {
  source: string;
  key: KeyObject;
}

export interface SignatureTrust {
  keys: TrustedKey[];
  trustedRoot: LoadedTrustedRoot;
  identity: IdentityPolicy;
  /** The artifact's bytes, for message-signature bundles (which sign the artifact itself). */
  artifactBytes?: () => Promise<Buffer | undefined>;
}

export type SignatureMethod = 'key' | 'keyless' | 'none';

export interface SignatureCheck {
  passed: boolean;
  reason?: string;
  method: SignatureMethod;
  /** The --key that verified (key method). */
  key?: string;
  /** The key hint the signature names, if any. */
  keyHint?: string;
  /** Keyless: what the certificate says, whether or not it was trusted. */
  certificate?: CertificateIdentity;
  /** Transparency-log entries that were verified. */
  tlogEntries?: Array<{ logIndex: string; integratedTime?: string }>;
  /** The signed content: a DSSE payload, or the digest a message signature covers. */
  content:
    | { kind: 'dsse'; payloadType: string; payload: Buffer }
    | { kind: 'message'; algorithm: string; digest: Buffer }
    | { kind: 'none' };
}

/** The reason issue 8 asks for when a certificate cannot be checked without the log's evidence. */
export const OFFLINE_REASON = 'cannot be verified offline: certificate expired / no tlog entry';

function fail(check: Omit<SignatureCheck, 'passed'>, reason: string): SignatureCheck {
  return { ...check, passed: false, reason };
}

function errorMessage(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n')[0] ?? message;
}

/** @sigstore/verify's codes in words a consumer can act on. */
function describeVerifyError(e: unknown): string {
  const code = (e as { code?: string }).code;
  const message = errorMessage(e);
  switch (code) {
    case 'SIGNATURE_ERROR':
      return 'the signature does not verify: the signed content was changed or another key signed it';
    case 'CERTIFICATE_ERROR':
      return `the certificate does not verify against the trusted root: ${message}`;
    case 'TLOG_INCLUSION_PROOF_ERROR':
      return `the transparency-log inclusion proof does not verify: ${message}`;
    case 'TLOG_INCLUSION_PROMISE_ERROR':
      return `the transparency-log signed entry timestamp does not verify: ${message}`;
    case 'TLOG_MISSING_INCLUSION_ERROR':
      return 'the transparency-log entry has neither an inclusion proof nor a signed entry timestamp';
    case 'TLOG_BODY_ERROR':
      return `the transparency-log entry is not for this signature: ${message}`;
    case 'TIMESTAMP_ERROR':
      return `the timestamp does not verify: ${message}`;
    case 'PUBLIC_KEY_ERROR':
      return `the public key does not verify: ${message}`;
    default:
      // Not a verification verdict but a crash walking the evidence: say so.
      return `the bundle's evidence is malformed: ${message}`;
  }
}

function entryTimes(bundle: Bundle): Array<{ logIndex: string; integratedTime?: string }> {
  return bundle.verificationMaterial.tlogEntries.map((entry) => ({
    logIndex: String(entry.logIndex),
    ...(entry.integratedTime && entry.integratedTime !== '0'
      ? { integratedTime: new Date(Number(entry.integratedTime) * 1000).toISOString() }
      : {}),
  }));
}

function leafCertificate(bundle: Bundle): X509Certificate | undefined {
  const content = bundle.verificationMaterial.content;
  if (content.$case === 'certificate')
    return X509Certificate.parse(Buffer.from(content.certificate.rawBytes));
  if (content.$case === 'x509CertificateChain') {
    const first = content.x509CertificateChain.certificates[0];
    return first ? X509Certificate.parse(Buffer.from(first.rawBytes)) : undefined;
  }
  return undefined;
}

function bundleContent(bundle: Bundle): SignatureCheck['content'] {
  if (bundle.content.$case === 'dsseEnvelope') {
    const env = bundle.content.dsseEnvelope;
    return { kind: 'dsse', payloadType: env.payloadType, payload: Buffer.from(env.payload) };
  }
  const digest = bundle.content.messageSignature.messageDigest;
  return {
    kind: 'message',
    algorithm: String(digest?.algorithm ?? 'SHA2_256'),
    digest: Buffer.from(digest?.digest ?? []),
  };
}

/** Trust material whose key finder returns one consumer key whatever the hint says. */
function materialWithKey(trustedRoot: LoadedTrustedRoot, key: KeyObject): TrustMaterial {
  return toTrustMaterial(trustedRoot.root, () => ({ publicKey: key, validFor: () => true }));
}

async function entityOf(bundle: Bundle, trust: SignatureTrust): Promise<SignedEntity | string> {
  if (bundle.content.$case !== 'messageSignature') return toSignedEntity(bundle);
  const bytes = await trust.artifactBytes?.();
  if (bytes === undefined) {
    return 'a message-signature bundle signs the bytes of a file: verify it against the file itself';
  }
  return toSignedEntity(bundle, bytes);
}

async function verifyKeyBundle(
  bundle: Bundle,
  trust: SignatureTrust,
  base: Omit<SignatureCheck, 'passed'>,
): Promise<SignatureCheck> {
  const content = bundle.verificationMaterial.content;
  const hint = content.$case === 'publicKey' ? content.publicKey.hint : undefined;
  const check = { ...base, method: 'key' as const, ...(hint ? { keyHint: hint } : {}) };
  if (trust.keys.length === 0) {
    return fail(check, `signed with a key${hint ? ` (hint ${hint})` : ''}: give its public key with --key`);
  }
  const entity = await entityOf(bundle, trust);
  if (typeof entity === 'string') return fail(check, entity);
  let firstError: unknown;
  for (const trusted of trust.keys) {
    try {
      // A key bundle need not carry log evidence (waybill's own do not); any it carries is verified.
      new Verifier(materialWithKey(trust.trustedRoot, trusted.key), {
        tlogThreshold: 0,
        ctlogThreshold: 0,
        timestampThreshold: 0,
      }).verify(entity);
      return { ...check, passed: true, key: trusted.source, tlogEntries: entryTimes(bundle) };
    } catch (e) {
      firstError ??= e;
    }
  }
  const code = (firstError as { code?: string }).code;
  return fail(
    check,
    code === 'SIGNATURE_ERROR'
      ? `the signature does not verify with ${trust.keys.length === 1 ? 'the key' : 'any key'} given (${trust.keys.map((k) => k.source).join(', ')}): wrong key, or the content was changed`
      : describeVerifyError(firstError),
  );
}

/**
 * The chain is built from the trusted root, never from the bundle: @sigstore/verify uses only the
 * leaf. CA certificates a bundle carries may repeat the trusted root's (old v0.1 bundles carry the
 * whole public-good chain, sigstore_bundle.proto lets verifiers ignore them); a CA certificate the
 * trusted root does not have — a bundle bringing its own root (sigstore-conformance
 * bundle-with-root-cert) — fails.
 */
function untrustedChainCertificate(bundle: Bundle, trustedRoot: LoadedTrustedRoot): string | undefined {
  const content = bundle.verificationMaterial.content;
  if (content.$case !== 'x509CertificateChain') return undefined;
  const trusted = trustedRoot.root.certificateAuthorities.flatMap((ca) =>
    (ca.certChain?.certificates ?? []).map((c) => Buffer.from(c.rawBytes)),
  );
  for (const raw of content.x509CertificateChain.certificates.slice(1)) {
    const der = Buffer.from(raw.rawBytes);
    if (trusted.some((t) => t.equals(der))) continue;
    const cert = X509Certificate.parse(der);
    const root = cert.issuer.equals(cert.subject);
    return `the bundle's certificate chain includes a ${root ? 'root' : 'CA'} certificate the trusted root does not have: CAs come from the trusted root, never from the bundle`;
  }
  return undefined;
}

async function verifyKeylessBundle(
  bundle: Bundle,
  trust: SignatureTrust,
  base: Omit<SignatureCheck, 'passed'>,
): Promise<SignatureCheck> {
  let leaf: X509Certificate | undefined;
  try {
    leaf = leafCertificate(bundle);
  } catch (e) {
    return fail({ ...base, method: 'keyless' }, `the certificate cannot be parsed: ${errorMessage(e)}`);
  }
  if (!leaf) return fail({ ...base, method: 'keyless' }, 'the bundle has an empty certificate chain');
  const check = { ...base, method: 'keyless' as const, certificate: certificateIdentity(leaf) };
  const foreign = untrustedChainCertificate(bundle, trust.trustedRoot);
  if (foreign) return fail(check, foreign);
  const entity = await entityOf(bundle, trust);
  if (typeof entity === 'string') return fail(check, entity);
  if (entity.timestamps.length === 0 && bundle.verificationMaterial.tlogEntries.length === 0) {
    return fail(check, OFFLINE_REASON);
  }
  try {
    new Verifier(toTrustMaterial(trust.trustedRoot.root)).verify(entity);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'TIMESTAMP_ERROR' && entity.timestamps.length === 0) return fail(check, OFFLINE_REASON);
    return fail(check, describeVerifyError(e));
  }
  const problem = identityProblem(trust.identity, check.certificate);
  if (problem) return fail(check, problem);
  return { ...check, passed: true, tlogEntries: entryTimes(bundle) };
}

async function verifyBundle(bundle: Bundle, trust: SignatureTrust): Promise<SignatureCheck> {
  const base = { method: 'none' as const, content: bundleContent(bundle) };
  try {
    return bundle.verificationMaterial.content.$case === 'publicKey'
      ? await verifyKeyBundle(bundle, trust, base)
      : await verifyKeylessBundle(bundle, trust, base);
  } catch (e) {
    // Evidence @sigstore/verify could not even walk (a malformed entry body, an odd certificate).
    return fail(base, `the bundle cannot be verified: ${errorMessage(e)}`);
  }
}

/** ECDSA signatures come DER-encoded (cosign, Sigstore) or as raw r‖s (IEEE P1363, the DSSE vectors). */
function verifyWithKey(pae: Buffer, key: KeyObject, sig: Buffer): boolean {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519' || type === 'ed448') return cryptoVerify(null, pae, key, sig);
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const digest = curve === 'secp384r1' ? 'sha384' : curve === 'secp521r1' ? 'sha512' : 'sha256';
  try {
    if (cryptoVerify(digest, pae, key, sig)) return true;
    return type === 'ec' && cryptoVerify(digest, pae, { key, dsaEncoding: 'ieee-p1363' }, sig);
  } catch {
    return false;
  }
}

function verifyEnvelope(envelope: DsseEnvelope, trust: SignatureTrust): SignatureCheck {
  const base = {
    method: 'key' as const,
    content: { kind: 'dsse' as const, payloadType: envelope.payloadType, payload: envelope.payload },
  };
  if (envelope.signatures.length === 0) return fail(base, 'the DSSE envelope has no signature');
  const pae = dsse.preAuthEncoding(envelope.payloadType, envelope.payload);
  for (const trusted of trust.keys) {
    for (const signature of envelope.signatures) {
      if (verifyWithKey(pae, trusted.key, signature.sig)) {
        return {
          ...base,
          passed: true,
          key: trusted.source,
          ...(signature.keyid ? { keyHint: signature.keyid } : {}),
        };
      }
    }
  }
  const withCertificate = envelope.signatures.find((s) => s.certificatePem !== undefined);
  if (withCertificate?.certificatePem !== undefined) {
    let certificate: CertificateIdentity | undefined;
    try {
      certificate = certificateIdentity(X509Certificate.parse(withCertificate.certificatePem));
    } catch {
      // Shown when readable; the verdict is the same either way.
    }
    return fail({ ...base, method: 'keyless', ...(certificate ? { certificate } : {}) }, OFFLINE_REASON);
  }
  if (trust.keys.length === 0) return fail(base, 'signed with a key: give its public key with --key');
  return fail(
    base,
    `the signature does not verify with ${trust.keys.length === 1 ? 'the key' : 'any key'} given (${trust.keys.map((k) => k.source).join(', ')}): wrong key, or the content was changed`,
  );
}

export async function verifySignedItem(item: SignedItem, trust: SignatureTrust): Promise<SignatureCheck> {
  switch (item.kind) {
    case 'bundle':
      return verifyBundle(item.bundle, trust);
    case 'envelope':
      return verifyEnvelope(item.envelope, trust);
    case 'invalid':
      return { passed: false, reason: item.reason, method: 'none', content: { kind: 'none' } };
  }
}
