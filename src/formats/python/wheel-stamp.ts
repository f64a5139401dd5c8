/**
 * Writes release facts into a wheel's METADATA: Project-URL entries (Issues, Documentation, Source),
 * License-Expression, Maintainer and Maintainer-email. RECORD gets METADATA's new hash and size;
 * every other member is copied with its compressed bytes untouched, so the wheel still installs
 * (pip checks RECORD) and its code is bit-for-bit what was built.
 *
 * Name, version and architecture are not written: they are also spelled in the file name and the
 * dist-info directory name, and changing them would make a different wheel.
 *
 * The upstream trail is kept, as for a deb (issue 9 item 13): core metadata has no `Original-*`
 * fields, so each value the stamp replaces (a Project-URL of the same meaning, License-Expression,
 * Maintainer, Maintainer-email) is returned as `replaced` and recorded in the release record's
 * `upstream`. Without it a third-party wheel re-released under waybill.yaml's license would carry
 * no trace of the license it was published under.
 */
import { readFile } from 'node:fs/promises';
import { makeMember, type RawZipMember, rawMembers, writeZip } from '../../archive/zip-writer.ts';
import { WaybillError } from '../../errors.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import type { NativeStampFacts, NativeStampResult } from '../native.ts';
import {
  addField,
  type CoreMetadata,
  getField,
  type MetadataField,
  parseProjectUrl,
  removeFields,
  sameName,
  serializeCoreMetadata,
  setField,
  type WellKnownLabel,
  wellKnownLabel,
} from './core-metadata.ts';
import { formatRecordRow, openWheel, recordHash, WHEEL_ZIP_LIMITS } from './wheel.ts';

/** PEP 639 added License-Expression in core metadata 2.4; a file that uses it must say 2.4 or later. */
const LICENSE_EXPRESSION_VERSION = '2.4';

/** The label written for each fact: the spelling the well-known list puts first. */
const WRITTEN_LABELS: Array<{ key: keyof NativeStampFacts; label: string; kind: WellKnownLabel }> = [
  { key: 'bugTracker', label: 'Issues', kind: 'issues' },
  { key: 'docs', label: 'Documentation', kind: 'documentation' },
  { key: 'source', label: 'Source', kind: 'source' },
];

const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;

/** Reject values that would break the header format (a newline starts a new field). */
function singleLine(value: string, what: string): string {
  const v = value.trim();
  if (/[\r\n\0]/.test(v)) throw new WaybillError('USAGE', what, 'must be a single line for wheel METADATA');
  return v;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((n) => Number.parseInt(n, 10) || 0);
  const pb = b.split('.').map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** What applying facts did: the fields written, and the upstream values they replaced. */
export interface AppliedWheelFacts {
  written: string[];
  replaced: Array<{ field: string; value: string }>;
}

/**
 * A legacy `License` value that names a license (`MIT`, `BSD-3-Clause OR GPL-2.0`), as opposed to a
 * whole license text (several lines) or setuptools' `UNKNOWN`. License-Expression supersedes License
 * (PEP 639), so writing one makes such a name the package's upstream trail.
 */
function isLicenseName(value: string): boolean {
  return value !== '' && value.length <= 120 && !/[\u0000-\u001f\u007f]/.test(value) && value !== 'UNKNOWN';
}

/** Apply the facts to parsed METADATA. */
export function applyWheelFacts(meta: CoreMetadata, facts: NativeStampFacts): AppliedWheelFacts {
  const written: string[] = [];
  const replaced: AppliedWheelFacts['replaced'] = [];
  /** Sets a field, noting the value it had when that differs. */
  const set = (name: string, value: string) => {
    const old = getField(meta, name);
    if (old !== undefined && old !== value) replaced.push({ field: `wheel METADATA ${name}`, value: old });
    setField(meta, name, value);
    written.push(`wheel METADATA ${name}`);
  };
  for (const { key, label, kind } of WRITTEN_LABELS) {
    const raw = facts[key];
    if (raw === undefined || raw === null || raw === '') continue;
    const url = singleLine(raw, key);
    // Replace every entry with the same well-known meaning ("Bug Tracker", "issues"…) by one entry,
    // at the place of the first one removed, so the file reads as before.
    const isSame = (f: MetadataField) => {
      if (!sameName(f.name, 'Project-URL')) return false;
      const p = parseProjectUrl(f.value);
      return p !== undefined && wellKnownLabel(p.label) === kind;
    };
    const at = meta.fields.findIndex(isSame);
    for (const f of meta.fields.filter(isSame)) {
      const old = parseProjectUrl(f.value);
      if (old && old.url !== url)
        replaced.push({ field: `wheel METADATA Project-URL (${old.label})`, value: old.url });
    }
    removeFields(meta, isSame);
    if (at >= 0) meta.fields.splice(at, 0, { name: 'Project-URL', value: `${label}, ${url}` });
    else addField(meta, 'Project-URL', `${label}, ${url}`);
    written.push(`wheel METADATA Project-URL (${label})`);
  }
  if (facts.license) {
    const current = getField(meta, 'Metadata-Version') ?? '1.0';
    if (compareVersions(current, LICENSE_EXPRESSION_VERSION) < 0) {
      setField(meta, 'Metadata-Version', LICENSE_EXPRESSION_VERSION);
      written.push('wheel METADATA Metadata-Version');
    }
    const legacy = getField(meta, 'License')?.trim();
    if (getField(meta, 'License-Expression') === undefined && legacy !== undefined && isLicenseName(legacy))
      replaced.push({ field: 'wheel METADATA License', value: legacy });
    set('License-Expression', singleLine(facts.license, 'license'));
  }
  if (facts.team) set('Maintainer', singleLine(facts.team, 'team'));
  if (facts.contact && EMAIL.test(facts.contact.trim().replace(/^mailto:/i, ''))) {
    const email = facts.contact.trim().replace(/^mailto:/i, '');
    // Core metadata: Maintainer-email holds RFC 822 addresses, optionally "Name <addr>".
    set('Maintainer-email', facts.team ? `${singleLine(facts.team, 'team')} <${email}>` : email);
  }
  return { written, replaced };
}

/** Stamp a wheel in place (temp file + rename). Throws WaybillError for a wheel that does not verify. */
export async function stampWheel(path: string, facts: NativeStampFacts): Promise<NativeStampResult> {
  const buf = await readFile(path);
  const wheel = openWheel(buf, path); // verifies RECORD first: never re-sign a tampered wheel
  const { written, replaced: upstream } = applyWheelFacts(wheel.metadata, facts);
  if (written.length === 0) return { changed: false, fields: [] };

  const metadataPath = `${wheel.distInfo}/METADATA`;
  const recordPath = `${wheel.distInfo}/RECORD`;
  const metadata = Buffer.from(serializeCoreMetadata(wheel.metadata), 'utf8');
  let sawMetadataRow = false;
  const rows = wheel.record.map((row) => {
    if (row.path !== metadataPath) return row.line;
    sawMetadataRow = true;
    return formatRecordRow(row.path, recordHash(metadata), String(metadata.length));
  });
  if (!sawMetadataRow)
    throw new WaybillError('MALFORMED', path, `${recordPath} does not list ${metadataPath}`);
  const record = Buffer.from(`${rows.join('\n')}\n`, 'utf8');

  const members = rawMembers(buf, path, WHEEL_ZIP_LIMITS).map((m) => {
    if (m.name === metadataPath) return { raw: replaced(m, metadata) };
    if (m.name === recordPath) return { raw: replaced(m, record) };
    return { raw: m };
  });
  await writeFileAtomic(path, writeZip(members, path));
  return { changed: true, fields: written, ...(upstream.length > 0 ? { replaced: upstream } : {}) };
}

/** The same member (name, time, mode, flags) with new content, deflated. */
function replaced(m: RawZipMember, data: Buffer): RawZipMember {
  const fresh = makeMember({ name: m.name, data });
  return {
    ...m,
    method: fresh.method,
    crc32: fresh.crc32,
    compressed: fresh.compressed,
    compressedSize: fresh.compressedSize,
    uncompressedSize: fresh.uncompressedSize,
  };
}
