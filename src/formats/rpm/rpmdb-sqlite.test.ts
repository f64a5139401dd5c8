import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { WaybillError } from '../../errors.ts';
import { isSqlite, readSqliteBlobs } from './rpmdb-sqlite.ts';

const SQLITE = new URL(
  '../../../../shared/fixtures/vectors/os-package-db/rpm/go-rpmdb/cbl-mariner-2.0/rpmdb.sqlite',
  import.meta.url,
).pathname;

test('WAL-mode rpmdb.sqlite opens from memory: 129 header blobs in hnum order, nothing left in tmpdir', (t) => {
  if (!existsSync(SQLITE)) return t.skip(`fixtures absent: ${SQLITE}`);
  const data = readFileSync(SQLITE);
  assert.equal(data[18], 2, 'fixture is in WAL mode');
  const before = readdirSync(tmpdir()).filter((n) => n.startsWith('waybill-rpmdb-')).length;
  const blobs = readSqliteBlobs(data);
  assert.equal(blobs.length, 129);
  assert.deepEqual(
    blobs.map((b) => b.hnum),
    [...blobs.map((b) => b.hnum)].sort((a, b) => a - b),
  );
  assert.equal(data[18], 2, 'input buffer is not modified');
  // An empty WAL is the same as none.
  assert.equal(readSqliteBlobs(data, 'x', Buffer.alloc(0)).length, 129);
  assert.equal(readdirSync(tmpdir()).filter((n) => n.startsWith('waybill-rpmdb-')).length, before);
});

test('not SQLite, truncated SQLite, SQLite without a Packages table → WaybillError MALFORMED', (t) => {
  assert.equal(isSqlite(Buffer.from('nope')), false);
  const isMalformed = (e: unknown) => e instanceof WaybillError && e.code === 'MALFORMED';
  assert.throws(() => readSqliteBlobs(Buffer.from('not a database at all')), isMalformed);
  assert.throws(() => readSqliteBlobs(Buffer.from('SQLite format 3\0short')), isMalformed);
  if (!existsSync(SQLITE)) return t.skip('fixtures absent');
  const data = readFileSync(SQLITE);
  assert.throws(() => readSqliteBlobs(data.subarray(0, 8192)), isMalformed);
  const wal = Buffer.alloc(64, 0xab);
  assert.throws(() => readSqliteBlobs(data.subarray(0, 4096), 'x', wal), isMalformed);
});
