import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
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

/**
 * The layer stored three ways: gzip-compressed (the entry is spilled to a temporary file and
 * condensed there), uncompressed on its own, and uncompressed at an offset inside a larger file (a
 * docker-archive's layer): the last two are condensed where they lie, with no temporary file.
 */
test('a large executable in a layer is condensed from disk: small in memory, same components, spilled only when compressed', async () => {
  const tar = await tarBuffer([
    { path: 'usr/', type: 'dir' },
    { path: 'usr/bin/', type: 'dir' },
    { path: 'usr/bin/app', data: program, mode: 0o755 },
  ]);
  const prefix = Buffer.alloc(3 * 512 + 17, 0x55);
  const stored = [
    { name: 'gzip', bytes: gzipSync(tar), start: 0, spills: true },
    { name: 'plain', bytes: tar, start: 0, spills: false },
    {
      name: 'inside',
      bytes: Buffer.concat([prefix, tar, Buffer.alloc(1000)]),
      start: prefix.length,
      spills: false,
    },
  ];
  const expected = await components(program);
  assert.ok(expected.length > 3);
  const kept: Buffer[] = [];
  for (const { name, bytes, start, spills } of stored) {
    const file = join(tmp, `layer-${name}`);
    await writeFile(file, bytes);
    const spillDir = join(tmp, `spill-${name}`);
    await mkdir(spillDir);
    const spilled: string[] = [];
    const size = name === 'inside' ? tar.length : bytes.length;
    const scan = await withTmpdir(spillDir, () =>
      scanLayer(
        {
          location: { file, start, size, name: file },
          input: file,
          image: false,
          maxFileSize: 1 << 30,
        },
        {
          ...combinedFilter([goCataloger], false),
          // Looks for the temporary directory while the entry is being condensed.
          condense: (entry, source) => {
            spilled.push(...readdirSync(spillDir));
            return combinedFilter([goCataloger], false).condense?.(entry, source);
          },
        },
      ),
    );
    const file_ = scan.files.find((f) => f.entry.path === 'usr/bin/app');
    assert.ok(file_, `${name}: kept`);
    assert.equal(file_.entry.size, program.length, `${name}: the entry keeps its real size`);
    assert.ok(file_.data.length < 64 * 1024, `${name}: ${file_.data.length} bytes held`);
    assert.deepEqual(await components(file_.data), expected, name);
    assert.equal(spilled.length > 0, spills, `${name}: spilled ${spilled.join(', ')}`);
    assert.deepEqual(readdirSync(spillDir), [], `${name}: nothing left behind`);
    kept.push(file_.data);
  }
  assert.deepEqual(kept[1], kept[0]);
  assert.deepEqual(kept[2], kept[0]);
});

async function withTmpdir<T>(dir: string, run: () => Promise<T>): Promise<T> {
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    return await run();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
}

test('dir: a large executable is condensed in place', async () => {
  const root = join(tmp, 'tree');
  await mkdir(join(root, 'usr/bin'), { recursive: true });
  await writeFile(join(root, 'usr/bin/app'), program, { mode: 0o755 });
  const walked = await (await openDir(root, root)).walk(combinedFilter([goCataloger], false));
  const kept = walked.files.find((f) => f.entry.path === 'usr/bin/app');
  assert.ok(kept && kept.data.length < 64 * 1024);
  assert.deepEqual(await components(kept.data), await components(program));
});
