import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { withTempDir } from '../../test/helpers/temp-dir.ts';
import { WaybillError } from '../errors.ts';
import { recoverStaging, StagingArea } from './staging.ts';
import { journalName } from './temp-names.ts';

const withDir = (fn: (dir: string) => Promise<void>) => withTempDir('staging', fn);

const SIDECARS = (to: string) => ['app.deb', 'app.deb.cdx.json', 'app.deb.waybill.json'].includes(to);

test('nothing is visible until commit; then every file at once and no leftovers', () =>
  withDir(async (dir) => {
    await writeFile(join(dir, 'app.deb'), 'old');
    const staging = await StagingArea.create(dir, 'app.deb');
    assert.equal((await stat(staging.path)).mode & 0o777, 0o700);
    await staging.write('sbom', 'S');
    await staging.write('record', 'R');
    await staging.write('app.deb', 'new');
    staging.publish('sbom', 'app.deb.cdx.json');
    staging.publish('record', 'app.deb.waybill.json');
    staging.publish('app.deb', 'app.deb');
    assert.deepEqual(
      (await readdir(dir)).filter((n) => !n.startsWith('.')),
      ['app.deb'],
    );
    await staging.commit();
    assert.deepEqual((await readdir(dir)).sort(), ['app.deb', 'app.deb.cdx.json', 'app.deb.waybill.json']);
    assert.equal(await readFile(join(dir, 'app.deb'), 'utf8'), 'new');
  }));

test('commit refuses a symlink at any target before renaming anything', () =>
  withDir(async (dir) => {
    await writeFile(join(dir, 'app.deb'), 'old');
    await symlink('/dev/null', join(dir, 'app.deb.waybill.json'));
    const staging = await StagingArea.create(dir, 'app.deb');
    await staging.write('sbom', 'S');
    await staging.write('record', 'R');
    staging.publish('sbom', 'app.deb.cdx.json');
    staging.publish('record', 'app.deb.waybill.json');
    await assert.rejects(
      staging.commit(),
      (e: unknown) => e instanceof WaybillError && e.code === 'UNSAFE_PATH',
    );
    await staging.discard();
    assert.deepEqual((await readdir(dir)).sort(), ['app.deb', 'app.deb.waybill.json']);
  }));

test('a target below a symlinked directory is refused (blobs/sha256 -> elsewhere)', () =>
  withDir(async (dir) => {
    const elsewhere = join(dir, 'elsewhere');
    await mkdir(elsewhere);
    await mkdir(join(dir, 'layout', 'blobs'), { recursive: true });
    await symlink(elsewhere, join(dir, 'layout', 'blobs', 'sha256'));
    const staging = await StagingArea.create(join(dir, 'layout'), '');
    await staging.write('blob', '{}');
    staging.publish('blob', `blobs/sha256/${'a'.repeat(64)}`);
    await assert.rejects(staging.commit(), /blobs\/sha256: is a symbolic link, not a directory/);
    assert.deepEqual(await readdir(elsewhere), []);
  }));

/** A commit interrupted after its journal: the journal and staging directory, some renames done. */
async function interruptedCommit(dir: string, renamedFirst: boolean): Promise<void> {
  const staging = await StagingArea.create(dir, 'app.deb');
  await staging.write('sbom', 'S');
  await staging.write('record', 'R');
  await staging.write('app.deb', 'new');
  const renames = [
    { from: 'sbom', to: 'app.deb.cdx.json' },
    { from: 'record', to: 'app.deb.waybill.json' },
    { from: 'app.deb', to: 'app.deb' },
  ];
  const name = staging.path.slice(dir.length + 1);
  await writeFile(
    join(dir, journalName('app.deb')),
    JSON.stringify({ waybillJournal: 1, staging: name, renames }),
  );
  if (renamedFirst) {
    const { rename } = await import('node:fs/promises');
    await rename(join(staging.path, 'sbom'), join(dir, 'app.deb.cdx.json'));
  }
}

test('recovery rolls an interrupted commit forward, wherever it stopped', async () => {
  for (const renamedFirst of [false, true]) {
    await withDir(async (dir) => {
      await writeFile(join(dir, 'app.deb'), 'old');
      await interruptedCommit(dir, renamedFirst);
      const recovery = await recoverStaging(dir, 'app.deb', SIDECARS);
      assert.deepEqual(
        recovery.completed,
        renamedFirst
          ? ['app.deb.waybill.json', 'app.deb']
          : ['app.deb.cdx.json', 'app.deb.waybill.json', 'app.deb'],
      );
      assert.deepEqual((await readdir(dir)).sort(), ['app.deb', 'app.deb.cdx.json', 'app.deb.waybill.json']);
      assert.equal(await readFile(join(dir, 'app.deb'), 'utf8'), 'new');
    });
  }
});

test('a journal naming a target outside the plan is refused, nothing renamed', () =>
  withDir(async (dir) => {
    const staging = await StagingArea.create(dir, 'app.deb');
    await staging.write('x', 'evil');
    const name = staging.path.slice(dir.length + 1);
    for (const to of ['../outside', 'other.txt', '/etc/passwd']) {
      await writeFile(
        join(dir, journalName('app.deb')),
        JSON.stringify({ waybillJournal: 1, staging: name, renames: [{ from: 'x', to }] }),
      );
      await assert.rejects(
        recoverStaging(dir, 'app.deb', SIDECARS),
        /journal of an interrupted stamp is not usable/,
      );
    }
    await writeFile(
      join(dir, journalName('app.deb')),
      JSON.stringify({ waybillJournal: 1, staging: '../../tmp', renames: [] }),
    );
    await assert.rejects(recoverStaging(dir, 'app.deb', SIDECARS), /staging directory is not one of ours/);
  }));

test('orphans of dead processes are removed; live and foreign ones are kept', () =>
  withDir(async (dir) => {
    const dead = Number(
      spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout,
    );
    const deadTemp = `.app.deb.waybill-${dead}-0123456789abcdef.tmp`;
    const deadDir = `.app.deb.waybill-${dead}-fedcba9876543210.tmp`;
    const legacy = `.app.deb.${dead}.0123456789ab.tmp`;
    const live = `.app.deb.waybill-${process.pid}-0123456789abcdef.tmp`;
    const otherBase = `.other.waybill-${dead}-0123456789abcdef.tmp`;
    const lookalike = '.app.deb.waybill-1-nothex.tmp';
    for (const n of [deadTemp, legacy, live, otherBase, lookalike]) await writeFile(join(dir, n), 'x');
    await mkdir(join(dir, deadDir));
    await writeFile(join(dir, deadDir, 'big'), 'x');
    const old = '.app.deb.waybill-1-aaaaaaaaaaaaaaaa.tmp'; // pid 1 lives, but a day untouched
    await writeFile(join(dir, old), 'x');
    await utimes(join(dir, old), new Date(0), new Date(0));
    const recovery = await recoverStaging(dir, 'app.deb', SIDECARS);
    assert.deepEqual(recovery.removed.sort(), [deadTemp, deadDir, legacy, old].sort());
    assert.deepEqual((await readdir(dir)).sort(), [live, lookalike, otherBase].sort());
  }));
