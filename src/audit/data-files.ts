/**
 * waybill's own data files for `waybill db import`, next to OSV: JSON documents that say what they
 * are in a `kind` field.
 *
 * - `waybill.dev/eol/v1`: operating-system releases and when their support ends, replacing the
 *   embedded table's rows with the same (distro, release):
 *   `{"kind": "waybill.dev/eol/v1", "releases": [{"distro": "debian", "release": "12",
 *     "codename": "bookworm", "released": "2023-06-10", "eol": "2026-06-10",
 *     "eolExtended": "2028-06-30"}]}` — `eol` is the end of regular security support, `eolExtended`
 *   the end of any free extended support (Debian LTS); dates are `YYYY-MM-DD`.
 * - `waybill.dev/release-dates/v1`: when package versions were released, for libyear:
 *   `{"kind": "waybill.dev/release-dates/v1", "packages": [{"ecosystem": "PyPI", "name": "requests",
 *     "versions": {"2.31.0": "2023-05-22"}}]}`.
 */
import { WaybillError } from '../errors.ts';

export interface EolEntry {
  /** os-release `ID`: `debian`, `ubuntu`, `alpine`, `rhel`, `rocky`, `almalinux`, `centos`. */
  distro: string;
  /** `12`, `22.04`, `3.18`, `9`: see `releaseKey`. */
  release: string;
  codename?: string;
  released?: string;
  eol: string;
  eolExtended?: string;
}

export interface ReleaseDates {
  ecosystem: string;
  name: string;
  versions: Record<string, string>;
}

export type DataFile =
  | { kind: 'waybill.dev/eol/v1'; releases: EolEntry[] }
  | { kind: 'waybill.dev/release-dates/v1'; packages: ReleaseDates[] };

const DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?$/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function date(v: unknown, where: string, input: string): string {
  if (typeof v !== 'string' || !DATE.test(v) || Number.isNaN(Date.parse(v))) {
    throw new WaybillError('MALFORMED', input, `${where}: not a date (YYYY-MM-DD): ${JSON.stringify(v)}`);
  }
  return v;
}

function optDate(v: unknown, where: string, input: string): string | undefined {
  return v === undefined ? undefined : date(v, where, input);
}

function text(v: unknown, where: string, input: string): string {
  if (typeof v !== 'string' || v === '')
    throw new WaybillError('MALFORMED', input, `${where}: needs a non-empty string`);
  return v;
}

export function parseDataFile(raw: unknown, input: string): DataFile {
  if (!isObject(raw)) throw new WaybillError('MALFORMED', input, 'not a JSON object');
  if (raw.kind === 'waybill.dev/eol/v1') {
    if (!Array.isArray(raw.releases)) throw new WaybillError('MALFORMED', input, 'releases: needs an array');
    const releases = raw.releases.map((r, i): EolEntry => {
      const at = `releases[${i}]`;
      if (!isObject(r)) throw new WaybillError('MALFORMED', input, `${at}: needs an object`);
      const entry: EolEntry = {
        distro: text(r.distro, `${at}.distro`, input).toLowerCase(),
        release: text(r.release, `${at}.release`, input),
        eol: date(r.eol, `${at}.eol`, input),
      };
      if (r.codename !== undefined) entry.codename = text(r.codename, `${at}.codename`, input);
      const released = optDate(r.released, `${at}.released`, input);
      if (released) entry.released = released;
      const extended = optDate(r.eolExtended, `${at}.eolExtended`, input);
      if (extended) entry.eolExtended = extended;
      return entry;
    });
    return { kind: raw.kind, releases };
  }
  if (raw.kind === 'waybill.dev/release-dates/v1') {
    if (!Array.isArray(raw.packages)) throw new WaybillError('MALFORMED', input, 'packages: needs an array');
    const packages = raw.packages.map((p, i): ReleaseDates => {
      const at = `packages[${i}]`;
      if (!isObject(p) || !isObject(p.versions))
        throw new WaybillError('MALFORMED', input, `${at}: needs ecosystem, name and a versions object`);
      const versions: Record<string, string> = {};
      for (const [v, d] of Object.entries(p.versions))
        versions[v] = date(d, `${at}.versions[${JSON.stringify(v)}]`, input);
      return {
        ecosystem: text(p.ecosystem, `${at}.ecosystem`, input),
        name: text(p.name, `${at}.name`, input),
        versions,
      };
    });
    return { kind: raw.kind, packages };
  }
  throw new WaybillError('UNSUPPORTED', input, `unknown waybill data kind ${JSON.stringify(raw.kind)}`);
}
