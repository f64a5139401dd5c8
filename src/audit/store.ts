/**
 * The local advisory database: an SQLite file (node:sqlite) holding OSV advisories indexed by
 * (ecosystem, package name), their aliases, the sources they came from, and waybill's data tables
 * (end-of-life dates, package release dates).
 *
 * Imports are all-or-nothing: one `import` call is one transaction, so a fatal error in any source
 * (a zip with entries outside its root, a bomb, an unreadable file) rolls back everything it wrote,
 * and the database is never half updated. A single advisory that fails the OSV schema is skipped and
 * reported, not fatal. Re-importing is incremental: an advisory is replaced only when the new copy's
 * `modified` is later than the stored one. Withdrawn advisories are stored (so the next import knows
 * them) and never returned as candidates.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { WaybillError } from '../errors.ts';
import { tooDeepReason } from '../util/json-depth.ts';
import { type EolEntry, parseDataFile } from './data-files.ts';
import { nameKey, parseEcosystem } from './ecosystem.ts';
import type { ImportSource, SourceKind } from './import-sources.ts';
import { type OsvAffected, type OsvRecord, type OsvSeverity, parseOsvRecord } from './osv-record.ts';

const SCHEMA_VERSION = '1';

const SCHEMA = `
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources(
  name TEXT PRIMARY KEY, kind TEXT NOT NULL, digest TEXT NOT NULL,
  advisories INTEGER NOT NULL, newest_modified TEXT, skipped INTEGER NOT NULL);
CREATE TABLE advisories(
  id TEXT PRIMARY KEY, modified TEXT NOT NULL, published TEXT, withdrawn TEXT, source TEXT NOT NULL,
  summary TEXT, aliases TEXT NOT NULL, severity TEXT NOT NULL, database_severity TEXT, url TEXT);
CREATE TABLE affected(
  advisory_id TEXT NOT NULL, ecosystem TEXT NOT NULL, base TEXT NOT NULL, suffix TEXT NOT NULL,
  name_key TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX affected_package ON affected(base, name_key);
CREATE INDEX affected_advisory ON affected(advisory_id);
CREATE TABLE aliases(id TEXT NOT NULL, alias TEXT NOT NULL, PRIMARY KEY(id, alias)) WITHOUT ROWID;
CREATE INDEX aliases_alias ON aliases(alias);
CREATE TABLE eol(
  distro TEXT NOT NULL, release TEXT NOT NULL, codename TEXT, released TEXT, eol TEXT NOT NULL,
  eol_extended TEXT, source TEXT NOT NULL, PRIMARY KEY(distro, release));
CREATE TABLE release_dates(
  base TEXT NOT NULL, name_key TEXT NOT NULL, version TEXT NOT NULL, date TEXT NOT NULL,
  PRIMARY KEY(base, name_key, version)) WITHOUT ROWID;
`;

export interface SourceStatus {
  name: string;
  kind: SourceKind;
  digest: string;
  /** Valid advisories (or data rows) in the source, withdrawn ones included. */
  advisories: number;
  /** The latest `modified` among them. */
  newestModified?: string;
  /** Records skipped because they are not valid OSV. */
  skipped: number;
}

export interface SkippedRecord {
  source: string;
  path: string;
  id?: string;
  reason: string;
}

export interface ImportResult {
  sources: Array<SourceStatus & { added: number; updated: number; unchanged: number }>;
  skipped: SkippedRecord[];
}

export interface DbStatus {
  path: string;
  schemaVersion: string;
  advisories: number;
  withdrawn: number;
  /** Advisories per ecosystem base (an advisory naming two ecosystems counts in both). */
  ecosystems: Record<string, number>;
  sources: SourceStatus[];
  eolEntries: number;
  releaseDates: number;
}

/** One affected entry of a stored, not withdrawn advisory. */
export interface StoredAffected {
  advisoryId: string;
  ecosystem: string;
  name: string;
  affected: OsvAffected;
}

export interface StoredAdvisory {
  id: string;
  modified: string;
  published?: string;
  withdrawn?: string;
  summary?: string;
  aliases: string[];
  severity: OsvSeverity[];
  databaseSeverity?: string;
  url?: string;
  source: string;
}

export type Row = Record<string, unknown>;

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Later-than for OSV timestamps: by instant, falling back to text for the unparseable. */
function isLater(a: string, b: string): boolean {
  const x = Date.parse(a);
  const y = Date.parse(b);
  if (Number.isNaN(x) || Number.isNaN(y)) return a > b;
  return x > y;
}

export function storedAdvisory(r: Row): StoredAdvisory {
  const out: StoredAdvisory = {
    id: String(r.id),
    modified: String(r.modified),
    aliases: JSON.parse(String(r.aliases)) as string[],
    severity: JSON.parse(String(r.severity)) as OsvSeverity[],
    source: String(r.source),
  };
  for (const [key, column] of [
    ['published', 'published'],
    ['withdrawn', 'withdrawn'],
    ['summary', 'summary'],
    ['databaseSeverity', 'database_severity'],
    ['url', 'url'],
  ] as const) {
    const v = str(r[column]);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

function sqliteReason(e: unknown): string {
  return e instanceof Error ? (e.message.split('\n')[0] ?? String(e)) : String(e);
}

export class AdvisoryStore {
  readonly path: string;
  private readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.db = db;
  }

  /**
   * Open the database at `path`. With `create`, a missing file is created (with its directory);
   * otherwise a missing file is NOT_FOUND. A file that is not a waybill advisory database is
   * MALFORMED and is never modified.
   */
  static open(path: string, options: { create?: boolean } = {}): AdvisoryStore {
    const exists = existsSync(path);
    if (!exists && !options.create) {
      throw new WaybillError(
        'NOT_FOUND',
        path,
        'no advisory database here; create it with `waybill db import PATH…`',
      );
    }
    if (!exists) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    let db: DatabaseSync;
    try {
      // Readers never write: an audit cannot change the database, even by a journal replay.
      // A concurrent import holds the write lock for its one transaction: wait for it, not fail.
      db = new DatabaseSync(path, { readOnly: !options.create, timeout: 60_000 });
    } catch (e) {
      throw new WaybillError('NOT_FOUND', path, `cannot open the advisory database: ${sqliteReason(e)}`);
    }
    const store = new AdvisoryStore(path, db);
    try {
      store.checkSchema(!exists);
    } catch (e) {
      db.close();
      throw e;
    }
    return store;
  }

  private checkSchema(fresh: boolean): void {
    let tables: Row[];
    try {
      tables = this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
    } catch (e) {
      throw new WaybillError('MALFORMED', this.path, `not an advisory database (${sqliteReason(e)})`);
    }
    if (tables.length === 0 && fresh) {
      this.db.exec('BEGIN');
      this.db.exec(SCHEMA);
      this.db.prepare('INSERT INTO meta(key, value) VALUES (?, ?)').run('schema', SCHEMA_VERSION);
      this.db.exec('COMMIT');
      return;
    }
    const names = new Set(tables.map((t) => t.name));
    if (!names.has('meta') || !names.has('advisories')) {
      throw new WaybillError('MALFORMED', this.path, 'an SQLite file, but not a waybill advisory database');
    }
    let version: string | undefined;
    try {
      version = str(this.db.prepare("SELECT value FROM meta WHERE key = 'schema'").get()?.value);
      // A damaged page shows up on the first full read, not on open: check the whole file now.
      const check = str(this.db.prepare('PRAGMA quick_check').get()?.quick_check);
      if (check !== 'ok') throw new Error(check ?? 'integrity check failed');
    } catch (e) {
      throw new WaybillError('MALFORMED', this.path, `damaged advisory database (${sqliteReason(e)})`);
    }
    if (version !== SCHEMA_VERSION) {
      throw new WaybillError(
        'UNSUPPORTED',
        this.path,
        `advisory database schema ${version ?? '?'}; this waybill reads schema ${SCHEMA_VERSION} (re-create it with db import)`,
      );
    }
  }

  private stmt(sql: string): StatementSync {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  close(): void {
    this.statements.clear();
    this.db.close();
  }

  /**
   * Import sources in one transaction. Throws (after rolling back) on the first fatal error; single
   * invalid records are skipped and listed in the result.
   */
  async import(
    sources: ImportSource[],
    onProgress?: (done: number, source: string) => void,
  ): Promise<ImportResult> {
    const result: ImportResult = { sources: [], skipped: [] };
    this.db.exec('BEGIN IMMEDIATE');
    try {
      let done = 0;
      for (const source of sources) {
        const stats = {
          added: 0,
          updated: 0,
          unchanged: 0,
          advisories: 0,
          skipped: 0,
          newest: undefined as string | undefined,
        };
        for await (const entry of source.entries()) {
          let raw: unknown;
          let unreadable: string | undefined;
          try {
            raw = JSON.parse(entry.bytes.toString('utf8').replace(/^\uFEFF/, ''));
            unreadable = tooDeepReason(raw);
          } catch (e) {
            unreadable = `not JSON: ${sqliteReason(e)}`;
          }
          if (unreadable !== undefined) {
            if (source.kind === 'waybill-data') throw new WaybillError('MALFORMED', entry.path, unreadable);
            stats.skipped++;
            result.skipped.push({ source: source.name, path: entry.path, reason: unreadable });
            continue;
          }
          if (source.kind === 'waybill-data') {
            stats.advisories += this.importDataFile(raw, source.name, entry.path);
            continue;
          }
          for (const item of Array.isArray(raw) ? raw : [raw]) {
            const parsed = parseOsvRecord(item);
            if (!parsed.ok) {
              stats.skipped++;
              result.skipped.push({
                source: source.name,
                path: entry.path,
                ...(parsed.id !== undefined ? { id: parsed.id } : {}),
                reason: parsed.reason,
              });
              continue;
            }
            const record = parsed.record;
            stats.advisories++;
            if (stats.newest === undefined || isLater(record.modified, stats.newest))
              stats.newest = record.modified;
            stats[this.upsert(record, source.name)]++;
          }
          onProgress?.(++done, source.name);
        }
        const status: SourceStatus = {
          name: source.name,
          kind: source.kind,
          digest: source.digest(),
          advisories: stats.advisories,
          skipped: stats.skipped,
          ...(stats.newest !== undefined ? { newestModified: stats.newest } : {}),
        };
        this.stmt(
          'INSERT OR REPLACE INTO sources(name, kind, digest, advisories, newest_modified, skipped) VALUES (?, ?, ?, ?, ?, ?)',
        ).run(
          status.name,
          status.kind,
          status.digest,
          status.advisories,
          status.newestModified ?? null,
          status.skipped,
        );
        result.sources.push({
          ...status,
          added: stats.added,
          updated: stats.updated,
          unchanged: stats.unchanged,
        });
      }
      this.db.exec('COMMIT');
    } catch (e) {
      this.db.exec('ROLLBACK');
      throw e;
    }
    return result;
  }

  private upsert(record: OsvRecord, source: string): 'added' | 'updated' | 'unchanged' {
    const existing = str(this.stmt('SELECT modified FROM advisories WHERE id = ?').get(record.id)?.modified);
    if (existing !== undefined && !isLater(record.modified, existing)) return 'unchanged';
    if (existing !== undefined) {
      this.stmt('DELETE FROM affected WHERE advisory_id = ?').run(record.id);
      this.stmt('DELETE FROM aliases WHERE id = ?').run(record.id);
    }
    this.stmt(
      `INSERT OR REPLACE INTO advisories(id, modified, published, withdrawn, source, summary, aliases, severity, database_severity, url)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      record.id,
      record.modified,
      record.published ?? null,
      record.withdrawn ?? null,
      source,
      record.summary ?? null,
      JSON.stringify(record.aliases),
      JSON.stringify(record.severity),
      record.databaseSeverity ?? null,
      record.url ?? null,
    );
    const insertAffected = this.stmt(
      'INSERT INTO affected(advisory_id, ecosystem, base, suffix, name_key, name, data) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    for (const a of record.affected) {
      if (!a.package) continue; // GIT-only entries name no package: nothing to match against
      const { base, suffix } = parseEcosystem(a.package.ecosystem);
      const data = {
        ranges: a.ranges,
        versions: a.versions,
        severity: a.severity,
        databaseSeverity: a.databaseSeverity,
      };
      insertAffected.run(
        record.id,
        a.package.ecosystem,
        base,
        suffix,
        nameKey(base, a.package.name),
        a.package.name,
        JSON.stringify(data),
      );
    }
    const insertAlias = this.stmt('INSERT OR IGNORE INTO aliases(id, alias) VALUES (?, ?)');
    for (const alias of record.aliases) if (alias !== record.id) insertAlias.run(record.id, alias);
    return existing === undefined ? 'added' : 'updated';
  }

  private importDataFile(raw: unknown, source: string, input: string): number {
    const data = parseDataFile(raw, input);
    if (data.kind === 'waybill.dev/eol/v1') {
      const insert = this.stmt(
        'INSERT OR REPLACE INTO eol(distro, release, codename, released, eol, eol_extended, source) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      for (const r of data.releases) {
        insert.run(
          r.distro,
          r.release,
          r.codename ?? null,
          r.released ?? null,
          r.eol,
          r.eolExtended ?? null,
          source,
        );
      }
      return data.releases.length;
    }
    const insert = this.stmt(
      'INSERT OR REPLACE INTO release_dates(base, name_key, version, date) VALUES (?, ?, ?, ?)',
    );
    let n = 0;
    for (const p of data.packages) {
      const { base } = parseEcosystem(p.ecosystem);
      for (const [version, date] of Object.entries(p.versions)) {
        insert.run(base, nameKey(base, p.name), version, date);
        n++;
      }
    }
    return n;
  }

  status(): DbStatus {
    const count = (sql: string) => Number(this.stmt(sql).get()?.n ?? 0);
    const ecosystems: Record<string, number> = {};
    for (const row of this.stmt(
      'SELECT base, COUNT(DISTINCT advisory_id) AS n FROM affected GROUP BY base ORDER BY base',
    ).all()) {
      ecosystems[String(row.base)] = Number(row.n);
    }
    const sources = this.stmt('SELECT * FROM sources ORDER BY name')
      .all()
      .map((r): SourceStatus => {
        const s: SourceStatus = {
          name: String(r.name),
          kind: r.kind as SourceKind,
          digest: String(r.digest),
          advisories: Number(r.advisories),
          skipped: Number(r.skipped),
        };
        const newest = str(r.newest_modified);
        if (newest !== undefined) s.newestModified = newest;
        return s;
      });
    return {
      path: this.path,
      schemaVersion: SCHEMA_VERSION,
      advisories: count('SELECT COUNT(*) AS n FROM advisories'),
      withdrawn: count('SELECT COUNT(*) AS n FROM advisories WHERE withdrawn IS NOT NULL'),
      ecosystems,
      sources,
      eolEntries: count('SELECT COUNT(*) AS n FROM eol'),
      releaseDates: count('SELECT COUNT(*) AS n FROM release_dates'),
    };
  }

  /**
   * Every affected entry of one ecosystem from advisories that are not withdrawn, by package key,
   * with the entry's JSON left unparsed: one query, for audits of many components.
   */
  affectedByBase(
    base: string,
  ): Map<string, Array<{ advisoryId: string; ecosystem: string; name: string; data: string }>> {
    const out = new Map<
      string,
      Array<{ advisoryId: string; ecosystem: string; name: string; data: string }>
    >();
    for (const r of this.stmt(
      `SELECT f.advisory_id, f.ecosystem, f.name, f.name_key, f.data FROM affected f JOIN advisories a ON a.id = f.advisory_id
       WHERE f.base = ? AND a.withdrawn IS NULL ORDER BY f.advisory_id, f.rowid`,
    ).all(base)) {
      const key = String(r.name_key);
      const row = {
        advisoryId: String(r.advisory_id),
        ecosystem: String(r.ecosystem),
        name: String(r.name),
        data: String(r.data),
      };
      const list = out.get(key);
      if (list) list.push(row);
      else out.set(key, [row]);
    }
    return out;
  }

  /** alias → the ids that list it, for the whole database. */
  aliasIndex(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const r of this.stmt('SELECT id, alias FROM aliases ORDER BY alias, id').all()) {
      const alias = String(r.alias);
      const list = out.get(alias);
      if (list) list.push(String(r.id));
      else out.set(alias, [String(r.id)]);
    }
    return out;
  }

  /** Every release date, by `base\0key`. */
  releaseDateIndex(): Map<string, Map<string, string>> {
    const out = new Map<string, Map<string, string>>();
    for (const r of this.stmt('SELECT base, name_key, version, date FROM release_dates').all()) {
      const key = `${r.base}\0${r.name_key}`;
      let m = out.get(key);
      if (!m) {
        m = new Map();
        out.set(key, m);
      }
      m.set(String(r.version), String(r.date));
    }
    return out;
  }

  /** Affected entries naming this package, from advisories that are not withdrawn. */
  affectedFor(base: string, key: string): StoredAffected[] {
    return this.stmt(
      `SELECT f.advisory_id, f.ecosystem, f.name, f.data FROM affected f JOIN advisories a ON a.id = f.advisory_id
       WHERE f.base = ? AND f.name_key = ? AND a.withdrawn IS NULL ORDER BY f.advisory_id, f.rowid`,
    )
      .all(base, key)
      .map((r) => ({
        advisoryId: String(r.advisory_id),
        ecosystem: String(r.ecosystem),
        name: String(r.name),
        affected: JSON.parse(String(r.data)) as OsvAffected,
      }));
  }

  advisory(id: string): StoredAdvisory | undefined {
    const r = this.stmt('SELECT * FROM advisories WHERE id = ?').get(id);
    return r ? storedAdvisory(r) : undefined;
  }

  /** Every advisory row, unparsed, by id: one query for audits that touch thousands. */
  advisoryRows(): Map<string, Row> {
    return new Map(
      this.stmt('SELECT * FROM advisories')
        .all()
        .map((r) => [String(r.id), r] as const),
    );
  }

  /** Ids that name `id` among their aliases (aliases are symmetric: OSV schema, aliases field). */
  aliasedBy(id: string): string[] {
    return this.stmt('SELECT id FROM aliases WHERE alias = ? ORDER BY id')
      .all(id)
      .map((r) => String(r.id));
  }

  eolEntries(): EolEntry[] {
    return this.stmt('SELECT * FROM eol ORDER BY distro, release')
      .all()
      .map((r) => {
        const e: EolEntry = { distro: String(r.distro), release: String(r.release), eol: String(r.eol) };
        if (str(r.codename)) e.codename = String(r.codename);
        if (str(r.released)) e.released = String(r.released);
        if (str(r.eol_extended)) e.eolExtended = String(r.eol_extended);
        return e;
      });
  }

  releaseDates(base: string, key: string): Map<string, string> {
    return new Map(
      this.stmt('SELECT version, date FROM release_dates WHERE base = ? AND name_key = ?')
        .all(base, key)
        .map((r) => [String(r.version), String(r.date)] as const),
    );
  }
}
