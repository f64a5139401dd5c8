/**
 * End to end through the real CLI: `db import` of advisory sources an attacker wrote. A JSON file in
 * an advisory directory is held to the limit of a zip entry (64 MiB) instead of being read whole (up
 * to 2 GiB into memory); a file past what Node can read at once is refused naming it, not with
 * Node's own "File size (…) is greater than 2 GiB". Sparse files: cheap on disk, never read.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeZip } from '../../src/archive/zip-writer.ts';
import { waybill } from '../helpers/cli.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'waybill-hostile-advisories-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function sparse(path: string, size: number): void {
  writeFileSync(path, '');
  truncateSync(path, size);
}

const db = () => join(dir, 'advisories.db');

test('a 100 MiB JSON file in an advisory directory: one line naming it, exit 2', async () => {
  const tree = join(dir, 'osv');
  mkdirSync(tree);
  writeFileSync(
    join(tree, 'GHSA-aaaa-bbbb-cccc.json'),
    JSON.stringify({ id: 'GHSA-aaaa-bbbb-cccc', modified: '2024-01-01T00:00:00Z' }),
  );
  sparse(join(tree, 'huge.json'), 100 * 1024 * 1024);
  const r = await waybill(['db', 'import', '--db', db(), '-q', tree]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^waybill: \S+huge\.json: is 104857600 bytes, over the 67108864-byte limit$/m);
});

test('a 3 GiB file given to db import: one line naming it, exit 2', async () => {
  const zip = join(dir, 'all.zip');
  sparse(zip, 3 * 1024 ** 3);
  const r = await waybill(['db', 'import', '--db', db(), '-q', zip]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(
    r.stderr,
    /^waybill: \S+all\.zip: 3221225472 bytes: larger than the \d+-byte limit for one file/m,
  );
});

test('a zip entry that is not an object: skipped with one clean reason', async () => {
  const zip = join(dir, 'not-objects.zip');
  writeFileSync(zip, writeZip([{ name: 'GHSA-text.json', data: Buffer.from('"an advisory"') }]));
  const r = await waybill(['db', 'import', '--db', join(dir, 'skips.db'), zip]);
  assert.equal(r.code, 0, r.stderr);
  const skipped = r.stdout.split('\n').filter((l) => l.startsWith('skipped'));
  assert.deepEqual(skipped, [`skipped (no id) in ${zip}:GHSA-text.json: an OSV record is a JSON object`]);
});
