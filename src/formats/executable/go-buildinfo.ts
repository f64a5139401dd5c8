/**
 * Go build information embedded by the Go linker (what `go version -m` prints).
 *
 * Where: ELF section `.go.buildinfo`, Mach-O `__DATA,__go_buildinfo`; otherwise (PE, old linkers)
 * near the start of the first writable data section/segment. The blob starts with the 14-byte magic
 * "\xff Go buildinf:" at a 16-byte aligned offset; byte 14 is the pointer size, byte 15 flags.
 *  - flags & 2 (Go >= 1.18): the version and modinfo strings follow the 32-byte header inline, each
 *    prefixed by its length as an unsigned varint.
 *  - otherwise (Go < 1.18): two pointers at offset 16 to Go string headers {data pointer, length}
 *    in the program's memory, read through the virtual-address map; flags & 1 = big-endian.
 * The modinfo text is framed by two 16-byte sentinels, stripped here; its lines are
 * `path`, `mod`, `dep`, `=>` (replacement of the line before) and `build key=value`.
 */
import { WaybillError } from '../../errors.ts';
import { type Executable, findSection, readVirtual } from './sections.ts';

export const GO_BUILDINFO_MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const HEADER_SIZE = 32;
const ALIGN = 16;
const FLAG_BIG_ENDIAN = 1;
const FLAG_INLINE = 2;
/** A version or modinfo string longer than this is garbage, not build info. */
const MAX_STRING = 16 * 1024 * 1024;
/** Pre-1.18 linkers put the blob near the start of the data segment; Go's reader looks at 64 KiB. */
const DATA_SCAN = 64 * 1024;

export interface GoModule {
  path: string;
  version: string;
  /** `h1:` go.sum hash; empty when absent (main module, vendored or replaced deps). */
  sum: string;
  replace?: GoModule;
}

export interface GoBuildSetting {
  key: string;
  value: string;
}

export interface GoBuildInfo {
  /** `go1.22.1`, as written by the toolchain. */
  goVersion: string;
  /** The main package path (`path` line). */
  path: string;
  main?: GoModule;
  deps: GoModule[];
  settings: GoBuildSetting[];
  /** Which layout the blob used: `inline` (Go >= 1.18) or `pointer` (older). */
  layout: 'inline' | 'pointer';
}

/** Build info of a parsed executable; undefined when it is not a Go program. Throws WaybillError. */
export function readGoBuildInfo(exe: Executable, name: string): GoBuildInfo | undefined {
  for (const slice of exe.slices ?? [exe]) {
    const found = readFromSlice(slice, name);
    if (found) return found;
  }
  return undefined;
}

function readFromSlice(exe: Executable, name: string): GoBuildInfo | undefined {
  for (const region of candidateRegions(exe)) {
    const at = findGoBuildInfo(region.data);
    if (at < 0) continue;
    return decodeBlob(exe, region.data.subarray(at), name);
  }
  return undefined;
}

function candidateRegions(exe: Executable): Array<{ data: Buffer }> {
  const named =
    findSection(exe, '.go.buildinfo') ??
    findSection(exe, '__DATA,__go_buildinfo') ??
    findSection(exe, '__go_buildinfo');
  if (named) return [named];
  const out: Array<{ data: Buffer }> = [];
  if (exe.format === 'pe') {
    const data = findSection(exe, '.data');
    if (data) out.push({ data: data.data.subarray(0, DATA_SCAN) });
  } else if (exe.format === 'macho') {
    const data = findSection(exe, '__DATA,__data');
    if (data) out.push({ data: data.data.subarray(0, DATA_SCAN) });
  } else {
    // Go's reader: the first loadable segment that is writable and not executable.
    const seg = exe.segments.find((s) => s.type === 1 && s.writable && !s.executable);
    if (seg) out.push({ data: seg.data.subarray(0, DATA_SCAN) });
    const data = findSection(exe, '.data');
    if (data) out.push({ data: data.data.subarray(0, DATA_SCAN) });
  }
  return out;
}

/** Offset of the build info blob in `data` (the magic, 16-byte aligned, a whole header), or -1. */
export function findGoBuildInfo(data: Buffer): number {
  let from = 0;
  for (;;) {
    const i = data.indexOf(GO_BUILDINFO_MAGIC, from);
    if (i < 0 || data.length - i < HEADER_SIZE) return -1;
    if (i % ALIGN === 0) return i;
    from = i + 1;
  }
}

function decodeBlob(exe: Executable, blob: Buffer, name: string): GoBuildInfo {
  const ptrSize = blob[14]!;
  const flags = blob[15]!;
  let version: string;
  let modinfo: string;
  let layout: GoBuildInfo['layout'];
  if (flags & FLAG_INLINE) {
    layout = 'inline';
    const v = readVarintString(blob, HEADER_SIZE, name);
    const m = readVarintString(blob, v.next, name);
    version = v.value;
    modinfo = m.value;
  } else {
    layout = 'pointer';
    if (ptrSize !== 4 && ptrSize !== 8) {
      throw new WaybillError('MALFORMED', name, `Go build info pointer size ${ptrSize} is neither 4 nor 8`);
    }
    const big = (flags & FLAG_BIG_ENDIAN) !== 0;
    const readPtr = (b: Buffer, o: number): bigint => {
      if (o + ptrSize > b.length)
        throw new WaybillError('MALFORMED', name, 'Go build info header is truncated');
      if (ptrSize === 4) return BigInt(big ? b.readUInt32BE(o) : b.readUInt32LE(o));
      return big ? b.readBigUInt64BE(o) : b.readBigUInt64LE(o);
    };
    version = readGoString(exe, readPtr(blob, 16), ptrSize, readPtr, name);
    modinfo = readGoString(exe, readPtr(blob, 16 + ptrSize), ptrSize, readPtr, name);
  }
  return { ...parseModinfo(stripSentinels(modinfo), name), goVersion: version, layout };
}

function readVarintString(buf: Buffer, at: number, name: string): { value: string; next: number } {
  let len = 0;
  let shift = 0;
  let i = at;
  for (;;) {
    if (i >= buf.length)
      throw new WaybillError('MALFORMED', name, 'Go build info string length is truncated');
    const b = buf[i++]!;
    len += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
    if (shift > 35)
      throw new WaybillError('MALFORMED', name, 'Go build info string length varint is too long');
  }
  if (len > MAX_STRING || i + len > buf.length) {
    throw new WaybillError('MALFORMED', name, `Go build info string of ${len} bytes runs past its section`);
  }
  return { value: buf.toString('utf8', i, i + len), next: i + len };
}

function readGoString(
  exe: Executable,
  headerAddr: bigint,
  ptrSize: 4 | 8,
  readPtr: (b: Buffer, o: number) => bigint,
  name: string,
): string {
  const header = readVirtual(exe, headerAddr, 2 * ptrSize);
  if (!header)
    throw new WaybillError(
      'MALFORMED',
      name,
      `Go build info points to unmapped address 0x${headerAddr.toString(16)}`,
    );
  const dataAddr = readPtr(header, 0);
  const len = readPtr(header, ptrSize);
  if (len === 0n) return '';
  if (len > BigInt(MAX_STRING))
    throw new WaybillError('MALFORMED', name, `Go build info string of ${len} bytes`);
  const data = readVirtual(exe, dataAddr, Number(len));
  if (!data)
    throw new WaybillError(
      'MALFORMED',
      name,
      `Go build info string at unmapped address 0x${dataAddr.toString(16)}`,
    );
  return data.toString('utf8');
}

/**
 * The linker wraps modinfo in 16 bytes of sentinel on each side (cmd/go/internal/modload
 * infoStart/infoEnd) so the runtime can find it; the text itself starts after the first and ends
 * with a newline just before the second.
 */
function stripSentinels(s: string): string {
  if (s.length >= 33 && s[s.length - 17] === '\n') return s.slice(16, s.length - 16);
  return s;
}

/** Parse modinfo text (runtime/debug.ParseBuildInfo's format, minus the `go` line). */
export function parseModinfo(text: string, name: string): Omit<GoBuildInfo, 'goVersion' | 'layout'> {
  const info: Omit<GoBuildInfo, 'goVersion' | 'layout'> = { path: '', deps: [], settings: [] };
  let last: GoModule | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const tab = line.indexOf('\t');
    const word = tab < 0 ? line : line.slice(0, tab);
    const rest = tab < 0 ? '' : line.slice(tab + 1);
    if (word === 'path') {
      info.path = rest;
    } else if (word === 'mod' || word === 'dep') {
      const mod = parseModule(rest, word, name);
      if (word === 'mod') info.main = mod;
      else info.deps.push(mod);
      last = mod;
    } else if (word === '=>') {
      if (!last)
        throw new WaybillError(
          'MALFORMED',
          name,
          'Go modinfo has a replacement (=>) with no module before it',
        );
      last.replace = parseModule(rest, word, name);
      last = undefined;
    } else if (word === 'build') {
      info.settings.push(parseSetting(rest, name));
    }
    // Unknown words (a future toolchain's additions) are skipped, as Go's own parser does for `go`.
  }
  return info;
}

function parseModule(rest: string, word: string, name: string): GoModule {
  const f = rest.split('\t');
  if (f.length < 1 || f.length > 3 || f[0] === '') {
    throw new WaybillError('MALFORMED', name, `Go modinfo ${word} line has ${f.length} fields`);
  }
  return { path: f[0]!, version: f[1] ?? '', sum: f[2] ?? '' };
}

/** `key=value`, where key and value may each be a Go-quoted string (when they hold spaces, `=`, quotes…). */
function parseSetting(rest: string, name: string): GoBuildSetting {
  let key: string;
  let i: number;
  if (rest.startsWith('"')) {
    const q = readQuoted(rest, 0, name);
    key = q.value;
    i = q.next;
  } else {
    i = rest.indexOf('=');
    if (i < 0)
      throw new WaybillError('MALFORMED', name, `Go build setting without '=': ${rest.slice(0, 60)}`);
    key = rest.slice(0, i);
  }
  if (rest[i] !== '=')
    throw new WaybillError('MALFORMED', name, `Go build setting without '=': ${rest.slice(0, 60)}`);
  const raw = rest.slice(i + 1);
  const value = raw.startsWith('"') ? readQuoted(raw, 0, name).value : raw;
  return { key, value };
}

/** A Go interpreted string literal (strconv.Quote output): \" \\ \n \t \xHH \uHHHH \UHHHHHHHH \ooo. */
function readQuoted(s: string, at: number, name: string): { value: string; next: number } {
  const bytes: number[] = [];
  let i = at + 1;
  const pushText = (t: string) => {
    for (const b of Buffer.from(t, 'utf8')) bytes.push(b);
  };
  while (i < s.length) {
    const c = s[i]!;
    if (c === '"') return { value: Buffer.from(bytes).toString('utf8'), next: i + 1 };
    if (c !== '\\') {
      const cp = s.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      pushText(ch);
      i += ch.length;
      continue;
    }
    const e = s[i + 1];
    const simple: Record<string, string> = {
      n: '\n',
      t: '\t',
      r: '\r',
      a: '\x07',
      b: '\b',
      f: '\f',
      v: '\v',
      '\\': '\\',
      '"': '"',
      "'": "'",
    };
    if (e !== undefined && simple[e] !== undefined) {
      pushText(simple[e]);
      i += 2;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = s.slice(i + 2, i + 2 + n);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) throw badQuote(name);
      const v = Number.parseInt(hex, 16);
      if (e === 'x') bytes.push(v);
      else if (v > 0x10ffff) throw badQuote(name);
      else pushText(String.fromCodePoint(v));
      i += 2 + n;
    } else if (e !== undefined && e >= '0' && e <= '7') {
      const oct = s.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(oct)) throw badQuote(name);
      bytes.push(Number.parseInt(oct, 8) & 0xff);
      i += 4;
    } else {
      throw badQuote(name);
    }
  }
  throw badQuote(name);
}

function badQuote(name: string): WaybillError {
  return new WaybillError('MALFORMED', name, 'Go build setting has a broken quoted string');
}
