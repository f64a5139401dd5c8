import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { watchOutsideWrites } from './outside-writes.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waybill-watch-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('entries created, changed or removed are reported; allowed names and untouched entries are not', async () => {
  const place = join(dir, 'place');
  await mkdir(join(place, 'sub'), { recursive: true });
  await mkdir(join(place, 'build'));
  await writeFile(join(place, 'keep'), 'same');
  await writeFile(join(place, 'change'), 'before');
  await writeFile(join(place, 'remove'), 'x');
  const watch = await watchOutsideWrites([{ dir: place, allowed: ['build'] }]);
  await writeFile(join(place, 'build', 'output'), 'allowed');
  await writeFile(join(place, 'new'), 'x');
  await writeFile(join(place, 'change'), 'after!');
  await rm(join(place, 'remove'));
  await writeFile(join(place, 'sub', 'deeper'), 'x'); // changes sub's mtime
  assert.deepEqual(
    await watch.changes(),
    ['change', 'new', 'remove', 'sub'].map((n) => join(place, n)),
  );
});

test('in a shared place only new entries count', async () => {
  const shared = join(dir, 'shared');
  await mkdir(join(shared, 'busy'), { recursive: true });
  await writeFile(join(shared, 'gone'), 'x');
  const watch = await watchOutsideWrites([{ dir: shared, shared: true }]);
  await writeFile(join(shared, 'busy', 'neighbour'), 'x');
  await rm(join(shared, 'gone'));
  await writeFile(join(shared, 'planted'), 'x');
  assert.deepEqual(await watch.changes(), [join(shared, 'planted')]);
});

test('a place that does not exist is compared as empty', async () => {
  const missing = join(dir, 'missing');
  const watch = await watchOutsideWrites([{ dir: missing }]);
  await mkdir(missing);
  await writeFile(join(missing, 'x'), 'x');
  assert.deepEqual(await watch.changes(), [join(missing, 'x')]);
});
