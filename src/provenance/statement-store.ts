/**
 * The one place where build and rebuild statements (SLSA provenance, rebuild verdicts) are written.
 *
 * A statement about output `NAME` is the sidecar `NAME.<kind>.json` (the Statement itself, pretty
 * printed, keys in a fixed order). With a signer it is also signed as a DSSE envelope in a Sigstore
 * bundle v0.3 (src/sign), stored beside it as `NAME.<kind>.sigstore.json`; for an OCI image layout
 * that `build` produced, the bundle is instead attached to the image in the layout (an OCI artifact
 * whose subject is the image, as `stamp` attaches bundles), so a push carries it along. An invalid
 * Statement is never written or signed.
 */
import { unlink } from 'node:fs/promises';
import { saveStatementBundle } from '../app/attachments.ts';
import { WaybillError } from '../errors.ts';
import { checkStatement } from '../record/intoto.ts';
import { serializeBundle, signStatement } from '../sign/sign-statement.ts';
import type { Signer } from '../sign/signer.ts';
import type { StatementKind } from '../sign/statement.ts';
import { openArtifact } from '../sources/open.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { imageReference } from './build/output-digest.ts';

export interface StatementTarget {
  /** The output (a file, or an OCI layout directory) the statement is about. */
  path: string;
  kind: 'file' | 'oci-layout';
  /** Attach the signed bundle to the image in the layout instead of writing a sidecar bundle. */
  attach?: boolean;
}

export interface StoredStatement {
  /** The Statement sidecar. */
  path: string;
  /** Where the signed bundle went (a sidecar path, or `oci:sha256:…` in the layout), when signed. */
  bundle?: string;
}

/** `dist/hello.tar.gz`, `provenance` → `dist/hello.tar.gz.provenance.json`. */
export function statementPath(artifactPath: string, kind: StatementKind): string {
  return `${artifactPath.replace(/\/+$/, '')}.${kind}.json`;
}

export function serializeStatement(statement: object): string {
  return `${JSON.stringify(statement, null, 2)}\n`;
}

/** `X.provenance.json` → `X.provenance.sigstore.json`. */
export function bundlePathFor(statementFile: string): string {
  return statementFile.replace(/\.json$/, '.sigstore.json');
}

/**
 * Writes `statement` as `<target>.<kind>.json` (atomically), and signs and stores its bundle when a
 * signer is given. `sidecar` overrides where the Statement itself goes (a verdict kept in `--out`).
 */
export async function storeStatement(
  target: StatementTarget,
  kind: StatementKind,
  statement: { predicateType: string },
  signer?: Signer,
  sidecar = statementPath(target.path, kind),
): Promise<StoredStatement> {
  const issue = checkStatement(statement);
  if (issue) {
    throw new WaybillError(
      'USAGE',
      sidecar,
      `refusing to write an invalid statement: ${issue.pointer} ${issue.reason}`,
    );
  }
  await writeFileAtomic(sidecar, serializeStatement(statement));
  if (!signer) {
    // A bundle left by an earlier signed run signs a statement that no longer exists (as `stamp`
    // without a key removes its bundles): `verify` would judge the new copy edited after signing.
    await unlink(bundlePathFor(sidecar)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    return { path: sidecar };
  }
  const bundleJson = serializeBundle(await signStatement(statement, signer));
  if (target.kind === 'oci-layout' && target.attach) {
    const image = await openArtifact(await imageReference(target.path));
    return {
      path: sidecar,
      bundle: await saveStatementBundle(image, kind, statement.predicateType, bundleJson),
    };
  }
  const bundle = bundlePathFor(sidecar);
  await writeFileAtomic(bundle, bundleJson);
  return { path: sidecar, bundle };
}
