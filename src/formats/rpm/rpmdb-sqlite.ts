/**
 * rpm's SQLite package database (`rpmdb.sqlite`, default since rpm 4.16: Fedora 33+, RHEL 9,
 * CBL-Mariner 2). rpm lib/backend/sqlite.c keeps each header blob in `Packages(hnum INTEGER PRIMARY
 * KEY, blob BLOB)`; the other tables are indexes we do not need.
 *
 * The bytes are opened in memory with `DatabaseSync.deserialize`, so nothing is written to disk. A
 * database in WAL mode may hold recent commits in `rpmdb.sqlite-wal`; when that file is given it is
 * replayed by opening both from a private temp directory (SQLite reads a WAL only from a file).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { WaybillError } from '../../errors.ts';

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * node:sqlite is loaded on first use, not at start-up: Node 22 prints an ExperimentalWarning when
 * the module loads, which every command would otherwise show.
 */
function sqlite(): typeof import('node:sqlite') {
  return process.getBuiltinModule('node:sqlite');
}

export function isSqlite(buf: Buffer): boolean {
  return buf.length >= 16 && buf.subarray(0, 16).equals(SQLITE_MAGIC);
}

export interface SqliteBlob {
  hnum: number;
  blob: Buffer;
}

/** Every header blob of the Packages table, ordered by hnum. Throws WaybillError when unreadable. */
export function readSqliteBlobs(db: Buffer, input = 'rpmdb.sqlite', wal?: Buffer): SqliteBlob[] {
  if (!isSqlite(db)) throw new WaybillError('MALFORMED', input, 'not an SQLite 3 database');
  let tempDir: string | undefined;
  let handle: DatabaseSync | undefined;
  try {
    if (wal && wal.length > 0) {
      tempDir = mkdtempSync(join(tmpdir(), 'waybill-rpmdb-'));
      const file = join(tempDir, 'rpmdb.sqlite');
      writeFileSync(file, db, { mode: 0o600 });
      writeFileSync(`${file}-wal`, wal, { mode: 0o600 });
      handle = new (sqlite().DatabaseSync)(file);
    } else {
      // sqlite3_deserialize cannot open a WAL-mode image; with no WAL content to replay, marking
      // the copy as rollback-journal (header bytes 18–19, file format read/write version = 1) is
      // an equivalent view of the same pages.
      const image = new Uint8Array(db);
      if (image[18] === 2) image[18] = 1;
      if (image[19] === 2) image[19] = 1;
      handle = new (sqlite().DatabaseSync)(':memory:');
      handle.deserialize(image);
    }
    // Untrusted database: no extensions, no writes through hidden triggers.
    handle.exec('PRAGMA query_only = ON');
    const rows = handle.prepare('SELECT hnum, blob FROM Packages ORDER BY hnum').all();
    const out: SqliteBlob[] = [];
    for (const row of rows) {
      const hnum = Number(row.hnum);
      const blob = row.blob;
      if (!(blob instanceof Uint8Array)) continue;
      out.push({ hnum, blob: Buffer.from(blob) });
    }
    return out;
  } catch (e) {
    if (e instanceof WaybillError) throw e;
    throw new WaybillError(
      'MALFORMED',
      input,
      `sqlite: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`,
      {
        cause: e,
      },
    );
  } finally {
    try {
      handle?.close();
    } catch {
      // already closed or never opened
    }
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  }
}
