/**
 * Paths of the public Sigstore / DSSE fixtures the signing tests read in place (../shared/fixtures),
 * and two independent judges of a bundle: the official Bundle JSON Schema, and @sigstore/verify used
 * on its own (not through waybill's verifier).
 */
import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { Ajv, type ValidateFunction } from 'ajv';

export const FIXTURES = new URL('../../../shared/fixtures/', import.meta.url).pathname;
export const CONFORMANCE = `${FIXTURES}vectors/sigstore-conformance/assets/bundle-verify`;
export const SIGSTORE_JS = `${FIXTURES}vectors/sigstore-js`;
export const GRYPE = `${FIXTURES}vectors/grype-cosign-attestations`;
export const TRIVY = `${FIXTURES}vectors/trivy-sbom-attestations`;
export const DSSE_VECTOR = `${FIXTURES}schemas/dsse/dsse-reference-vector.json`;
export const BUNDLE_SCHEMAS = `${FIXTURES}schemas/sigstore-bundle/jsonschema`;

/** `skip` option for tests that need the shared fixtures: false, or the reason they are skipped. */
export function needsFixtures(path: string): false | string {
  return existsSync(path) ? false : `shared fixtures absent (${path})`;
}

/** The identity and issuer sigstore-conformance cases use when a case does not say (its README.md). */
export const CONFORMANCE_IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
export const CONFORMANCE_ISSUER = 'https://token.actions.githubusercontent.com';

/**
 * Verifies a key-signed bundle (its JSON form) with @sigstore/verify alone, against `publicKeyPem`;
 * throws when it does not verify. No transparency log, CT log or timestamp is required: a key file
 * bundle carries none.
 */
export function independentVerify(json: unknown, publicKeyPem: string): void {
  const bundle = bundleFromJSON(json);
  const empty = TrustedRoot.fromJSON({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [],
    certificateAuthorities: [],
    ctlogs: [],
    timestampAuthorities: [],
  });
  const key = createPublicKey(publicKeyPem);
  const material = toTrustMaterial(empty, () => ({ publicKey: key, validFor: () => true }));
  new Verifier(material, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(
    toSignedEntity(bundle),
  );
}

/**
 * The official generated Bundle schema, read under its own draft-04 rules: keywords beside a `$ref`
 * are ignored (ajv would apply them), and its `oneOf` lists name fields in proto spelling
 * (`dsse_envelope`) while the JSON mapping the properties use is lowerCamelCase (`dsseEnvelope`), a
 * defect of protoc-gen-jsonschema; both are normalized here, and real public bundles must pass too.
 */
export function bundleValidator(): ValidateFunction {
  const schema = JSON.parse(readFileSync(join(BUNDLE_SCHEMAS, 'Bundle.schema.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  delete schema.$schema;
  const camel = (name: string) => name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
  const normalize = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(normalize);
    if (typeof node !== 'object' || node === null) return node;
    const object = node as Record<string, unknown>;
    if (typeof object.$ref === 'string') return { $ref: object.$ref };
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(object)) {
      out[key] =
        key === 'required' && Array.isArray(value) ? value.map((v) => camel(String(v))) : normalize(value);
    }
    return out;
  };
  return new Ajv({ strict: false, allErrors: true }).compile({
    $ref: schema.$ref,
    definitions: normalize(schema.definitions),
  });
}
