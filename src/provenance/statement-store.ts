/**
 * The one place where build and rebuild statements (SLSA provenance, rebuild verdicts) are written,
 * and the seam where signing plugs in.
 *
 * A statement for artifact `NAME` is the sidecar `NAME.<kind>.json` (the Statement itself, pretty
 * printed, keys in a fixed order); signed, it is also `NAME.<kind>.sigstore.json`, a Sigstore bundle
 * v0.3 holding the DSSE envelope. Signing lives in src/sign (`signStatement(statement, signer)`,
 * `KeyFileSigner`), which is built on another branch: until it is merged, `signerFromKeyFile` and a
 * signed `storeStatement` refuse with a clear message rather than write an unsigned file where a
 * signed one was asked for. Wiring it in means replacing the two marked lines below.
 */
import { WaybillError } from '../errors.ts';
import { checkStatement } from '../record/intoto.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';

/** A signer from src/sign (key file now; keyless and KMS later). Opaque here. */
export type StatementSigner = { readonly signerKind: string };

export interface StoredStatement {
  /** The Statement sidecar. */
  path: string;
  /** The Sigstore bundle, when signed. */
  bundle?: string;
}

const NOT_WIRED =
  'signing is not available in this build yet (the src/sign module is not merged); run without --key and WAYBILL_KEY';

/** The signer for `--key FILE` / `WAYBILL_KEY`. */
export async function signerFromKeyFile(keyFile: string): Promise<StatementSigner> {
  // Wire-in point 1: return new KeyFileSigner(keyFile) from src/sign.
  throw new WaybillError('UNSUPPORTED', keyFile, NOT_WIRED);
}

/** `dist/hello.tar.gz`, `provenance` → `dist/hello.tar.gz.provenance.json`. */
export function statementPath(artifactPath: string, kind: string): string {
  return `${artifactPath.replace(/\/+$/, '')}.${kind}.json`;
}

/** The bundle sidecar next to a statement sidecar: `X.provenance.json` → `X.provenance.sigstore.json`. */
export function bundlePath(statementFile: string): string {
  return statementFile.replace(/\.json$/, '.sigstore.json');
}

export function serializeStatement(statement: object): string {
  return `${JSON.stringify(statement, null, 2)}\n`;
}

/**
 * Writes `statement` to `path` (atomically), and its signed bundle beside it when a signer is given.
 * An invalid Statement is never written.
 */
export async function storeStatement(
  path: string,
  statement: object,
  signer?: StatementSigner,
): Promise<StoredStatement> {
  const issue = checkStatement(statement);
  if (issue)
    throw new WaybillError(
      'USAGE',
      path,
      `refusing to write an invalid statement: ${issue.pointer} ${issue.reason}`,
    );
  if (signer !== undefined) {
    // Wire-in point 2: const bundle = await signStatement(statement, signer); write it to bundlePath(path).
    throw new WaybillError('UNSUPPORTED', path, NOT_WIRED);
  }
  await writeFileAtomic(path, serializeStatement(statement));
  return { path };
}
