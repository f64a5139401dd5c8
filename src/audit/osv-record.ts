/**
 * OSV records (OSV schema 1.7, ossf/osv-schema validation/schema.json): untrusted JSON in, a typed
 * record or the reason it fails the schema out. The checks are the schema's own, written out so an
 * import of tens of thousands of records costs no more than reading them: required `id` and
 * `modified`, the id prefix list, RFC 3339 UTC timestamps, no unknown top-level fields, each range's
 * type, events that are exactly one of introduced / fixed / last_affected / limit with at least one
 * introduced, never both fixed and last_affected, full commit hashes in GIT ranges, severity vectors
 * that match their type, and package-level severity only when the record has none of its own.
 */

export type RangeType = 'SEMVER' | 'ECOSYSTEM' | 'GIT';

export type OsvEvent =
  | { introduced: string }
  | { fixed: string }
  | { last_affected: string }
  | { limit: string };

export interface OsvRange {
  type: RangeType;
  repo?: string;
  events: OsvEvent[];
}

export interface OsvSeverity {
  type: string;
  score: string;
}

export interface OsvAffected {
  package?: { ecosystem: string; name: string; purl?: string };
  severity: OsvSeverity[];
  ranges: OsvRange[];
  versions: string[];
  /** database_specific.severity when it is a string (GitHub: `HIGH`, …). */
  databaseSeverity?: string;
}

export interface OsvRecord {
  id: string;
  modified: string;
  published?: string;
  withdrawn?: string;
  aliases: string[];
  upstream: string[];
  related: string[];
  summary?: string;
  details?: string;
  severity: OsvSeverity[];
  affected: OsvAffected[];
  /** The record's web page: database_specific.url, else its first ADVISORY reference. */
  url?: string;
  /** database_specific.severity when it is a string (GitHub: `HIGH`, Go: none, …). */
  databaseSeverity?: string;
}

export type ParsedRecord = { ok: true; record: OsvRecord } | { ok: false; id?: string; reason: string };

const TOP_LEVEL = new Set([
  'schema_version',
  'id',
  'modified',
  'published',
  'withdrawn',
  'aliases',
  'related',
  'upstream',
  'summary',
  'details',
  'severity',
  'affected',
  'references',
  'credits',
  'database_specific',
]);

// schema.json $defs/prefix.
const ID_PREFIX =
  /^(x_|(ASB-A|PUB-A|ALPINE|ALSA|ALBA|ALEA|AZL|BELL|BIT|CGA|CLEANSTART|CLSA|CURL|CVE|DEBIAN|DHI|DRUPAL|DSA|DLA|ELA|DTSA|ECHO|EEF|FreeBSD|GHSA|GO|GSD|HSEC|JLSEC|KUBE|LBSEC|LSN|MAL|MINI|MGASA|OESA|OSEC|OSV|openSUSE-SU|PHSA|PSF|PYSEC|RHBA|RHEA|RHSA|RLSA|RXSA|RSEC|ROOT|RUSTSEC|SUSE-[SRFO]U|UBUNTU|USN|V8)-)/;

// schema.json $defs/ecosystemWithSuffix.
const ECOSYSTEM =
  /^(AlmaLinux|Alpaquita|Alpine|Android|Azure Linux|BellSoft Hardened Containers|Bioconductor|Bitnami|Chainguard|CleanStart|ConanCenter|CRAN|crates\.io|Debian|Docker Hardened Images|Echo|FreeBSD|GHC|GitHub Actions|Go|Hackage|Hex|Julia|Kubernetes|Linux|Mageia|Maven|MinimOS|npm|NuGet|opam|openEuler|openSUSE|OSS-Fuzz|Packagist|Photon OS|Pub|PyPI|Red Hat|Rocky Linux|Root|RubyGems|SUSE|SwiftURL|TuxCare|Ubuntu|VSCode|Wolfi|GIT)(:.+)?$/;

// RFC 3339 date-time (the schema's `format`) that also contains the schema's UTC pattern.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const UTC_PATTERN = /[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z/;

const CVSS_V2 =
  /^((AV:[NAL]|AC:[LMH]|Au:[MSN]|[CIA]:[NPC]|E:(U|POC|F|H|ND)|RL:(OF|TF|W|U|ND)|RC:(UC|UR|C|ND)|CDP:(N|L|LM|MH|H|ND)|TD:(N|L|M|H|ND)|[CIA]R:(L|M|H|ND))\/)*(AV:[NAL]|AC:[LMH]|Au:[MSN]|[CIA]:[NPC]|E:(U|POC|F|H|ND)|RL:(OF|TF|W|U|ND)|RC:(UC|UR|C|ND)|CDP:(N|L|LM|MH|H|ND)|TD:(N|L|M|H|ND)|[CIA]R:(L|M|H|ND))$/;
const CVSS_V3 =
  /^CVSS:3[.][01]\/((AV:[NALP]|AC:[LH]|PR:[NLH]|UI:[NR]|S:[UC]|[CIA]:[NLH]|E:[XUPFH]|RL:[XOTWU]|RC:[XURC]|[CIA]R:[XLMH]|MAV:[XNALP]|MAC:[XLH]|MPR:[XNLH]|MUI:[XNR]|MS:[XUC]|M[CIA]:[XNLH])\/)*(AV:[NALP]|AC:[LH]|PR:[NLH]|UI:[NR]|S:[UC]|[CIA]:[NLH]|E:[XUPFH]|RL:[XOTWU]|RC:[XURC]|[CIA]R:[XLMH]|MAV:[XNALP]|MAC:[XLH]|MPR:[XNLH]|MUI:[XNR]|MS:[XUC]|M[CIA]:[XNLH])$/;
const CVSS_V4 =
  /^CVSS:4[.]0\/AV:[NALP]\/AC:[LH]\/AT:[NP]\/PR:[NLH]\/UI:[NPA]\/VC:[HLN]\/VI:[HLN]\/VA:[HLN]\/SC:[HLN]\/SI:[HLN]\/SA:[HLN](\/E:[XAPU])?(\/CR:[XHML])?(\/IR:[XHML])?(\/AR:[XHML])?(\/MAV:[XNALP])?(\/MAC:[XLH])?(\/MAT:[XNP])?(\/MPR:[XNLH])?(\/MUI:[XNPA])?(\/MVC:[XNLH])?(\/MVI:[XNLH])?(\/MVA:[XNLH])?(\/MSC:[XNLH])?(\/MSI:[XNLHS])?(\/MSA:[XNLHS])?(\/S:[XNP])?(\/AU:[XNY])?(\/R:[XAUI])?(\/V:[XDC])?(\/RE:[XLMH])?(\/U:(X|Clear|Green|Amber|Red))?$/;
const UBUNTU_PRIORITY = new Set(['negligible', 'low', 'medium', 'high', 'critical']);
const SEVERITY_PATTERN: Record<string, (s: string) => boolean> = {
  CVSS_V2: (s) => CVSS_V2.test(s),
  CVSS_V3: (s) => CVSS_V3.test(s),
  CVSS_V4: (s) => CVSS_V4.test(s),
  Ubuntu: (s) => UBUNTU_PRIORITY.has(s),
};
const REFERENCE_TYPES = new Set([
  'ADVISORY',
  'ARTICLE',
  'DETECTION',
  'DISCUSSION',
  'REPORT',
  'FIX',
  'INTRODUCED',
  'GIT',
  'PACKAGE',
  'EVIDENCE',
  'WEB',
]);
const CREDIT_TYPES = new Set([
  'FINDER',
  'REPORTER',
  'ANALYST',
  'COORDINATOR',
  'REMEDIATION_DEVELOPER',
  'REMEDIATION_REVIEWER',
  'REMEDIATION_VERIFIER',
  'TOOL',
  'SPONSOR',
  'OTHER',
]);
const EVENT_KEYS = ['introduced', 'fixed', 'last_affected', 'limit'] as const;
const GIT_HASH = /^(0|[a-f0-9]{40}|[a-f0-9]{64})$/;
// An absolute URI (RFC 3986 scheme ":" hier-part) without whitespace, as JSON Schema's `uri` format.
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s"<>\\^`{|}]*$/;

type Json = Record<string, unknown>;

class Invalid extends Error {}

/** `path: what`, or `what` alone for the record itself (an empty path). */
function fail(path: string, what: string): never {
  throw new Invalid(path === '' ? what : `${path}: ${what}`);
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function optString(o: Json, key: string, path: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') fail(`${path}${key}`, 'must be a string');
  return v;
}

function stringArray(v: unknown, path: string, nullable = false): string[] {
  if (v === undefined || (nullable && v === null)) return [];
  if (!Array.isArray(v)) fail(path, nullable ? 'must be an array or null' : 'must be an array');
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') fail(`${path}/${i}`, 'must be a string');
  return v as string[];
}

function validDate(y: number, m: number, d: number, h: number, min: number, s: number): boolean {
  if (m < 1 || m > 12 || h > 23 || min > 59 || s > 60) return false;
  const days = [
    31,
    y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28,
    31,
    30,
    31,
    30,
    31,
    31,
    30,
    31,
    30,
    31,
  ];
  return d >= 1 && d <= (days[m - 1] as number);
}

function timestamp(o: Json, key: string, path: string): string | undefined {
  const v = optString(o, key, path);
  if (v === undefined) return undefined;
  const m = DATE_TIME.exec(v);
  if (!m || !UTC_PATTERN.test(v) || !validDate(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) {
    fail(`${path}${key}`, `not an RFC 3339 UTC timestamp: ${JSON.stringify(v.slice(0, 40))}`);
  }
  return v;
}

function severities(v: unknown, path: string): OsvSeverity[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(path, 'must be an array or null');
  return v.map((s, i) => {
    const at = `${path}/${i}`;
    if (!isObject(s)) fail(at, 'must be an object');
    const type = s.type;
    const score = s.score;
    if (typeof type !== 'string' || typeof score !== 'string') fail(at, 'needs string type and score');
    const check = SEVERITY_PATTERN[type];
    if (!check) fail(`${at}/type`, `unknown severity type ${JSON.stringify(type)}`);
    if (!check(score))
      fail(`${at}/score`, `not a valid ${type} score: ${JSON.stringify(score.slice(0, 80))}`);
    return { type, score };
  });
}

function event(e: unknown, at: string, git: boolean): OsvEvent {
  if (!isObject(e)) fail(at, 'must be an object');
  const present = EVENT_KEYS.filter((k) => k in e);
  // oneOf: exactly one of the four shapes; a string-valued key is what makes a shape match.
  const matching = present.filter((k) => typeof e[k] === 'string');
  if (matching.length !== 1) {
    fail(
      at,
      present.length === 0
        ? 'an event needs one of introduced, fixed, last_affected, limit'
        : `an event must be exactly one of introduced, fixed, last_affected, limit (has ${present.join(', ')})`,
    );
  }
  const key = matching[0] as (typeof EVENT_KEYS)[number];
  const value = e[key] as string;
  if (git && !GIT_HASH.test(value))
    fail(`${at}/${key}`, `GIT ranges need full commit hashes, got ${JSON.stringify(value.slice(0, 60))}`);
  return { [key]: value } as OsvEvent;
}

function range(r: unknown, at: string): OsvRange {
  if (!isObject(r)) fail(at, 'must be an object');
  const type = r.type;
  if (type !== 'SEMVER' && type !== 'ECOSYSTEM' && type !== 'GIT')
    fail(`${at}/type`, `unknown range type ${JSON.stringify(type)}`);
  if (r.repo !== undefined && typeof r.repo !== 'string') fail(`${at}/repo`, 'must be a string');
  if (type === 'GIT' && r.repo === undefined) fail(at, 'GIT ranges require a repo');
  if (!Array.isArray(r.events) || r.events.length === 0) fail(`${at}/events`, 'must be a non-empty array');
  if (r.database_specific !== undefined && !isObject(r.database_specific))
    fail(`${at}/database_specific`, 'must be an object');
  const events = r.events.map((e, i) => event(e, `${at}/events/${i}`, type === 'GIT'));
  if (!events.some((e) => 'introduced' in e)) fail(`${at}/events`, 'must contain an introduced event');
  if (events.some((e) => 'fixed' in e) && events.some((e) => 'last_affected' in e)) {
    fail(`${at}/events`, 'last_affected and fixed events are mutually exclusive');
  }
  const out: OsvRange = { type, events };
  if (typeof r.repo === 'string') out.repo = r.repo;
  return out;
}

function affectedEntry(a: unknown, at: string, topLevelSeverity: boolean): OsvAffected {
  if (!isObject(a)) fail(at, 'must be an object');
  const out: OsvAffected = { severity: [], ranges: [], versions: [] };
  if (a.package !== undefined) {
    const p = a.package;
    if (!isObject(p)) fail(`${at}/package`, 'must be an object');
    if (typeof p.ecosystem !== 'string' || typeof p.name !== 'string')
      fail(`${at}/package`, 'needs string ecosystem and name');
    if (!ECOSYSTEM.test(p.ecosystem))
      fail(`${at}/package/ecosystem`, `unknown ecosystem ${JSON.stringify(p.ecosystem.slice(0, 60))}`);
    if (p.purl !== undefined && typeof p.purl !== 'string') fail(`${at}/package/purl`, 'must be a string');
    out.package = {
      ecosystem: p.ecosystem,
      name: p.name,
      ...(typeof p.purl === 'string' ? { purl: p.purl } : {}),
    };
  }
  if (topLevelSeverity && a.severity !== undefined && a.severity !== null) {
    fail(`${at}/severity`, 'package-level severity is not allowed when the record has a top-level severity');
  }
  out.severity = severities(a.severity, `${at}/severity`);
  if (a.ranges !== undefined) {
    if (!Array.isArray(a.ranges)) fail(`${at}/ranges`, 'must be an array');
    out.ranges = a.ranges.map((r, i) => range(r, `${at}/ranges/${i}`));
  }
  out.versions = stringArray(a.versions, `${at}/versions`);
  for (const key of ['ecosystem_specific', 'database_specific'] as const) {
    if (a[key] !== undefined && !isObject(a[key])) fail(`${at}/${key}`, 'must be an object');
  }
  const dbSeverity = isObject(a.database_specific) ? a.database_specific.severity : undefined;
  if (typeof dbSeverity === 'string') out.databaseSeverity = dbSeverity;
  return out;
}

function references(v: unknown): Array<{ type: string; url: string }> {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail('references', 'must be an array or null');
  return v.map((r, i) => {
    const at = `references/${i}`;
    if (!isObject(r)) fail(at, 'must be an object');
    if (typeof r.type !== 'string' || !REFERENCE_TYPES.has(r.type))
      fail(`${at}/type`, `unknown reference type ${JSON.stringify(r.type)}`);
    if (typeof r.url !== 'string' || !URI.test(r.url))
      fail(`${at}/url`, `not a URI: ${JSON.stringify(String(r.url).slice(0, 80))}`);
    return { type: r.type, url: r.url };
  });
}

function credits(v: unknown): void {
  if (v === undefined) return;
  if (!Array.isArray(v)) fail('credits', 'must be an array');
  v.forEach((c, i) => {
    const at = `credits/${i}`;
    if (!isObject(c) || typeof c.name !== 'string') fail(at, 'needs a string name');
    stringArray(c.contact, `${at}/contact`);
    if (c.type !== undefined && (typeof c.type !== 'string' || !CREDIT_TYPES.has(c.type)))
      fail(`${at}/type`, `unknown credit type ${JSON.stringify(c.type)}`);
  });
}

/** Validate and type one OSV record (already JSON-parsed). Never throws. */
export function parseOsvRecord(raw: unknown): ParsedRecord {
  const id = isObject(raw) && typeof raw.id === 'string' ? raw.id : undefined;
  try {
    if (!isObject(raw)) fail('', 'an OSV record is a JSON object');
    for (const key of Object.keys(raw)) if (!TOP_LEVEL.has(key)) fail(key, 'unknown top-level field');
    if (id === undefined) fail('id', 'required string');
    if (!ID_PREFIX.test(id)) fail('id', `unknown database prefix in ${JSON.stringify(id.slice(0, 60))}`);
    const modified = timestamp(raw, 'modified', '');
    if (modified === undefined) fail('modified', 'required');
    const published = timestamp(raw, 'published', '');
    const withdrawn = timestamp(raw, 'withdrawn', '');
    optString(raw, 'schema_version', '');
    const summary = optString(raw, 'summary', '');
    const details = optString(raw, 'details', '');
    const aliases = stringArray(raw.aliases, 'aliases', true);
    const related = stringArray(raw.related, 'related');
    const upstream = stringArray(raw.upstream, 'upstream');
    const severity = severities(raw.severity, 'severity');
    if (raw.affected !== undefined && raw.affected !== null && !Array.isArray(raw.affected))
      fail('affected', 'must be an array or null');
    const affected = ((raw.affected ?? []) as unknown[]).map((a, i) =>
      affectedEntry(a, `affected/${i}`, 'severity' in raw),
    );
    const refs = references(raw.references);
    credits(raw.credits);
    if (raw.database_specific !== undefined && !isObject(raw.database_specific))
      fail('database_specific', 'must be an object');
    const record: OsvRecord = { id, modified, aliases, upstream, related, severity, affected };
    if (published !== undefined) record.published = published;
    if (withdrawn !== undefined) record.withdrawn = withdrawn;
    if (summary !== undefined) record.summary = summary;
    if (details !== undefined) record.details = details;
    const db = isObject(raw.database_specific) ? raw.database_specific : undefined;
    const url = typeof db?.url === 'string' ? db.url : refs.find((r) => r.type === 'ADVISORY')?.url;
    if (url !== undefined) record.url = url;
    if (typeof db?.severity === 'string') record.databaseSeverity = db.severity;
    return { ok: true, record };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, ...(id !== undefined ? { id } : {}), reason: e.message };
    throw e;
  }
}
