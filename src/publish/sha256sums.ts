/**
 * `SHA256SUMS` as GNU coreutils writes and checks it (`sha256sum`, `sha256sum -c`; coreutils manual,
 * "md5sum invocation"): one line per file, `HEX␠␠NAME` (text mode) or `HEX␠*NAME` (binary mode, the
 * same digest on POSIX). A name holding `\`, a newline or a carriage return is written escaped
 * (`\\`, `\n`, `\r`) on a line that starts with `\`. The BSD form `sha256sum --tag` writes,
 * `SHA256 (NAME) = HEX`, is read too.
 *
 * Written: lines sorted by the bytes of the name (the C locale's order), text mode, lowercase hex,
 * `\n` endings — the file a release directory's `sha256sum -c SHA256SUMS` checks.
 */
import { WaybillError } from '../errors.ts';

export interface ChecksumLine {
  /** The file name as listed (unescaped). */
  name: string;
  /** `sha256:<hex>`, lowercase. */
  digest: string;
}

/** A checksum list bigger than this is not a release directory's. */
export const MAX_SUMS_BYTES = 4 * 1024 * 1024;

const GNU_LINE = /^([0-9a-fA-F]{64}) ([ *])(.+)$/s;
const BSD_LINE = /^SHA256 \((.+)\) = ([0-9a-fA-F]{64})$/s;

function unescapeName(name: string): string | undefined {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i] as string;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = name[++i];
    if (next === '\\') out += '\\';
    else if (next === 'n') out += '\n';
    else if (next === 'r') out += '\r';
    else return undefined;
  }
  return out;
}

function escapeName(name: string): { escaped: boolean; text: string } {
  if (!/[\\\n\r]/.test(name)) return { escaped: false, text: name };
  return {
    escaped: true,
    text: name.replace(/[\\\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : '\\r')),
  };
}

/**
 * Parses a checksum list. Every non-empty line must be a SHA-256 line; a name listed twice, a line
 * of another algorithm or length, or a bad escape is MALFORMED naming `input` and the line number.
 */
export function parseSha256Sums(text: string, input: string): ChecksumLine[] {
  const lines: ChecksumLine[] = [];
  const seen = new Set<string>();
  const rows = text.split('\n');
  if (rows.at(-1) === '') rows.pop();
  rows.forEach((raw, i) => {
    const bad = (why: string) => new WaybillError('MALFORMED', input, `line ${i + 1}: ${why}`);
    // A list edited on Windows ends its lines with CR LF; coreutils ignores the CR too.
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') return;
    const escaped = line.startsWith('\\');
    if (escaped) line = line.slice(1);
    const gnu = GNU_LINE.exec(line);
    const bsd = gnu ? undefined : BSD_LINE.exec(line);
    if (!gnu && !bsd) throw bad('not a SHA-256 checksum line ("HEX  NAME")');
    const hex = (gnu ? gnu[1] : bsd?.[2]) as string;
    const listed = (gnu ? gnu[3] : bsd?.[1]) as string;
    const name = escaped ? unescapeName(listed) : listed;
    if (name === undefined) throw bad('bad escape in the file name');
    if (seen.has(name)) throw bad(`${JSON.stringify(name)} is listed twice`);
    seen.add(name);
    lines.push({ name, digest: `sha256:${hex.toLowerCase()}` });
  });
  return lines;
}

/** Orders names by their UTF-8 bytes, as `LC_ALL=C sort` does. */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The checksum list for `lines`: sorted by name, GNU text mode. Names must be distinct. */
export function formatSha256Sums(lines: readonly ChecksumLine[]): string {
  const sorted = [...lines].sort((a, b) => compareNames(a.name, b.name));
  let out = '';
  for (const [i, { name, digest }] of sorted.entries()) {
    if (i > 0 && sorted[i - 1]?.name === name) throw new Error(`SHA256SUMS: ${name} listed twice`);
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new Error(`SHA256SUMS: bad digest ${digest}`);
    const { escaped, text } = escapeName(name);
    out += `${escaped ? '\\' : ''}${digest.slice('sha256:'.length)}  ${text}\n`;
  }
  return out;
}
