import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { type TarEntryInput, tarBuffer } from '../../archive/tar-writer.ts';
import { writeZip } from '../../archive/zip-writer.ts';
import { WaybillError } from '../../errors.ts';
import { buildOciLayout } from '../../sources/testing.ts';
import { compareOutputs } from './compare.ts';
import type { Difference } from './types.ts';

let dir: string;
let n = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waybill-compare-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function file(data: Buffer | string, name = `f${++n}`): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, data);
  return path;
}

function has(diffs: Difference[], path: string, aspect: string): Difference {
  const d = diffs.find((x) => x.path === path && x.aspect === aspect);
  assert.ok(d, `no ${aspect} difference at ${path} in ${JSON.stringify(diffs, null, 1)}`);
  return d;
}

function have(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('identical files have no differences', async () => {
  const tar = await tarBuffer([{ path: 'a', data: 'x' }]);
  assert.deepEqual(await compareOutputs(await file(tar), await file(tar), 'same.tar'), []);
});

test('tar: content, mtime, mode, presence and order of entries are named', async () => {
  const base: TarEntryInput[] = [
    { path: 'bin/', type: 'dir' },
    { path: 'bin/hello', data: '#!/bin/sh\necho hi\n', mode: 0o755 },
    { path: 'share/stamp', data: 'built at 1\n' },
    { path: 'share/readme', data: 'same\n' },
  ];
  type Entry = TarEntryInput;
  const tar = async (entries: Entry[]) => file(await tarBuffer(entries, { mtime: 100 }));
  /** The base archive with the entry at `path` changed by `change`. */
  const variant = (path: string, change: (e: Entry) => Entry) =>
    tar(base.map((e) => (e.path === path ? change(e) : e)));
  const expected = await tar(base);

  let d = await compareOutputs(
    expected,
    await variant('share/stamp', (e) => ({ ...e, data: 'built at 2\n' })),
    'out.tar',
  );
  assert.equal(d.length, 1);
  assert.match(has(d, 'out.tar!/share/stamp', 'content').actual ?? '', /^11 bytes, sha256:/);

  d = await compareOutputs(expected, await variant('bin/hello', (e) => ({ ...e, mtime: 200 })), 'out.tar');
  assert.deepEqual(has(d, 'out.tar!/bin/hello', 'mtime'), {
    path: 'out.tar!/bin/hello',
    aspect: 'mtime',
    expected: '1970-01-01T00:01:40Z (100)',
    actual: '1970-01-01T00:03:20Z (200)',
  });

  d = await compareOutputs(expected, await variant('bin/hello', (e) => ({ ...e, mode: 0o644 })), 'out.tar');
  assert.deepEqual(has(d, 'out.tar!/bin/hello', 'mode'), {
    path: 'out.tar!/bin/hello',
    aspect: 'mode',
    expected: '0755',
    actual: '0644',
  });

  has(
    await compareOutputs(expected, await tar(base.filter((e) => e.path !== 'share/readme')), 'out.tar'),
    'out.tar!/share/readme',
    'presence',
  );

  d = await compareOutputs(expected, await tar([base[0]!, base[1]!, base[3]!, base[2]!]), 'out.tar');
  assert.deepEqual(
    d.map((x) => x.aspect),
    ['order'],
  );
  assert.equal(d[0]?.path, 'out.tar!/share/stamp');
});

test('tar: owner differences, with GNU tar as the writer', async (t) => {
  if (!have('tar')) return t.skip('GNU tar not installed');
  const src = join(dir, 'tree');
  await mkdir(join(src, 'etc'), { recursive: true });
  await writeFile(join(src, 'etc', 'conf'), 'x\n');
  const make = (owner: string, out: string) =>
    execFileSync('tar', [
      '--sort=name',
      '--mtime=@0',
      `--owner=${owner}`,
      '--group=0',
      '--numeric-owner',
      '-C',
      src,
      '-cf',
      out,
      'etc',
    ]);
  make('0', join(dir, 'root.tar'));
  make('1000', join(dir, 'user.tar'));
  const d = await compareOutputs(join(dir, 'root.tar'), join(dir, 'user.tar'), 'etc.tar');
  assert.equal(has(d, 'etc.tar!/etc/conf', 'owner').actual, '1000/0');
});

test('gzip: the same tar compressed with another header mtime is named as the gzip header', async () => {
  const tar = await tarBuffer([{ path: 'a', data: 'x' }]);
  const gz = gzipSync(tar);
  const later = Buffer.from(gz);
  later.writeUInt32LE(1704164645, 4);
  const d = await compareOutputs(await file(gz), await file(later), 'a.tar.gz');
  assert.deepEqual(d, [
    {
      path: 'a.tar.gz',
      aspect: 'header',
      expected: 'gzip mtime 0, xfl 0, os 3',
      actual: 'gzip mtime 1704164645, xfl 0, os 3',
    },
  ]);
  // And a changed entry inside a .tar.gz is named inside it.
  const other = gzipSync(await tarBuffer([{ path: 'a', data: 'y' }]));
  has(await compareOutputs(await file(gz), await file(other), 'a.tar.gz'), 'a.tar.gz!/a', 'content');
});

test('zip (a wheel): content, mtime and mode of members', async () => {
  const members = (stamp: string, mode: number, dosTime: number) => [
    { name: 'hello/__init__.py', data: Buffer.from('') },
    { name: 'hello/_build.py', data: Buffer.from(stamp), dosTime },
    { name: 'hello-1.0.dist-info/METADATA', data: Buffer.from('Name: hello\n'), mode },
  ];
  const a = await file(writeZip(members('x = 1\n', 0o644, 0)));
  const b = await file(writeZip(members('x = 2\n', 0o755, 0x1000)));
  const d = await compareOutputs(a, b, 'hello-1.0-py3-none-any.whl');
  has(d, 'hello-1.0-py3-none-any.whl!/hello/_build.py', 'content');
  has(d, 'hello-1.0-py3-none-any.whl!/hello/_build.py', 'mtime');
  assert.equal(has(d, 'hello-1.0-py3-none-any.whl!/hello-1.0.dist-info/METADATA', 'mode').actual, '0755');
});

test('deb: a differing file is named inside data.tar.xz', async (t) => {
  if (!have('dpkg-deb')) return t.skip('dpkg-deb not installed');
  const deb = async (stamp: string, out: string) => {
    const root = join(dir, `deb-${out}`);
    await mkdir(join(root, 'DEBIAN'), { recursive: true });
    await mkdir(join(root, 'usr/share/hello'), { recursive: true });
    await writeFile(
      join(root, 'DEBIAN/control'),
      'Package: hello\nVersion: 1.0\nArchitecture: all\nMaintainer: T <t@example.org>\nDescription: hi\n',
    );
    await writeFile(join(root, 'usr/share/hello/stamp'), stamp);
    await writeFile(join(root, 'usr/share/hello/readme'), 'same\n');
    await chmod(join(root, 'DEBIAN'), 0o755);
    execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, join(dir, out)], {
      env: { ...process.env, SOURCE_DATE_EPOCH: '1704164645' },
      stdio: 'ignore',
    });
    return join(dir, out);
  };
  const d = await compareOutputs(
    await deb('one\n', 'a.deb'),
    await deb('two\n', 'b.deb'),
    'hello_1.0_all.deb',
  );
  has(d, 'hello_1.0_all.deb!/data.tar.xz', 'content');
  has(d, 'hello_1.0_all.deb!/data.tar.xz!/usr/share/hello/stamp', 'content');
  assert.equal(
    d.some((x) => x.path.endsWith('readme')),
    false,
  );
});

test('OCI layouts: config fields, then the differing file inside the layer', async () => {
  const a = await buildOciLayout(join(dir, 'img-a'), [{ 'etc/hello': 'hi', 'etc/stamp': '1' }], {
    labels: { built: '1' },
  });
  const b = await buildOciLayout(join(dir, 'img-b'), [{ 'etc/hello': 'hi', 'etc/stamp': '2' }], {
    labels: { built: '2' },
  });
  const d = await compareOutputs(a.layoutDir, b.layoutDir, 'image');
  assert.deepEqual(has(d, 'image!/config/config/Labels/built', 'header'), {
    path: 'image!/config/config/Labels/built',
    aspect: 'header',
    expected: '"1"',
    actual: '"2"',
  });
  has(d, 'image!/layer 1!/etc/stamp', 'content');
  // Digests that only echo the layer change are not reported as causes.
  assert.equal(
    d.some((x) => /diff_ids|layers\/0\/digest/.test(x.path)),
    false,
  );
});

test('anything else: the first differing byte; different kinds: the format', async () => {
  const d = await compareOutputs(await file('abcdefgh'), await file('abcdXfgh'), 'blob.bin');
  assert.match(d[0]?.actual ?? '', /first different byte at offset 4$/);
  const tar = await file(await tarBuffer([{ path: 'a', data: 'x' }]));
  const zip = await file(writeZip([{ name: 'a', data: Buffer.from('x') }]));
  assert.deepEqual(await compareOutputs(tar, zip, 'out'), [
    { path: 'out', aspect: 'format', expected: 'tar', actual: 'zip' },
  ]);
});

test('at most maxDifferences are reported', async () => {
  const entries = (v: string) =>
    Array.from({ length: 30 }, (_, i) => ({ path: `f${String(i).padStart(2, '0')}`, data: v }));
  const d = await compareOutputs(
    await file(await tarBuffer(entries('a'))),
    await file(await tarBuffer(entries('b'))),
    'x.tar',
    { maxDifferences: 5 },
  );
  assert.deepEqual(
    d.map((x) => x.path),
    ['x.tar!/f00', 'x.tar!/f01', 'x.tar!/f02', 'x.tar!/f03', 'x.tar!/f04'],
  );
});

test('fast-check: any pair of files is compared or refused with a WaybillError', async () => {
  const tar = await tarBuffer([
    { path: 'a', data: 'x' },
    { path: 'b', data: 'y' },
  ]);
  const seeds = [
    tar,
    gzipSync(tar),
    writeZip([{ name: 'a', data: Buffer.from('x') }]),
    Buffer.from('!<arch>\n'),
  ];
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...seeds),
      fc.nat(),
      fc.uint8Array({ minLength: 1, maxLength: 8 }),
      async (seed, at, patch) => {
        const broken = Buffer.from(seed);
        broken.set(patch.subarray(0, Math.max(0, broken.length - (at % broken.length))), at % broken.length);
        try {
          await compareOutputs(await file(seed), await file(broken), 'x');
        } catch (e) {
          assert.ok(e instanceof WaybillError, String(e));
        }
      },
    ),
    { numRuns: 150 },
  );
});
