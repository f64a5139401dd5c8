/**
 * Python wheels (PyPA "Binary distribution format", PEP 427/491): a zip whose
 * `{name}-{version}.dist-info/` holds METADATA (core metadata), WHEEL (`Tag:` lines) and RECORD (a
 * CSV of every file with `algo=urlsafe-base64-nopad` hash and size). The file name carries the
 * compatibility tags: `{dist}-{ver}(-{build})?-{py}-{abi}-{plat}.whl`, each tag part possibly a
 * `.`-joined set (`manylinux_2_17_x86_64.manylinux2014_x86_64`).
 *
 * Reading verifies RECORD against the archive (what pip does at install time), so a wheel whose
 * files were changed after it was built is MALFORMED, naming the file.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { openZip, type ZipArchive, type ZipLimits } from '../../archive/zip-reader.ts';
import { WaybillError } from '../../errors.ts';
import { emptyFacts, type Fact, type NativeFacts } from '../facts.ts';
import {
  type CoreMetadata,
  getAll,
  getDescription,
  getField,
  parseCoreMetadata,
  parseProjectUrl,
  wellKnownLabel,
} from './core-metadata.ts';

export interface WheelFilename {
  distribution: string;
  version: string;
  build?: string;
  pythonTags: string[];
  abiTags: string[];
  platformTags: string[];
}

/** Parse a wheel file name; undefined when it does not have the 5 or 6 dash-separated parts. */
export function parseWheelFilename(fileName: string): WheelFilename | undefined {
  const base = basename(fileName);
  if (!base.toLowerCase().endsWith('.whl')) return undefined;
  const parts = base.slice(0, -4).split('-');
  if (parts.length !== 5 && parts.length !== 6) return undefined;
  if (parts.some((p) => p === '')) return undefined;
  const [distribution, version] = parts as [string, string];
  const [py, abi, plat] = parts.slice(-3) as [string, string, string];
  const out: WheelFilename = {
    distribution,
    version,
    pythonTags: py.split('.'),
    abiTags: abi.split('.'),
    platformTags: plat.split('.'),
  };
  // PEP 427: the optional build tag must start with a digit.
  if (parts.length === 6) {
    if (!/^\d/.test(parts[2] as string)) return undefined;
    out.build = parts[2] as string;
  }
  return out;
}

/** Platform tags end in the machine: `manylinux_2_17_x86_64`, `macosx_11_0_arm64`, `win_amd64`. */
const PLATFORM_TAG = /^(?:manylinux\d*|musllinux|linux|macosx|win|ios|android)(?:_\d+)*_(.+)$/;

/** The architecture a platform tag names; `any` (pure Python) is `noarch`. */
export function wheelArchitecture(platformTag: string): string {
  const tag = platformTag.toLowerCase();
  if (tag === 'any') return 'noarch';
  return PLATFORM_TAG.exec(tag)?.[1] ?? tag;
}

/** PEP 503 normalization, which is also how dist-info directory names are compared. */
export function normalizeDistName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

export interface RecordRow {
  path: string;
  /** `sha256=…` as written; empty for RECORD itself and files listed without a hash. */
  hash: string;
  size: string;
  /** The row's original text, without its line end. */
  line: string;
}

/** RECORD is written by Python's csv module: comma-separated, `"` quoting with `""` escapes. */
export function parseRecord(text: string, input: string): RecordRow[] {
  const rows: RecordRow[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const cells: string[] = [];
    let cell = '';
    let quoted = false;
    let j = 0;
    while (j < line.length) {
      const c = line[j] as string;
      if (quoted) {
        if (c === '"' && line[j + 1] === '"') {
          cell += '"';
          j += 2;
          continue;
        }
        if (c === '"') quoted = false;
        else cell += c;
      } else if (c === '"' && cell === '') quoted = true;
      else if (c === ',') {
        cells.push(cell);
        cell = '';
      } else cell += c;
      j++;
    }
    if (quoted) throw new WaybillError('MALFORMED', input, `RECORD line ${i + 1}: unterminated quote`);
    cells.push(cell);
    if (cells.length !== 3) {
      throw new WaybillError(
        'MALFORMED',
        input,
        `RECORD line ${i + 1}: expected 3 columns, found ${cells.length}`,
      );
    }
    rows.push({ path: cells[0] as string, hash: cells[1] as string, size: cells[2] as string, line });
  });
  return rows;
}

/** One RECORD row as Python's csv writer would write it (quote only when needed). */
export function formatRecordRow(path: string, hash: string, size: string): string {
  const q = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return [q(path), q(hash), q(size)].join(',');
}

/** `sha256=` + urlsafe base64 without padding (PEP 376 / the RECORD spec). */
export function recordHash(data: Buffer, algorithm = 'sha256'): string {
  return `${algorithm}=${createHash(algorithm).update(data).digest('base64url')}`;
}

/** Algorithms the RECORD spec allows (hashlib.algorithms_guaranteed, md5 and sha1 excluded). */
const RECORD_ALGORITHMS = new Set([
  'sha224',
  'sha256',
  'sha384',
  'sha512',
  'sha3_256',
  'sha3_384',
  'sha3_512',
  'blake2b',
  'blake2s',
]);
const NODE_ALGORITHM: Record<string, string> = {
  sha3_256: 'sha3-256',
  sha3_384: 'sha3-384',
  sha3_512: 'sha3-512',
  blake2b: 'blake2b512',
  blake2s: 'blake2s256',
};

export interface WheelContents {
  zip: ZipArchive;
  /** `name-1.0.dist-info` */
  distInfo: string;
  metadata: CoreMetadata;
  /** WHEEL file fields (Wheel-Version, Tag…). */
  wheel: CoreMetadata;
  record: RecordRow[];
}

/** Inflating every member to check RECORD: allow big wheels (torch is ~1 GiB) but stay bounded. */
export const WHEEL_ZIP_LIMITS: Partial<ZipLimits> = { maxTotalUncompressed: 8 * 1024 ** 3 };

/** Open a wheel, find its dist-info, parse METADATA/WHEEL/RECORD and verify RECORD. */
export function openWheel(buf: Buffer, input: string): WheelContents {
  const zip = openZip(buf, input, { limits: WHEEL_ZIP_LIMITS });
  const distInfo = findDistInfo(zip, input);
  const member = (name: string) => {
    const e = zip.find(`${distInfo}/${name}`);
    if (!e) throw new WaybillError('MALFORMED', input, `wheel has no ${distInfo}/${name}`);
    return zip.read(e);
  };
  const metadata = parseCoreMetadata(member('METADATA'), `${input}!/${distInfo}/METADATA`);
  const wheel = parseCoreMetadata(member('WHEEL'), `${input}!/${distInfo}/WHEEL`);
  let recordText: string;
  try {
    recordText = new TextDecoder('utf-8', { fatal: true }).decode(member('RECORD'));
  } catch (e) {
    if (e instanceof WaybillError) throw e;
    throw new WaybillError('MALFORMED', `${input}!/${distInfo}/RECORD`, 'RECORD is not valid UTF-8');
  }
  const record = parseRecord(recordText, `${input}!/${distInfo}/RECORD`);
  verifyRecord(zip, record, distInfo, input);
  return { zip, distInfo, metadata, wheel, record };
}

function findDistInfo(zip: ZipArchive, input: string): string {
  const dirs = new Set<string>();
  for (const e of zip.entries) {
    const m = /^([^/]+\.dist-info)\/METADATA$/.exec(e.name);
    if (m) dirs.add(m[1] as string);
  }
  if (dirs.size === 0) throw new WaybillError('MALFORMED', input, 'not a wheel: no *.dist-info/METADATA');
  if (dirs.size === 1) return [...dirs][0] as string;
  // More than one: the wheel's own is the one named after the file (PEP 427 "File contents").
  const fn = parseWheelFilename(input);
  const want = fn ? normalizeDistName(`${fn.distribution}-${fn.version}`) : undefined;
  const match = [...dirs].filter((d) => want !== undefined && normalizeDistName(d.slice(0, -10)) === want);
  if (match.length === 1) return match[0] as string;
  throw new WaybillError(
    'MALFORMED',
    input,
    `wheel has ${dirs.size} .dist-info directories: ${[...dirs].sort().join(', ')}`,
  );
}

/** Check every hashed RECORD row against the archive; a mismatch names the file. */
export function verifyRecord(zip: ZipArchive, rows: RecordRow[], distInfo: string, input: string): void {
  for (const row of rows) {
    if (row.hash === '') continue; // RECORD itself and its signatures are listed without a hash
    const where = `${input}!/${row.path}`;
    if (row.path.startsWith('/') || row.path.split(/[\\/]/).includes('..')) {
      throw new WaybillError(
        'UNSAFE_PATH',
        input,
        `RECORD lists a path outside the wheel: ${JSON.stringify(row.path)}`,
      );
    }
    const eq = row.hash.indexOf('=');
    const algo = eq > 0 ? row.hash.slice(0, eq).toLowerCase() : '';
    if (!RECORD_ALGORITHMS.has(algo)) {
      throw new WaybillError(
        'MALFORMED',
        where,
        `RECORD hash ${JSON.stringify(row.hash.slice(0, 40))} is not an allowed algorithm=digest`,
      );
    }
    const entry = zip.find(row.path.replace(/^\.\//, ''));
    if (!entry)
      throw new WaybillError('MALFORMED', where, `listed in ${distInfo}/RECORD but not in the wheel`);
    const data = zip.read(entry);
    const actual = createHash(NODE_ALGORITHM[algo] ?? algo)
      .update(data)
      .digest('base64url');
    if (actual !== row.hash.slice(eq + 1).replace(/=+$/, '')) {
      throw new WaybillError(
        'MALFORMED',
        where,
        `content does not match its ${distInfo}/RECORD hash (${algo})`,
      );
    }
    if (row.size !== '' && row.size !== String(data.length)) {
      throw new WaybillError(
        'MALFORMED',
        where,
        `size ${data.length} does not match its RECORD size ${row.size}`,
      );
    }
  }
}

/**
 * Facts from core metadata, shared by wheels (METADATA) and sdists (PKG-INFO). Project-URL labels
 * are matched after PEP 753 normalization; Home-page (and a "Homepage" URL) is the docs fallback
 * when no Documentation URL is given, since it is where a user goes for help.
 */
export function pythonMetadataFacts(meta: CoreMetadata, format: string, prefix: string): NativeFacts {
  const facts = emptyFacts(format);
  facts.hasIdentityFields = true;
  const fact = (name: string): Fact | undefined => {
    const value = getField(meta, name);
    return value === undefined ? undefined : { value: value.trim(), field: `${prefix} ${name}` };
  };
  const name = fact('Name');
  if (name) facts.name = name;
  const version = fact('Version');
  if (version) facts.version = version;

  const urls: Partial<Record<string, Fact>> = {};
  for (const raw of getAll(meta, 'Project-URL')) {
    const parsed = parseProjectUrl(raw);
    if (!parsed) continue;
    const key = wellKnownLabel(parsed.label);
    if (key && !urls[key])
      urls[key] = { value: parsed.url, field: `${prefix} Project-URL (${parsed.label})` };
  }
  const homepage = urls.homepage ?? fact('Home-page');
  if (urls.issues) facts.bugTracker = urls.issues;
  const docs = urls.documentation ?? homepage;
  if (docs) facts.docs = docs;
  if (urls.source) facts.sourceRepository = urls.source;

  const license = fact('License-Expression') ?? fact('License');
  if (license) facts.license = license;
  const team = fact('Maintainer') ?? fact('Maintainer-email') ?? fact('Author') ?? fact('Author-email');
  if (team) facts.team = team;

  for (const field of ['Summary', 'Author', 'Author-email', 'Maintainer', 'Maintainer-email']) {
    const f = fact(field);
    if (f) facts.texts.push(f);
  }
  const description = getDescription(meta);
  if (description !== undefined) facts.texts.push({ value: description, field: `${prefix} Description` });
  return facts;
}

/** Facts of an opened wheel; architectures from the file name's platform tags, else WHEEL's Tag lines. */
export function wheelFacts(contents: WheelContents, fileName: string): NativeFacts {
  const facts = pythonMetadataFacts(contents.metadata, 'wheel', 'wheel METADATA');
  const fn = parseWheelFilename(fileName);
  const seen = new Set<string>();
  const add = (tag: string, field: string) => {
    const arch = wheelArchitecture(tag);
    if (seen.has(arch)) return;
    seen.add(arch);
    facts.architectures.push({ value: arch, field });
  };
  if (fn) for (const tag of fn.platformTags) add(tag, 'wheel platform tag');
  else {
    for (const tag of getAll(contents.wheel, 'Tag')) {
      const plat = tag.trim().split('-')[2];
      if (plat) add(plat, 'wheel WHEEL Tag');
    }
  }
  return facts;
}

export async function readWheelFacts(path: string): Promise<NativeFacts> {
  const buf = await readFile(path);
  return wheelFacts(openWheel(buf, path), path);
}
