/**
 * `waybill audit` on an artifact that `waybill publish` put in a release directory: the record says
 * when it was built, the publication statement beside it (NAME.publication.json) says when it was
 * published — the record itself carries no publication date, as stamp runs before publish. The
 * freshness summary gives both ages, as issue 11 asks ("age since build and since publication"),
 * and names the newer release the directory's index lists.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { waybill, waybillJson } from '../helpers/cli.ts';
import { makeTmp, removeTmp, run } from '../helpers/exec-fixtures.ts';

let tmp: string;
before(async () => {
  tmp = await makeTmp('waybill-audit-published-');
});
after(() => removeTmp(tmp));

/** A tarball stamped as hello VERSION, built at `built`, then published into `root`. */
async function stampAndPublish(root: string, version: string, built: string): Promise<void> {
  const src = join(tmp, `src-${version}`);
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'README'), `hello ${version}\n`);
  const file = join(tmp, `hello-${version}.tar`);
  await run('tar', ['-C', src, '-cf', file, 'README']);
  const stamped = await waybill([
    'stamp',
    file,
    '--name',
    'hello',
    '--version',
    version,
    '--built',
    built,
    '--team',
    'Example Team',
    '--contact',
    'team@example.org',
    '--quiet',
  ]);
  assert.ok(stamped.code === 0 || stamped.code === 1, stamped.stderr);
  const published = await waybill(['publish', file, `dir:${root}`, '--force', '--quiet']);
  assert.equal(published.code, 0, published.stderr);
}

test('a published artifact: ages since built and since published, the newer release', async () => {
  const root = join(tmp, 'releases');
  await mkdir(root);
  await stampAndPublish(root, '1.0.0', '2024-01-01T00:00:00Z');
  await stampAndPublish(root, '1.1.0', '2024-06-01T00:00:00Z');
  const index = JSON.parse(await readFile(join(root, 'hello', 'index.json'), 'utf8')) as {
    versions: Array<{ version: string; artifacts: Array<{ published: string }> }>;
  };
  const published = index.versions.find((v) => v.version === '1.0.0')?.artifacts[0]?.published;
  assert.ok(published, 'the index lists the publication date');
  const db = join(tmp, 'advisories.db');
  const osv = join(tmp, 'osv');
  await mkdir(osv);
  await writeFile(
    join(osv, 'PYSEC-0000-1.json'),
    JSON.stringify({ id: 'PYSEC-0000-1', modified: '2024-01-01T00:00:00Z', affected: [] }),
  );
  assert.equal((await waybill(['db', 'import', '--db', db, osv, '--quiet'])).code, 0);
  // Ten days after publication, whatever the clock said when publish ran.
  const now = new Date(Date.parse(published) + 10 * 86_400_000).toISOString();
  const audit = ['audit', join(root, 'hello', '1.0.0', 'hello-1.0.0.tar'), '--db', db, '--now', now];
  const r = await waybillJson<{
    freshness: {
      built?: string;
      published?: string;
      daysSinceBuilt?: number;
      daysSincePublished?: number;
      newerRelease?: { newer: string[] };
    };
  }>([...audit, '--format', 'json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.freshness.built, '2024-01-01T00:00:00Z');
  assert.equal(r.json.freshness.published, published);
  assert.equal(r.json.freshness.daysSincePublished, 10);
  assert.deepEqual(r.json.freshness.newerRelease?.newer, ['1.1.0']);
  const text = await waybill(audit);
  assert.match(text.stdout, /published 10 days ago/);
});
