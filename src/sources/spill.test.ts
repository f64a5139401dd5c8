import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildGo, makeGoProject, makeTmp, removeTmp } from '../../test/helpers/exec-fixtures.ts';
import { tarBuffer } from '../archive/tar-writer.ts';
import { combinedFilter } from '../catalog/engine.ts';
import { goCataloger } from '../catalog/go.ts';
import { openDir } from './dir.ts';
import { scanLayer } from './layer-scan.ts';
import { SPILL_MIN_BYTES } from './spill.ts';
import type { WalkedFile } from './types.ts';

let tmp: string;
let program: Buffer;

before(async () => {
  tmp = await makeTmp('waybill-spill-');
  const built = await readFile(
    await buildGo(await makeGoProject(tmp), 'linux', 'amd64', join(tmp, 'app-bin')),
  );
  // Past the spill size: real Go build info, then bytes no reader looks at (after the section headers).
  program = Buffer.concat([built, Buffer.alloc(SPILL_MIN_BYTES + 1024, 0x90)]);
});
after(() => removeTmp(tmp));

async function components(data: Buffer): Promise<string[]> {
  const file: WalkedFile = {
    entry: { path: 'usr/bin/app', type: 'file', size: data.length, mode: 0o755 },
    data,
    earlier: [],
  };
  return (await goCataloger.catalog([file], { warn: () => {} })).map((c) => c.purl).sort();
}

test('a large executable in a layer is condensed from disk: small in memory, same components', async () => {
  const layer = join(tmp, 'layer.tar');
  await writeFile(
    layer,
    await tarBuffer([
      { path: 'usr/', type: 'dir' },
      { path: 'usr/bin/', type: 'dir' },
      { path: 'usr/bin/app', data: program, mode: 0o755 },
    ]),
  );
  const { size } = await stat(layer);
  const scan = await scanLayer(
    {
      location: { file: layer, start: 0, size, name: layer },
      input: layer,
      image: false,
      maxFileSize: 1 << 30,
    },
    combinedFilter([goCataloger], false),
  );
  const kept = scan.files.find((f) => f.entry.path === 'usr/bin/app');
  assert.ok(kept, 'kept');
  assert.equal(kept.entry.size, program.length, 'the entry keeps its real size');
  assert.ok(kept.data.length < 64 * 1024, `${kept.data.length} bytes held`);
  const expected = await components(program);
  assert.ok(expected.length > 3);
  assert.deepEqual(await components(kept.data), expected);
});

test('dir: a large executable is condensed in place', async () => {
  const root = join(tmp, 'tree');
  await mkdir(join(root, 'usr/bin'), { recursive: true });
  await writeFile(join(root, 'usr/bin/app'), program, { mode: 0o755 });
  const walked = await (await openDir(root, root)).walk(combinedFilter([goCataloger], false));
  const kept = walked.files.find((f) => f.entry.path === 'usr/bin/app');
  assert.ok(kept && kept.data.length < 64 * 1024);
  assert.deepEqual(await components(kept.data), await components(program));
});
