/**
 * RPM package files (rpm docs/manual/format.md, "RPM v3/v4 package format"): a 96-byte lead (magic
 * `ed ab ee db`), the signature header (header structure, padded to a multiple of 8 bytes), the main
 * header, then the payload (a cpio archive, compressed as PAYLOADCOMPRESSOR says).
 *
 * Facts come from the main header. Version choice: the `version` fact is the VERSION tag alone
 * (`2.1`), not the EVR `3:2.1-1`. rpm keeps epoch, version and release in separate tags, the policy
 * compares versions exactly, and a release record names the software's version; Release and Epoch
 * are reported as texts (and `rpmEvr` gives the full EVR as `rpm -q --qf '%{EVR}'` prints it). So a
 * record saying `2.1` matches this package, and one saying `2.1-1` does not.
 *
 * No stamp: the main header is covered by the signature header's digests (SHA256/SHA1 of the header,
 * MD5 and payload digests), so any edit breaks `rpm -K`. The sidecar record carries the facts.
 *
 * Also registers a container walker: a .rpm given as `file:` is walked through its cpio payload.
 */
import { type ByteSource, bufferSource, withFileSource } from '../../archive/ar.ts';
import { readCpio } from '../../archive/cpio.ts';
import { type Compression, detectCompression } from '../../archive/decompress.ts';
import { decompressFileRange } from '../../archive/xz.ts';
import { WaybillError } from '../../errors.ts';
import { type ContainerWalker, registerContainerWalker } from '../../sources/container-walkers.ts';
import type { FileEntry, FileFilter, WalkResult } from '../../sources/types.ts';
import type { SourceWalkOptions } from '../../sources/walk-options.ts';
import type { Fact, NativeFacts } from '../facts.ts';
import type { NativeFormat } from '../native.ts';
import { collectPayload, type PayloadEntry } from '../shared/collect-payload.ts';
import {
  headerNumber,
  headerString,
  parseRpmHeaderWithMagic,
  RPM_HEADER_MAGIC,
  type RpmHeader,
  RpmTag,
} from './rpm-header.ts';

export const RPM_LEAD_MAGIC = Buffer.from([0xed, 0xab, 0xee, 0xdb]);
export const RPM_LEAD_SIZE = 96;
/** rpmtag.h: RPMTAG_PAYLOADFORMAT, RPMTAG_PAYLOADCOMPRESSOR, RPMTAG_VCS. */
const TAG_PAYLOADFORMAT = 1124;
const TAG_PAYLOADCOMPRESSOR = 1125;
const TAG_VCS = 5034;
/** rpm's hdrchkTags / hdrchkData limits (lib/header_internal.h). */
const MAX_ENTRIES = 0xffff;
const MAX_DATA = 256 * 1024 * 1024;

export interface RpmLead {
  major: number;
  minor: number;
  /** 0 binary, 1 source. */
  type: number;
  /** The NEVR the lead was written with (informational; rpm ignores it). */
  name: string;
}

export interface RpmPackage {
  lead: RpmLead;
  signature: RpmHeader;
  header: RpmHeader;
  /** Offset of the (compressed) payload; it runs to the end of the file. */
  payloadOffset: number;
  size: number;
}

export function looksLikeRpm(head: Uint8Array): boolean {
  return head.length >= 4 && RPM_LEAD_MAGIC.equals(head.subarray(0, 4));
}

/** Reads one header structure (magic, il, dl, index, data) at `offset`, bounds-checked first. */
async function readHeaderAt(
  source: ByteSource,
  offset: number,
  input: string,
  which: string,
): Promise<{ header: RpmHeader; end: number }> {
  const name = `${input} (${which})`;
  if (offset + 16 > source.size) throw new WaybillError('MALFORMED', name, `truncated before the ${which}`);
  const intro = await source.read(offset, 16);
  if (!intro.subarray(0, 8).equals(RPM_HEADER_MAGIC)) {
    throw new WaybillError('MALFORMED', name, `bad ${which} magic at offset ${offset}`);
  }
  const il = intro.readUInt32BE(8);
  const dl = intro.readUInt32BE(12);
  if (il < 1 || il > MAX_ENTRIES) throw new WaybillError('MALFORMED', name, `index count ${il} out of range`);
  if (dl > MAX_DATA) throw new WaybillError('MALFORMED', name, `data length ${dl} out of range`);
  const length = 16 + il * 16 + dl;
  if (offset + length > source.size) {
    throw new WaybillError(
      'MALFORMED',
      name,
      `${which} needs ${length} bytes, ${source.size - offset} left in the file`,
    );
  }
  const bytes = await source.read(offset, length);
  const { header } = parseRpmHeaderWithMagic(bytes, 0, name);
  return { header, end: offset + length };
}

/** Lead, signature header and main header of a .rpm, from any byte source. */
export async function parseRpmPackage(source: ByteSource, input: string): Promise<RpmPackage> {
  if (source.size < RPM_LEAD_SIZE)
    throw new WaybillError('MALFORMED', input, 'truncated rpm lead (under 96 bytes)');
  const lead = await source.read(0, RPM_LEAD_SIZE);
  if (!RPM_LEAD_MAGIC.equals(lead.subarray(0, 4)))
    throw new WaybillError('MALFORMED', input, 'not an rpm package (bad lead magic)');
  const major = lead[4] as number;
  const minor = lead[5] as number;
  if (major < 3 || major > 4)
    throw new WaybillError('UNSUPPORTED', input, `rpm format version ${major}.${minor}`);
  // format.md: signature_type 5 (RPMSIGTYPE_HEADERSIG) is the only one rpm reads.
  const sigType = lead.readUInt16BE(78);
  if (sigType !== 5)
    throw new WaybillError('UNSUPPORTED', input, `rpm lead signature type ${sigType} (want 5)`);
  const nameEnd = lead.indexOf(0, 10);
  const leadInfo: RpmLead = {
    major,
    minor,
    type: lead.readUInt16BE(6),
    name: lead.toString('latin1', 10, nameEnd < 0 || nameEnd > 76 ? 76 : nameEnd),
  };
  const signature = await readHeaderAt(source, RPM_LEAD_SIZE, input, 'signature header');
  // The signature header is padded to an 8-byte boundary (format.md "Signature").
  const mainStart = signature.end + ((8 - (signature.end % 8)) % 8);
  const main = await readHeaderAt(source, mainStart, input, 'main header');
  return {
    lead: leadInfo,
    signature: signature.header,
    header: main.header,
    payloadOffset: main.end,
    size: source.size,
  };
}

export function readRpmPackage(path: string): Promise<RpmPackage> {
  return withFileSource(path, (source) => parseRpmPackage(source, path));
}

/** `[epoch:]version-release`, as `rpm -q --qf '%{EVR}'` prints it. */
export function rpmEvr(header: RpmHeader): string {
  const epoch = headerNumber(header, RpmTag.EPOCH);
  const version = headerString(header, RpmTag.VERSION) ?? '';
  const release = headerString(header, RpmTag.RELEASE) ?? '';
  return `${epoch !== undefined ? `${epoch}:` : ''}${version}-${release}`;
}

const TAG_NAMES: Array<[number, string]> = [
  [RpmTag.NAME, 'Name'],
  [RpmTag.EPOCH, 'Epoch'],
  [RpmTag.VERSION, 'Version'],
  [RpmTag.RELEASE, 'Release'],
  [RpmTag.ARCH, 'Arch'],
  [RpmTag.SUMMARY, 'Summary'],
  [RpmTag.DESCRIPTION, 'Description'],
  [RpmTag.VENDOR, 'Vendor'],
  [RpmTag.PACKAGER, 'Packager'],
  [RpmTag.URL, 'URL'],
  [RpmTag.BUGURL, 'BugURL'],
  [RpmTag.LICENSE, 'License'],
  [RpmTag.SOURCERPM, 'SourceRPM'],
  [RpmTag.DISTRIBUTION, 'Distribution'],
  [TAG_VCS, 'VCS'],
];

/** Maps a main header onto NativeFacts (field strings: `rpm <Tag> tag`). */
export function rpmFactsFromHeader(header: RpmHeader, input: string): NativeFacts {
  const facts: NativeFacts = { format: 'rpm', hasIdentityFields: true, architectures: [], texts: [] };
  const tag = (number: number, name: string): Fact | undefined => {
    const value = headerString(header, number);
    return value !== undefined && value !== '' ? { value, field: `rpm ${name} tag` } : undefined;
  };
  const name = tag(RpmTag.NAME, 'Name');
  const version = tag(RpmTag.VERSION, 'Version');
  if (!name || !version || headerString(header, RpmTag.RELEASE) === undefined) {
    throw new WaybillError('MALFORMED', input, 'rpm main header has no Name, Version or Release tag');
  }
  facts.name = name;
  facts.version = version;
  const arch = tag(RpmTag.ARCH, 'Arch');
  if (arch) facts.architectures.push(arch);
  const buildTime = headerNumber(header, RpmTag.BUILDTIME);
  if (buildTime !== undefined && buildTime > 0) {
    facts.created = {
      value: new Date(buildTime * 1000).toISOString().replace('.000Z', 'Z'),
      field: 'rpm BuildTime tag',
    };
  }
  const team = tag(RpmTag.PACKAGER, 'Packager') ?? tag(RpmTag.VENDOR, 'Vendor');
  if (team) facts.team = team;
  const docs = tag(RpmTag.URL, 'URL');
  if (docs) facts.docs = docs;
  const bugs = tag(RpmTag.BUGURL, 'BugURL');
  if (bugs) facts.bugTracker = bugs;
  const license = tag(RpmTag.LICENSE, 'License');
  if (license) facts.license = license;
  const vcs = tag(TAG_VCS, 'VCS');
  if (vcs) facts.sourceRepository = vcs;
  for (const [number, label] of TAG_NAMES) {
    if (number === RpmTag.EPOCH) {
      const epoch = headerNumber(header, number);
      if (epoch !== undefined) facts.texts.push({ value: String(epoch), field: 'rpm Epoch tag' });
      continue;
    }
    const value = tag(number, label);
    if (value) facts.texts.push(value);
  }
  return facts;
}

export async function readRpmFacts(path: string): Promise<NativeFacts> {
  const pkg = await readRpmPackage(path);
  return rpmFactsFromHeader(pkg.header, path);
}

// ---------------------------------------------------------------------------------------------
// The payload walker.

const COMPRESSOR_NAMES: Record<string, Compression> = {
  gzip: 'gzip',
  xz: 'xz',
  zstd: 'zstd',
  bzip2: 'bzip2',
};

/** cpio(5) "new ASCII" and "new CRC" headers, the formats rpm writes. */
function isCpioMagic(head: Buffer): boolean {
  const magic = head.subarray(0, 6).toString('latin1');
  return magic === '070701' || magic === '070702';
}

function payloadCompression(pkg: RpmPackage, head: Buffer, input: string): Compression {
  const format = headerString(pkg.header, TAG_PAYLOADFORMAT);
  if (format !== undefined && format !== 'cpio') {
    throw new WaybillError('UNSUPPORTED', input, `rpm payload format ${JSON.stringify(format)} (want cpio)`);
  }
  const tagged = headerString(pkg.header, TAG_PAYLOADCOMPRESSOR);
  const byMagic = detectCompression(head);
  // No tag means gzip to rpm, which reads the payload through zlib's gzread: that passes data that
  // is not gzip through unchanged. rpmbuild writes exactly that for an uncompressed payload
  // (`_binary_payload w.ufdio`): a bare cpio archive and no PAYLOADCOMPRESSOR tag.
  if (tagged === undefined && byMagic === 'none' && isCpioMagic(head)) return 'none';
  const declared = tagged ?? 'gzip';
  if (declared === 'lzma')
    throw new WaybillError('UNSUPPORTED', input, 'lzma rpm payloads are not supported');
  // rpm trusts the tag; a mismatch means the file was tampered with or built wrongly.
  const expected = COMPRESSOR_NAMES[declared];
  if (expected === undefined)
    throw new WaybillError('UNSUPPORTED', input, `rpm payload compressor ${JSON.stringify(declared)}`);
  if (byMagic !== expected) {
    throw new WaybillError('MALFORMED', input, `rpm payload is not ${declared} data (starts as ${byMagic})`);
  }
  if (expected === 'bzip2')
    throw new WaybillError('UNSUPPORTED', input, 'bzip2 rpm payloads are not supported');
  return expected;
}

/** The files an rpm installs: its cpio payload, decompressed under limits and read once. */
export async function walkRpmPayload(
  path: string,
  filter: FileFilter,
  options: SourceWalkOptions = {},
): Promise<WalkResult> {
  options.signal?.throwIfAborted();
  const pkg = await readRpmPackage(path);
  const input = `${path} (payload)`;
  const head = await withFileSource(path, (s) =>
    s.read(pkg.payloadOffset, Math.min(8, s.size - pkg.payloadOffset)),
  );
  const compression = payloadCompression(pkg, head, input);
  const total = pkg.size - pkg.payloadOffset;
  let done = 0;
  const stream = await decompressFileRange(
    path,
    pkg.payloadOffset,
    pkg.size,
    compression,
    { ...options.decompress, input },
    (n) => {
      done += n;
      options.onProgress?.(done, total);
    },
  );

  async function* entries(): AsyncGenerator<PayloadEntry> {
    // cpio hard links (cpio(5) newc): every link of a set shares ino; rpm writes the content with the
    // last one and size 0 for the others, so the earlier ones wait for it.
    const pending = new Map<string, FileEntry[]>();
    const seen = new Map<string, string>();
    for await (const cpioEntry of readCpio(stream, { input })) {
      const h = cpioEntry.header;
      const entry: FileEntry = { path: h.path, type: h.type, size: h.size, mode: h.mode };
      if (h.linkTarget !== undefined) entry.linkTarget = h.linkTarget;
      const key = `${h.devmajor}:${h.devminor}:${h.ino}`;
      if (h.type === 'file' && h.nlink > 1) {
        const first = seen.get(key);
        if (h.size === 0 && first !== undefined) {
          // Content already went by with an earlier link: point at it, like a tar hard link.
          yield {
            entry: { ...entry, type: 'hardlink', linkTarget: first },
            peek: async () => Buffer.alloc(0),
            readAll: async () => Buffer.alloc(0),
          };
          continue;
        }
        if (h.size === 0) {
          const list = pending.get(key) ?? [];
          list.push(entry);
          pending.set(key, list);
          continue;
        }
        seen.set(key, h.path);
        const aliases = (pending.get(key) ?? []).map((a) => ({ ...a, size: h.size }));
        pending.delete(key);
        yield { entry, aliases, peek: (n) => cpioEntry.peek(n), readAll: () => cpioEntry.readAll() };
        continue;
      }
      yield { entry, peek: (n) => cpioEntry.peek(n), readAll: () => cpioEntry.readAll() };
    }
    // Links whose set had no content at all are empty files.
    for (const list of pending.values()) {
      for (const entry of list)
        yield { entry, peek: async () => Buffer.alloc(0), readAll: async () => Buffer.alloc(0) };
    }
  }
  try {
    return await collectPayload(entries(), filter, options);
  } finally {
    stream.destroy();
  }
}

export const rpmFormat: NativeFormat = {
  name: 'rpm',
  detect: (head) => looksLikeRpm(head),
  readFacts: readRpmFacts,
  // No stamp: rpm headers are covered by the package signature; the sidecar record carries the facts.
};

export const rpmWalker: ContainerWalker = {
  name: 'rpm',
  detect: (head) => looksLikeRpm(head),
  walk: walkRpmPayload,
};

registerContainerWalker(rpmWalker);

/** For tests and callers holding bytes: parse a whole package in memory. */
export function parseRpmPackageBuffer(buf: Buffer, input: string): Promise<RpmPackage> {
  return parseRpmPackage(bufferSource(buf), input);
}
