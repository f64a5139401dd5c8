/** Paths of the public Sigstore / DSSE fixtures the signing tests read in place (../shared/fixtures). */
import { existsSync } from 'node:fs';

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
