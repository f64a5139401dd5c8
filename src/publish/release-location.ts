/**
 * Where a release directory and its entries are named:
 *
 * - a consumer names one published file: `https://HOST[/PREFIX]/NAME/VERSION/FILE` (plain `http://`
 *   only to a loopback host, as for registries), or on this machine `file:///ROOT/NAME/VERSION/FILE`;
 * - a publisher names the directory's root: `dir:ROOT` or `file:///ROOT` (`parseReleaseTarget`).
 *
 * The last three segments of an entry are NAME, VERSION and FILE, percent-decoded and each checked as
 * release-names.ts requires; what comes before them is the root. A query or fragment is refused: the
 * sidecars, SHA256SUMS and index.json are found next to the file by path alone, so a signed or
 * session URL could not reach them.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WaybillError } from '../errors.ts';
import { describeUrl } from '../registry/server-text.ts';
import { requireSegment } from './release-names.ts';

/** Where a release directory's files are read from. */
export type ReleaseSite = { kind: 'local'; root: string } | { kind: 'http'; root: URL };

export interface ReleaseLocation {
  /** The reference as given (never a path: URLs with credentials are refused before this). */
  input: string;
  site: ReleaseSite;
  name: string;
  version: string;
  file: string;
}

const URL_PREFIXES = ['https://', 'http://', 'file://'];

/** Is `ref` a release-directory entry (an http(s) or file URL)? */
export function isReleaseReference(ref: string): boolean {
  const lower = ref.slice(0, 8).toLowerCase();
  return URL_PREFIXES.some((p) => lower.startsWith(p));
}

function decodeSegment(raw: string, input: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new WaybillError(
      'USAGE',
      input,
      `the path segment ${JSON.stringify(raw.slice(0, 100))} is not valid percent-encoding`,
    );
  }
}

/** The entry `ref` names (see above). USAGE, one line, for anything else. */
export function parseReleaseLocation(ref: string): ReleaseLocation {
  let url: URL;
  try {
    url = new URL(ref);
  } catch {
    throw new WaybillError('USAGE', 'release URL', 'is not a valid URL');
  }
  // Never echo a URL with user info: that part is a credential.
  const input = url.username || url.password ? `${url.protocol}//(credentials hidden)@${url.host}` : ref;
  if (url.username || url.password)
    throw new WaybillError(
      'AUTH',
      input,
      'a release URL carries credentials; release directories are read without them',
    );
  if (url.search !== '' || url.hash !== '')
    throw new WaybillError(
      'USAGE',
      input,
      'a release URL names a file by its path alone (no ?query or #fragment)',
    );
  if (url.protocol === 'file:') return parseFileLocation(url, input);
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new WaybillError('USAGE', input, `unsupported scheme ${url.protocol}`);
  const raw = url.pathname.split('/');
  if (raw.length < 4 || raw.at(-1) === '')
    throw new WaybillError('USAGE', input, 'a release URL names a file: https://HOST/NAME/VERSION/FILE');
  const [name, version, file] = raw.slice(-3).map((s) => decodeSegment(s, input)) as [string, string, string];
  const root = new URL(url.href);
  root.pathname = `${raw.slice(0, -3).join('/')}/`;
  return {
    input: describeUrl(url),
    site: { kind: 'http', root },
    name: requireSegment(name, 'name', input),
    version: requireSegment(version, 'version', input),
    file: requireSegment(file, 'file', input),
  };
}

function parseFileLocation(url: URL, input: string): ReleaseLocation {
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch (e) {
    throw new WaybillError('USAGE', input, `not a local file URL (${(e as Error).message.split('\n')[0]})`);
  }
  const parts = path.split('/');
  if (parts.length < 5 || parts.at(-1) === '')
    throw new WaybillError('USAGE', input, 'a release file URL names a file: file:///ROOT/NAME/VERSION/FILE');
  const [name, version, file] = parts.slice(-3) as [string, string, string];
  return {
    input,
    site: { kind: 'local', root: dirname(dirname(dirname(path))) },
    name: requireSegment(name, 'name', input),
    version: requireSegment(version, 'version', input),
    file: requireSegment(file, 'file', input),
  };
}

/** The root directory a publisher names with `dir:ROOT` or `file:///ROOT`; undefined for other targets. */
export function parseReleaseTarget(target: string): string | undefined {
  if (target.startsWith('dir:')) {
    const path = target.slice('dir:'.length);
    if (path === '') throw new WaybillError('USAGE', target, 'names no directory');
    return resolve(path);
  }
  if (!target.toLowerCase().startsWith('file://')) return undefined;
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new WaybillError('USAGE', target, 'is not a valid file URL');
  }
  if (url.search !== '' || url.hash !== '')
    throw new WaybillError('USAGE', target, 'a release directory URL has no ?query or #fragment');
  try {
    return fileURLToPath(url);
  } catch (e) {
    throw new WaybillError('USAGE', target, `not a local file URL (${(e as Error).message.split('\n')[0]})`);
  }
}
