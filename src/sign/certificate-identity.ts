/**
 * What a Fulcio certificate says about who signed: the subject alternative name, the OIDC issuer and
 * the build facts CI providers put in Sigstore's extensions (fulcio docs/oid-info.md, arc
 * 1.3.6.1.4.1.57264.1). Extensions .1.8 and later are DER UTF8Strings; .1.1 (the legacy issuer) is
 * raw bytes.
 */
import { ASN1Obj, X509Certificate } from '@sigstore/core';

export interface CertificateIdentity {
  subjectAlternativeName?: string;
  issuer?: string;
  /** 1.3.6.1.4.1.57264.1.9: the workflow (reusable workflow for SLSA builders) that signed. */
  buildSignerUri?: string;
  /** .1.12 */
  sourceRepositoryUri?: string;
  /** .1.13 */
  sourceRepositoryDigest?: string;
  /** .1.14 */
  sourceRepositoryRef?: string;
  /** .1.18 */
  buildConfigUri?: string;
  /** .1.21 */
  runInvocationUri?: string;
  notBefore: string;
  notAfter: string;
}

const OID = {
  issuerV1: '1.3.6.1.4.1.57264.1.1',
  issuer: '1.3.6.1.4.1.57264.1.8',
  buildSignerUri: '1.3.6.1.4.1.57264.1.9',
  sourceRepositoryUri: '1.3.6.1.4.1.57264.1.12',
  sourceRepositoryDigest: '1.3.6.1.4.1.57264.1.13',
  sourceRepositoryRef: '1.3.6.1.4.1.57264.1.14',
  buildConfigUri: '1.3.6.1.4.1.57264.1.18',
  runInvocationUri: '1.3.6.1.4.1.57264.1.21',
} as const;

/** UTF8String tag (X.690): the v2 extensions' values. */
const UTF8_STRING = 0x0c;

function utf8Extension(cert: X509Certificate, oid: string): string | undefined {
  const ext = cert.extension(oid);
  if (!ext) return undefined;
  try {
    const inner = ASN1Obj.parseBuffer(Buffer.from(ext.value));
    if (inner.tag.number === UTF8_STRING) return inner.value.toString('utf8');
  } catch {
    // Not DER: fall through to undefined rather than guess.
  }
  return undefined;
}

export function certificateIdentity(cert: X509Certificate): CertificateIdentity {
  const legacyIssuer = cert.extension(OID.issuerV1)?.value.toString('utf8');
  const identity: CertificateIdentity = {
    subjectAlternativeName: cert.subjectAltName,
    issuer: utf8Extension(cert, OID.issuer) ?? legacyIssuer,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
  };
  for (const key of [
    'buildSignerUri',
    'sourceRepositoryUri',
    'sourceRepositoryDigest',
    'sourceRepositoryRef',
    'buildConfigUri',
    'runInvocationUri',
  ] as const) {
    const value = utf8Extension(cert, OID[key]);
    if (value !== undefined) identity[key] = value;
  }
  return identity;
}

export function parseCertificatePem(pem: string): X509Certificate {
  return X509Certificate.parse(pem);
}
