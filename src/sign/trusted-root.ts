/**
 * The Sigstore trusted root keyless verification is judged against: Fulcio CA chains, Rekor log keys,
 * CT log keys and timestamp authorities, each with the time range it is trusted for
 * (protobuf-specs sigstore_trustroot.proto, media type application/vnd.dev.sigstore.trustedroot…).
 *
 * Default: the public-good Sigstore trusted root that @sigstore/tuf ships as its TUF seed
 * (`seeds.json`, target `trusted_root.json` of https://tuf-repo-cdn.sigstore.dev). It is read from the
 * installed dependency at run time, so it is exactly as fresh as the package-lock pins it, and its
 * integrity is npm's (the lock file's hash). No network: a newer root is given with --trusted-root.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { WaybillError } from '../errors.ts';

/** The TUF repository whose seed holds the public-good root. */
const PUBLIC_GOOD_TUF = 'https://tuf-repo-cdn.sigstore.dev';
const TUF_PACKAGE = '@sigstore/tuf';
const MEDIA_TYPE_PREFIXES = [
  'application/vnd.dev.sigstore.trustedroot+json',
  'application/vnd.dev.sigstore.trustedroot.v',
];
/** A trusted root is a few KiB; anything far larger is not one. */
const MAX_TRUSTED_ROOT_BYTES = 4 * 1024 * 1024;

export interface TrustedRootInfo {
  /** `embedded` (the public-good root from the installed @sigstore/tuf) or the file path given. */
  source: string;
  /** One line for a report: what it is and how recent. */
  description: string;
  /** The newest start of any key or CA validity in the root (YYYY-MM-DD): its "as of" date. */
  newestKeyDate?: string;
  /** Embedded root only: the package it came from and the TUF root metadata shipped beside it. */
  package?: string;
  tufRootVersion?: number;
  tufRootExpires?: string;
}

export interface LoadedTrustedRoot {
  root: TrustedRoot;
  info: TrustedRootInfo;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function validityStart(range: unknown): string | undefined {
  return isPlainObject(range) && typeof range.start === 'string' ? range.start : undefined;
}

/**
 * Checks what @sigstore/verify would silently default: every validity range needs its start
 * (TimeRange.start is required; a missing one must not turn into "trusted since the beginning of time",
 * sigstore-conformance trust-root-tlog-missing-validity-start). Returns the newest start.
 */
function checkValidityRanges(raw: Record<string, unknown>, source: string): string | undefined {
  let newest: string | undefined;
  const visit = (list: unknown, key: string, rangeOf: (entry: Record<string, unknown>) => unknown) => {
    if (list === undefined) return;
    if (!Array.isArray(list)) throw new WaybillError('MALFORMED', source, `${key} must be a list`);
    list.forEach((entry, i) => {
      if (!isPlainObject(entry))
        throw new WaybillError('MALFORMED', source, `${key}[${i}] must be an object`);
      const start = validityStart(rangeOf(entry));
      if (start === undefined || Number.isNaN(Date.parse(start))) {
        throw new WaybillError('MALFORMED', source, `${key}[${i}]: the validity range has no start time`);
      }
      if (newest === undefined || Date.parse(start) > Date.parse(newest)) newest = start;
    });
  };
  const keyRange = (e: Record<string, unknown>) =>
    isPlainObject(e.publicKey) ? e.publicKey.validFor : undefined;
  visit(raw.tlogs, 'tlogs', keyRange);
  visit(raw.ctlogs, 'ctlogs', keyRange);
  visit(raw.certificateAuthorities, 'certificateAuthorities', (e) => e.validFor);
  visit(raw.timestampAuthorities, 'timestampAuthorities', (e) => e.validFor);
  return newest;
}

/** Parses trusted-root JSON text; MALFORMED (naming `source`) when it is not a usable root. */
export function parseTrustedRoot(
  text: string,
  source: string,
): { root: TrustedRoot; newestKeyDate?: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new WaybillError('MALFORMED', source, `not valid JSON: ${(e as Error).message}`);
  }
  if (!isPlainObject(raw))
    throw new WaybillError('MALFORMED', source, 'a trusted root must be a JSON object');
  const mediaType = raw.mediaType;
  if (typeof mediaType !== 'string' || !MEDIA_TYPE_PREFIXES.some((p) => mediaType.startsWith(p))) {
    throw new WaybillError(
      'MALFORMED',
      source,
      `not a Sigstore trusted root (mediaType ${JSON.stringify(mediaType ?? null)})`,
    );
  }
  const newest = checkValidityRanges(raw, source);
  let root: TrustedRoot;
  try {
    root = TrustedRoot.fromJSON(raw);
  } catch (e) {
    throw new WaybillError('MALFORMED', source, `not a valid trusted root: ${(e as Error).message}`);
  }
  if (root.tlogs.length === 0 && root.certificateAuthorities.length === 0) {
    throw new WaybillError('MALFORMED', source, 'the trusted root names no transparency log and no CA');
  }
  return { root, newestKeyDate: newest?.slice(0, 10) };
}

/** A trusted root file given by the consumer (`--trusted-root FILE`). */
export async function loadTrustedRootFile(path: string): Promise<LoadedTrustedRoot> {
  const bytes = await readFile(path).catch((e: NodeJS.ErrnoException) => {
    throw new WaybillError(
      'NOT_FOUND',
      path,
      e.code === 'ENOENT' ? 'no such file' : `cannot read (${e.code})`,
    );
  });
  if (bytes.length > MAX_TRUSTED_ROOT_BYTES) {
    throw new WaybillError('LIMIT', path, `larger than ${MAX_TRUSTED_ROOT_BYTES} bytes: not a trusted root`);
  }
  const { root, newestKeyDate } = parseTrustedRoot(bytes.toString('utf8'), path);
  return {
    root,
    info: {
      source: path,
      newestKeyDate,
      description: `trusted root ${path}${newestKeyDate ? ` (newest key from ${newestKeyDate})` : ''}`,
    },
  };
}

let embedded: LoadedTrustedRoot | undefined;

/** The public-good root from the installed @sigstore/tuf seeds (read once per process). */
export async function loadEmbeddedTrustedRoot(): Promise<LoadedTrustedRoot> {
  if (embedded) return embedded;
  const require = createRequire(import.meta.url);
  const where = `${TUF_PACKAGE}/seeds.json`;
  let seedsText: string;
  let version: string;
  try {
    seedsText = await readFile(require.resolve(where), 'utf8');
    version = String(
      (
        JSON.parse(await readFile(require.resolve(`${TUF_PACKAGE}/package.json`), 'utf8')) as {
          version?: unknown;
        }
      ).version,
    );
  } catch (e) {
    throw new WaybillError(
      'NOT_FOUND',
      where,
      `the embedded trusted root is missing (${(e as Error).message}); give --trusted-root FILE`,
    );
  }
  const seeds = JSON.parse(seedsText) as Record<
    string,
    { 'root.json'?: string; targets?: Record<string, string> }
  >;
  const seed = seeds[PUBLIC_GOOD_TUF];
  const encoded = seed?.targets?.['trusted_root.json'];
  if (!seed || encoded === undefined) {
    throw new WaybillError('MALFORMED', where, `no trusted_root.json seed for ${PUBLIC_GOOD_TUF}`);
  }
  const source = `${where} (${PUBLIC_GOOD_TUF})`;
  const { root, newestKeyDate } = parseTrustedRoot(Buffer.from(encoded, 'base64').toString('utf8'), source);
  let tufRootVersion: number | undefined;
  let tufRootExpires: string | undefined;
  try {
    const tufRoot = JSON.parse(Buffer.from(seed['root.json'] ?? '', 'base64').toString('utf8')) as {
      signed?: { version?: number; expires?: string };
    };
    tufRootVersion = tufRoot.signed?.version;
    tufRootExpires = tufRoot.signed?.expires?.slice(0, 10);
  } catch {
    // The TUF root is only shown, never used for trust decisions here.
  }
  embedded = {
    root,
    info: {
      source: 'embedded',
      package: `${TUF_PACKAGE} ${version}`,
      newestKeyDate,
      tufRootVersion,
      tufRootExpires,
      description:
        `public-good Sigstore trusted root from ${TUF_PACKAGE} ${version}` +
        (newestKeyDate ? `, newest key from ${newestKeyDate}` : '') +
        (tufRootVersion ? ` (TUF root v${tufRootVersion}, expires ${tufRootExpires})` : ''),
    },
  };
  return embedded;
}

export function loadTrustedRoot(path?: string): Promise<LoadedTrustedRoot> {
  return path ? loadTrustedRootFile(path) : loadEmbeddedTrustedRoot();
}
