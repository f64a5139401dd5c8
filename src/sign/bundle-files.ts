/**
 * Where signed statements sit next to an artifact `NAME` (issue 8, "Details"):
 * - `NAME.<kind>.sigstore.json`: a Sigstore bundle per statement (record, sbom, provenance, rebuild);
 * - `NAME.sigstore.json` / `NAME.sigstore`: a bundle as cosign `--bundle` and slsa-github-generator
 *   v2 name it;
 * - `NAME.intoto.jsonl`: DSSE envelopes or bundles, one per line (slsa-github-generator v1, BCR).
 * The record itself stays `NAME.waybill.json`.
 */
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { StatementKind } from './statement.ts';

/** The OCI artifactType and payload media type of an attached bundle (bundle spec, media types). */
export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** The annotation cosign and sigstore tools put on an attached bundle naming its predicate type. */
export const BUNDLE_PREDICATE_ANNOTATION = 'dev.sigstore.bundle.predicateType';

export const BUNDLE_SUFFIX = '.sigstore.json';

function trimmed(artifactPath: string): string {
  return artifactPath.replace(/[/\\]+$/, '');
}

/**
 * `.provenance.sigstore.json`: what follows the artifact's name in a bundle sidecar's. `kind` is a
 * statement kind, or `audit` for `audit --attach`'s vulnerability statement.
 */
export function bundleSuffix(kind: StatementKind | 'audit'): string {
  return `.${kind}${BUNDLE_SUFFIX}`;
}

/** `dist/app.deb` + `provenance` → `dist/app.deb.provenance.sigstore.json`. */
export function bundleSidecarPath(artifactPath: string, kind: StatementKind): string {
  const path = trimmed(artifactPath);
  return join(dirname(path), `${basename(path)}${bundleSuffix(kind)}`);
}

/** Does `file` (a name in the artifact's directory) hold signed statements about artifact `name`? */
export function isSidecarOf(name: string, file: string): boolean {
  if (!file.startsWith(`${name}.`)) return false;
  const rest = file.slice(name.length + 1);
  if (rest === 'intoto.jsonl' || rest === 'sigstore.json' || rest === 'sigstore') return true;
  // NAME.<kind>.sigstore.json with one plain component as the kind.
  return /^[a-z0-9][a-z0-9-]*\.sigstore\.json$/.test(rest);
}

/** The sidecar statement files next to the artifact, sorted by name. */
export async function findSidecarBundles(artifactPath: string): Promise<string[]> {
  const path = trimmed(artifactPath);
  const dir = dirname(path);
  const name = basename(path);
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && isSidecarOf(name, e.name))
    .map((e) => join(dir, e.name))
    .sort();
}
