import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeZip } from '../archive/zip-writer.ts';
import { openArtifact } from '../sources/open.ts';
import { buildOciLayout } from '../sources/testing.ts';
import type { Artifact, FileEntry, FileFilter, WalkedFile } from '../sources/types.ts';
import { catalogArtifact, combinedFilter } from './engine.ts';
import { type Cataloger, type Component, TEXT_FILE_MAX } from './types.ts';

/** One file version in a fake image: path, layer, content (null = a whiteout deleting the path). */
type Layered = { path: string; layer: string; content: string | null; type?: FileEntry['type'] };

/**
 * A fake image Artifact: applies the layers in order like a real walk would (later versions replace
 * earlier ones and keep them in `earlier`; a whiteout forgets the history) and honours the filter.
 */
function fakeImage(
  layers: string[],
  versions: Layered[],
  calls: { walks: number; filters: FileFilter[] },
): Artifact {
  return {
    ref: 'fake',
    kind: 'oci',
    path: '/fake',
    digest: `sha256:${'a'.repeat(64)}`,
    image: {
      platforms: [],
      selected: {
        descriptor: { mediaType: 'x', digest: 'sha256:m', size: 1 },
        manifest: {
          schemaVersion: 2,
          config: { mediaType: 'x', digest: 'sha256:c', size: 1 },
          layers: layers.map((digest) => ({ mediaType: 'x', digest, size: 1 })),
        },
        configDigest: 'sha256:c',
        config: { rootfs: { type: 'layers', diff_ids: layers } } as never,
        platform: { os: 'linux', architecture: 'amd64' },
      },
    },
    async walk(filter) {
      calls.walks++;
      calls.filters.push(filter);
      const view = new Map<string, WalkedFile>();
      for (const layer of layers) {
        for (const v of versions.filter((x) => x.layer === layer)) {
          if (v.content === null) {
            view.delete(v.path);
            continue;
          }
          const data = Buffer.from(v.content);
          const entry: FileEntry = {
            path: v.path,
            type: v.type ?? 'file',
            size: data.length,
            mode: 0o644,
            layer,
          };
          const want = filter.want(entry);
          if (want === false) continue;
          if (want === 'sniff' && !filter.sniff?.(entry, data.subarray(0, 64))) continue;
          const prev = view.get(v.path);
          const earlier = prev ? [...prev.earlier, { layer: prev.entry.layer!, data: prev.data }] : [];
          view.set(v.path, { entry, data, earlier });
        }
      }
      const files = [...view.values()].sort((a, b) => (a.entry.path < b.entry.path ? -1 : 1));
      return { files, skipped: [{ path: 'huge.bin', reason: 'larger than maxFileSize' }] };
    },
  };
}

function comp(name: string, version: string, foundAt: string, extra: Partial<Component> = {}): Component {
  return {
    type: 'library',
    ecosystem: 'generic',
    name,
    version,
    purl: `pkg:generic/${name}@${version}`,
    licenses: [],
    foundAt: [foundAt],
    properties: {},
    ...extra,
  };
}

/** A cataloger over `*.list` files: one `name version` per line. */
function listCataloger(seen: string[][] = []): Cataloger {
  return {
    name: 'list',
    want: (e) => e.path.endsWith('.list'),
    catalog(files, ctx) {
      seen.push(files.map((f) => f.entry.path));
      const out: Component[] = [];
      for (const f of files) {
        for (const line of f.data.toString().split('\n').filter(Boolean)) {
          const [name, version] = line.split(' ');
          if (!name || !version) {
            ctx.warn(f.entry.path, `bad line ${JSON.stringify(line)}`);
            continue;
          }
          out.push(
            comp(name, version, f.entry.path, { properties: { 'waybill:distro': ctx.distro?.id ?? '' } }),
          );
        }
      }
      return out;
    },
  };
}

/** A sniffing cataloger: files starting with MAGIC, wherever they are. */
const magicCataloger: Cataloger = {
  name: 'magic',
  want: (e) => (e.type === 'file' ? 'sniff' : false),
  sniff: (_e, head) => head.subarray(0, 5).toString() === 'MAGIC',
  catalog: (files) => files.map((f) => comp(f.data.toString().slice(6).trim(), '1', f.entry.path)),
};

const distroReader = {
  read(data: Buffer) {
    const id = /^ID=(.*)$/m.exec(data.toString())?.[1];
    return id ? { id } : undefined;
  },
};

test('one walk, one combined filter, each file routed only to the catalogers that wanted it', async () => {
  const calls = { walks: 0, filters: [] as FileFilter[] };
  const seen: string[][] = [];
  const image = fakeImage(
    ['L1'],
    [
      { path: 'a.list', layer: 'L1', content: 'x 1\ny 2\n' },
      { path: 'bin/tool', layer: 'L1', content: 'MAGIC tool' },
      { path: 'bin/other', layer: 'L1', content: 'ELF....' },
      { path: 'etc/os-release', layer: 'L1', content: 'ID=debian\n' },
      { path: 'README', layer: 'L1', content: 'hello' },
    ],
    calls,
  );
  const result = await catalogArtifact(image, {
    catalogers: [listCataloger(seen), magicCataloger],
    distroReader,
  });
  assert.equal(calls.walks, 1);
  assert.deepEqual(seen, [['a.list']]);
  assert.deepEqual(result.distro, { id: 'debian' });
  assert.deepEqual(
    result.components.map((c) => [
      c.purl,
      c.foundAt.join(','),
      c.layer,
      c.properties['waybill:distro'] ?? '-',
    ]),
    [
      ['pkg:generic/tool@1', 'bin/tool', 'L1', '-'],
      ['pkg:generic/x@1', 'a.list', 'L1', 'debian'],
      ['pkg:generic/y@2', 'a.list', 'L1', 'debian'],
    ],
  );
  assert.deepEqual(result.warnings, [{ path: 'huge.bin', reason: 'larger than maxFileSize' }]);
});

test('combined filter: true beats sniff, sniff only when some cataloger sniffs', () => {
  const f = combinedFilter([listCataloger(), magicCataloger], true);
  const e = (path: string, type: FileEntry['type'] = 'file'): FileEntry => ({ path, type, size: 1, mode: 0 });
  assert.equal(f.want(e('x.list')), true);
  assert.equal(f.want(e('etc/os-release')), true);
  assert.equal(f.want(e('bin/x')), 'sniff');
  assert.equal(f.want(e('bin', 'dir')), false);
  assert.equal(f.sniff!(e('bin/x'), Buffer.from('MAGIC x')), true);
  assert.equal(f.sniff!(e('bin/x'), Buffer.from('nope')), false);
  assert.equal(combinedFilter([listCataloger()], false).want(e('etc/os-release')), false);
});

test('combined filter: catalogers sharing one want are asked it once per entry, each still sniffing', () => {
  const asked: string[] = [];
  const shared: Cataloger['want'] = (entry) => {
    asked.push(entry.path);
    return entry.path.startsWith('bin/') ? 'sniff' : false;
  };
  const sniffer = (name: string, magic: string): Cataloger => ({
    name,
    want: shared,
    sniff: (_entry, head) => head.includes(magic),
    catalog: () => [],
  });
  // The two sharing it are not next to each other: another cataloger sits between them.
  const f = combinedFilter([sniffer('a', 'AAA'), listCataloger(), sniffer('b', 'BBB')], false);
  const e = (path: string): FileEntry => ({ path, type: 'file', size: 1, mode: 0 });
  // A walk shows `sniff` the entry it showed `want` just before.
  const x = e('bin/x');
  assert.equal(f.want(x), 'sniff');
  assert.equal(f.sniff!(x, Buffer.from('BBB')), true);
  const y = e('bin/y');
  assert.equal(f.want(y), 'sniff');
  assert.equal(f.sniff!(y, Buffer.from('AAA')), true);
  assert.equal(f.want(e('etc/z')), false);
  assert.deepEqual(asked, ['bin/x', 'bin/y', 'etc/z']);
});

test('layers: a component keeps the oldest layer it has been present in without interruption', async () => {
  const calls = { walks: 0, filters: [] as FileFilter[] };
  const image = fakeImage(
    ['L1', 'L2', 'L3', 'L4'],
    [
      { path: 'db.list', layer: 'L1', content: 'base 1\ngone 1\nback 1\n' },
      { path: 'db.list', layer: 'L2', content: 'base 1\ngone 1\nnew 1\n' }, // back removed here…
      { path: 'db.list', layer: 'L3', content: 'base 1\nnew 1\nback 1\nupgraded 2\n' }, // …and re-added
      { path: 'db.list', layer: 'L4', content: 'base 1\nnew 1\nback 1\nupgraded 2\nlate 1\n' },
      { path: 'wiped.list', layer: 'L1', content: 'w 1\n' },
      { path: 'wiped.list', layer: 'L2', content: null }, // whiteout: history forgotten
      { path: 'wiped.list', layer: 'L3', content: 'w 1\n' },
    ],
    calls,
  );
  const result = await catalogArtifact(image, { catalogers: [listCataloger()] });
  const layerOf = Object.fromEntries(result.components.map((c) => [c.name, c.layer]));
  assert.deepEqual(layerOf, { back: 'L3', base: 'L1', late: 'L4', new: 'L2', upgraded: 'L3', w: 'L3' });
  assert.ok(!result.components.some((c) => c.name === 'gone'));
});

test('dedupe by purl across catalogers: evidence merged, earliest layer and first fields kept', async () => {
  const calls = { walks: 0, filters: [] as FileFilter[] };
  const image = fakeImage(
    ['L1', 'L2'],
    [
      { path: 'b.list', layer: 'L1', content: 'shared 1\n' },
      { path: 'a.list', layer: 'L2', content: 'shared 1\nbad-line\n' },
    ],
    calls,
  );
  const other: Cataloger = {
    name: 'other',
    want: (e) => e.path === 'a.list',
    catalog: () => [comp('shared', '1', '/a.list', { licenses: ['MIT'], properties: { 'waybill:x': 'y' } })],
  };
  const broken: Cataloger = {
    name: 'broken',
    want: (e) => e.path === 'b.list',
    catalog: () => {
      throw new TypeError('boom');
    },
  };
  const result = await catalogArtifact(image, { catalogers: [listCataloger(), other, broken] });
  assert.equal(result.components.length, 1);
  const [c] = result.components;
  assert.deepEqual(c!.foundAt, ['a.list', 'b.list']);
  assert.equal(c!.layer, 'L1');
  assert.deepEqual(c!.licenses, ['MIT']);
  assert.equal(c!.properties['waybill:x'], 'y');
  assert.deepEqual(
    result.warnings.map((w) => w.path),
    ['a.list', 'b.list', 'huge.bin'],
  );
  assert.match(result.warnings[1]!.reason, /broken failed: boom/);
});

test('outside images there is no layer; results are sorted by purl whatever the walk order', async () => {
  const artifact: Artifact = {
    ref: 'd',
    kind: 'dir',
    path: '/d',
    digest: `sha256:${'b'.repeat(64)}`,
    async walk() {
      const mk = (path: string, s: string): WalkedFile => ({
        entry: { path, type: 'file', size: s.length, mode: 0 },
        data: Buffer.from(s),
        earlier: [],
      });
      return { files: [mk('z.list', 'zz 1\naa 1\n'), mk('a.list', 'mm 1\n')], skipped: [] };
    },
  };
  const result = await catalogArtifact(artifact, { catalogers: [listCataloger()] });
  assert.deepEqual(
    result.components.map((c) => c.name),
    ['aa', 'mm', 'zz'],
  );
  assert.ok(result.components.every((c) => c.layer === undefined));
  assert.equal(result.distro, undefined);
});

test('real OCI layout, default catalogers: distro from os-release, npm layers across upgrades', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'waybill-engine-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const pkg = (name: string, version: string) => JSON.stringify({ name, version, license: 'MIT' });
  const built = await buildOciLayout(dir, [
    {
      'etc/os-release': 'ID=alpine\nVERSION_ID=3.20.0\nPRETTY_NAME="Alpine Linux v3.20"\n',
      'lib/apk/db/installed': 'P:musl\nV:1.2.5-r0\nA:x86_64\nL:MIT\nT:the musl c library\n\n',
      'app/node_modules/x/package.json': pkg('x', '1.0.0'),
      'app/node_modules/keep/package.json': pkg('keep', '1.0.0'),
    },
    {
      'app/node_modules/y/package.json': pkg('y', '1.0.0'),
      'app/node_modules/keep/package.json': pkg('keep', '1.0.0'),
    },
    { 'app/node_modules/x/package.json': pkg('x', '2.0.0') },
  ]);
  const [l1, l2, l3] = built.diffIds;
  const artifact = await openArtifact(`oci:${dir}`);
  const result = await catalogArtifact(artifact);
  assert.equal(result.distro?.id, 'alpine');
  assert.equal(result.distro?.versionId, '3.20.0');
  const layerOf = Object.fromEntries(result.components.map((c) => [c.purl, c.layer]));
  assert.equal(layerOf['pkg:npm/x@2.0.0'], l3);
  assert.equal(layerOf['pkg:npm/y@1.0.0'], l2);
  assert.equal(
    layerOf['pkg:npm/keep@1.0.0'],
    l1,
    'rewritten with the same content: still from the first layer',
  );
  assert.equal(layerOf['pkg:npm/x@1.0.0'], undefined, 'replaced versions are gone');
  const musl = result.components.find((c) => c.ecosystem === 'apk' && c.name === 'musl');
  assert.ok(musl, `apk package found: ${JSON.stringify(result.components.map((c) => c.purl))}`);
  assert.match(musl.purl, /distro=alpine-3\.20\.0/);
  assert.equal(musl.layer, l1);
});

test('a package database or manifest over TEXT_FILE_MAX is skipped with a warning, never read whole', async (t) => {
  // Found by fuzzing: a 300 KiB gzip layer holding a 300 MiB dpkg status or package.json took
  // 430-730 MiB of memory (read whole up to the walk's 512 MiB maxFileSize, then as a string).
  const dir = await mkdtemp(join(tmpdir(), 'waybill-engine-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const big = Buffer.alloc(TEXT_FILE_MAX + 1, 0x20);
  big.write('Package: a\nVersion: 1\nArchitecture: all\nStatus: install ok installed\n\n');
  await buildOciLayout(
    dir,
    [
      {
        'var/lib/dpkg/status': big,
        'app/node_modules/x/package.json': JSON.stringify({ name: 'x', version: '1.0.0' }),
      },
    ],
    { compression: 'none' },
  );
  const result = await catalogArtifact(await openArtifact(`oci:${dir}`));
  assert.deepEqual(
    result.components.map((c) => c.purl),
    ['pkg:npm/x@1.0.0'],
  );
  assert.deepEqual(result.warnings, [
    {
      path: 'var/lib/dpkg/status',
      reason: `${TEXT_FILE_MAX + 1} bytes is larger than ${TEXT_FILE_MAX}, the most read of such a file`,
    },
  ]);
});

test("combined filter: the size limit of a file is the largest of its catalogers' limits, none if one sets none", () => {
  const entry = (path: string): FileEntry => ({ path, type: 'file', size: 1, mode: 0o644 });
  const text = (name: string, limit: number): Cataloger => ({
    name,
    want: (e) => e.path.endsWith('.txt'),
    maxSize: () => limit,
    catalog: () => [],
  });
  const any: Cataloger = { name: 'any', want: (e) => e.path.startsWith('any/'), catalog: () => [] };
  const filter = combinedFilter([text('a', 10), text('b', 20), any], true);
  assert.equal(filter.maxSize?.(entry('x.txt')), 20);
  assert.equal(filter.maxSize?.(entry('any/x.txt')), undefined);
  assert.equal(filter.maxSize?.(entry('etc/os-release')), 1024 * 1024);
});

/** Two catalogers on the same paths, each keeping only files with its own `X:name` lines. */
function taggedCataloger(tag: string, seen: string[]): Cataloger {
  return {
    name: `tag-${tag}`,
    want: (e) => e.type === 'file' && e.path.startsWith('bin/'),
    keep: (_e, data) => data.includes(`${tag}:`),
    catalog(files) {
      seen.push(`${tag} ${files.map((f) => f.entry.path).join(',')}`);
      const out: Component[] = [];
      for (const f of files) {
        for (const m of f.data.toString().matchAll(new RegExp(`${tag}:(\\w+)`, 'g')))
          out.push(comp(m[1] as string, '1', f.entry.path));
      }
      return out;
    },
  };
}

test('keep: each cataloger gets only what it keeps; a dropped version interrupts layer attribution', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'waybill-engine-keep-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const built = await buildOciLayout(dir, [
    { 'bin/x': 'A:foo', 'bin/y': 'A:qux', 'bin/z': 'B:only', 'bin/w': 'A:wide B:wide2' },
    { 'bin/x': 'B:bar', 'bin/y': 'neither', 'bin/w': 'A:wide B:wide2 more' },
    { 'bin/x': 'A:foo B:bar', 'bin/y': 'A:qux' },
  ]);
  const [l1, l2, l3] = built.diffIds;
  const seen: string[] = [];
  const catalogers = [taggedCataloger('A', seen), taggedCataloger('B', seen)];
  const artifact = await openArtifact(`oci:${dir}`);
  let walked: WalkedFile[] = [];
  const spy: Artifact = {
    ...artifact,
    async walk(filter, options) {
      const result = await artifact.walk(filter, options);
      walked = result.files;
      return result;
    },
  };
  const result = await catalogArtifact(spy, { catalogers, distroReader: null });
  const layerOf = Object.fromEntries(result.components.map((c) => [c.name, c.layer]));
  assert.deepEqual(layerOf, {
    // bin/x at L2 was kept for B only: for A it holds no evidence, so foo is present since L3.
    foo: l3,
    bar: l2,
    // bin/y at L2 was dropped by both: it still replaced L1's version, so qux is new in L3.
    qux: l3,
    only: l1,
    wide: l1,
    wide2: l1,
  });
  const history = Object.fromEntries(walked.map((f) => [f.entry.path, f.earlier.map((e) => e.layer)]));
  assert.deepEqual(history, { 'bin/w': [l1], 'bin/x': [l1, l2], 'bin/y': [], 'bin/z': [] });
  assert.deepEqual(seen, [
    // Routing: each cataloger sees only the final versions it keeps.
    'A bin/w,bin/x,bin/y',
    // Re-reading history, versions the cataloger would drop are not parsed (bin/x at L2 for A).
    'A bin/w',
    'A bin/w',
    'A bin/x',
    'A bin/x',
    'B bin/w,bin/x,bin/z',
    'B bin/w',
    'B bin/w',
    'B bin/x',
    'B bin/x',
  ]);

  const f = combinedFilter(catalogers, true);
  const e = (path: string): FileEntry => ({ path, type: 'file', size: 1, mode: 0 });
  assert.equal(f.keep?.(e('bin/q'), Buffer.from('B:1')), true);
  assert.equal(f.keep?.(e('bin/q'), Buffer.from('C:1')), false);
  assert.equal(f.keep?.(e('etc/os-release'), Buffer.from('ID=x')), true, 'os-release is always kept');
  // A cataloger without keep keeps whatever it wants.
  const g = combinedFilter([...catalogers, listCataloger()], false);
  assert.equal(g.keep?.(e('a.list'), Buffer.from('x 1')), true);
  assert.equal(g.keep?.(e('bin/q'), Buffer.from('x 1')), false);
});

test('a lockfile an OS package ships (dpkg, apk; npm, yarn, pnpm) adds no components; one in a source tree does', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'waybill-engine-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const lock = (name: string, dep: string) =>
    JSON.stringify({
      name,
      version: '1.0.0',
      lockfileVersion: 3,
      packages: { '': { name, version: '1.0.0' }, [`node_modules/${dep}`]: { version: '1.1.1' } },
    });
  // Debian trixie's node-lodash-packages ships usr/share/nodejs/lodash-cli/npm-shrinkwrap.json;
  // the packages it names are not installed (Debian packages them as node-* debs, or not at all).
  await buildOciLayout(dir, [
    {
      'etc/os-release': 'ID=debian\nVERSION_ID="13"\n',
      'var/lib/dpkg/status':
        'Package: node-lodash-packages\nStatus: install ok installed\nVersion: 4.17.21-9\nArchitecture: all\n',
      'var/lib/dpkg/info/node-lodash-packages.md5sums': [
        `${'0'.repeat(32)}  usr/share/nodejs/lodash-cli/npm-shrinkwrap.json`,
        `${'0'.repeat(32)}  usr/share/nodejs/lodash-cli/yarn.lock`,
        `${'0'.repeat(32)}  usr/share/nodejs/lodash-cli/pnpm-lock.yaml`,
        '',
      ].join('\n'),
      'usr/share/nodejs/lodash-cli/npm-shrinkwrap.json': lock('lodash-cli', 'abbrev'),
      'usr/share/nodejs/lodash-cli/yarn.lock': 'abbrev@^1:\n  version "1.1.1"\n',
      'usr/share/nodejs/lodash-cli/pnpm-lock.yaml': "lockfileVersion: '9.0'\npackages:\n  wrappy@1.0.2: {}\n",
      'lib/apk/db/installed':
        'P:py3-thing\nV:1.0-r0\nA:x86_64\nF:usr/share/thing\nR:package-lock.json\nR:yarn.lock\n\n',
      'usr/share/thing/package-lock.json': lock('thing', 'align-text'),
      'usr/share/thing/yarn.lock':
        '__metadata:\n  version: 8\n"once@npm:1": {version: 1.4.0, resolution: "once@npm:1.4.0"}\n',
      'src/app/package-lock.json': lock('app', 'left-pad'),
      'src/web/yarn.lock': 'ms@^2:\n  version "2.1.3"\n',
      'src/cli/pnpm-lock.yaml': "lockfileVersion: '6.0'\npackages:\n  /debug@4.3.4: {dev: false}\n",
    },
  ]);
  const result = await catalogArtifact(await openArtifact(`oci:${dir}`));
  const npm = result.components.filter((c) => c.ecosystem === 'npm');
  assert.deepEqual(
    npm.map((c) => `${c.purl} ${c.presence}`),
    ['pkg:npm/debug@4.3.4 declared', 'pkg:npm/left-pad@1.1.1 declared', 'pkg:npm/ms@2.1.3 declared'],
  );
  assert.ok(result.components.some((c) => c.name === 'node-lodash-packages'));
  assert.ok(result.components.some((c) => c.name === 'py3-thing'));
});

test('an npm package linked into a project is dropped only when an OS package owns it (Debian node modules)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'waybill-engine-npmlink-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const pkg = (name: string) => JSON.stringify({ name, version: '1.0.0' });
  await buildOciLayout(dir, [
    {
      'etc/os-release': 'ID=debian\nVERSION_ID="12"\n',
      'var/lib/dpkg/status':
        'Package: node-b\nStatus: install ok installed\nVersion: 1.0.0-1\nArchitecture: all\n\n' +
        'Package: node-a\nStatus: install ok installed\nVersion: 2.0.0-1\nArchitecture: all\n',
      'var/lib/dpkg/info/node-b.md5sums': `${'0'.repeat(32)}  usr/share/nodejs/b/package.json\n`,
      'var/lib/dpkg/info/node-a.md5sums': `${'0'.repeat(32)}  usr/share/nodejs/a/package.json\n`,
      // Debian's modules linking each other: the debs are the components.
      'usr/share/nodejs/a/package.json': pkg('a'),
      'usr/share/nodejs/a/node_modules/b': { symlink: '../../b' },
      'usr/share/nodejs/b/package.json': pkg('b'),
      // A project's `file:` folder beside it: an npm package, as `npm ls` says.
      'srv/app/package.json': pkg('app'),
      'srv/app/node_modules/lib': { symlink: '../../lib' },
      'srv/lib/package.json': pkg('lib'),
    },
  ]);
  const result = await catalogArtifact(await openArtifact(`oci:${dir}`));
  assert.deepEqual(
    result.components.map((c) => c.purl.split('?')[0]),
    ['pkg:deb/debian/node-a@2.0.0-1', 'pkg:deb/debian/node-b@1.0.0-1', 'pkg:npm/lib@1.0.0'],
  );
});

test('metadata a layer stores as a hard link is read like the file it names, wherever the content sits', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'waybill-engine-links-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const meta = (name: string) => `Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0\nRequires-Dist: dep\n`;
  const site = (venv: string) => `${venv}/lib/python3.13/site-packages`;
  await buildOciLayout(dir, [
    {
      // Content under a name no cataloger wants (a cache, a pnpm store), the wanted names link to it.
      'cache/dep': meta('dep'),
      'cache/cfg': 'home = /usr/bin\ninclude-system-site-packages = false\n',
      'cache/pkg': JSON.stringify({ name: 'left-pad', version: '1.3.0', license: 'WTFPL' }),
      'lib/apk/db/installed': { hardlink: 'cache/apk' },
      'cache/apk': 'P:musl\nV:1.2.5-r0\nA:x86_64\nL:MIT\n\n',
      'usr/lib/os-release': 'ID=alpine\nVERSION_ID=3.20.0\n',
      'etc/os-release': { hardlink: 'usr/lib/os-release' },
      [`${site('opt/a')}/tool-1.0.dist-info/METADATA`]: meta('tool'),
      [`${site('opt/a')}/dep-1.0.dist-info/METADATA`]: { hardlink: 'cache/dep' },
      'opt/a/pyvenv.cfg': { hardlink: 'cache/cfg' },
      // Linked to a wanted file: the second venv's copy of the same distributions.
      [`${site('opt/b')}/tool-1.0.dist-info/METADATA`]: {
        hardlink: `${site('opt/a')}/tool-1.0.dist-info/METADATA`,
      },
      [`${site('opt/b')}/dep-1.0.dist-info/METADATA`]: { hardlink: 'cache/dep' },
      'opt/b/pyvenv.cfg': { hardlink: 'cache/cfg' },
      'app/node_modules/left-pad/package.json': { hardlink: 'cache/pkg' },
    },
  ]);
  const result = await catalogArtifact(await openArtifact(`oci:${dir}`));
  assert.equal(result.distro?.id, 'alpine', 'etc/os-release, a hard link to usr/lib/os-release');
  const found = Object.fromEntries(result.components.map((c) => [c.purl.split('?')[0], c]));
  assert.ok(found['pkg:apk/alpine/musl@1.2.5-r0'], JSON.stringify(Object.keys(found)));
  assert.equal(found['pkg:npm/left-pad@1.3.0']?.licenses[0], 'WTFPL');
  assert.deepEqual(found['pkg:pypi/tool@1.0']?.foundAt, [
    `${site('opt/a')}/tool-1.0.dist-info/METADATA`,
    `${site('opt/b')}/tool-1.0.dist-info/METADATA`,
  ]);
  assert.equal(found['pkg:pypi/dep@1.0']?.foundAt.length, 2);
  assert.deepEqual(found['pkg:pypi/tool@1.0']?.dependsOn, ['pkg:pypi/dep@1.0']);
});

test('a wheel an OS package ships (Debian python3-*-whl, what venv seeds from) is no distribution; one elsewhere is', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'waybill-engine-wheels-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const wheel = (name: string, version: string) =>
    writeZip([
      {
        name: `${name}-${version}.dist-info/METADATA`,
        data: Buffer.from(`Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`),
      },
    ]);
  const whl = 'usr/share/python-wheels/setuptools-78.1.1-py3-none-any.whl';
  const pipWhl = 'usr/share/python-wheels/pip-25.1.1-py3-none-any.whl';
  await buildOciLayout(dir, [
    {
      'etc/os-release': 'ID=debian\nVERSION_ID="13"\n',
      'var/lib/dpkg/status': [
        'Package: python3-setuptools-whl\nStatus: install ok installed\nVersion: 78.1.1-0.1\nArchitecture: all\n',
        'Package: python3-pip-whl\nStatus: install ok installed\nVersion: 25.1.1+dfsg-1\nArchitecture: all\n',
      ].join('\n'),
      'var/lib/dpkg/info/python3-setuptools-whl.md5sums': `${'0'.repeat(32)}  ${whl}\n`,
      'var/lib/dpkg/info/python3-pip-whl.md5sums': `${'0'.repeat(32)}  ${pipWhl}\n`,
      [whl]: wheel('setuptools', '78.1.1'),
      [pipWhl]: wheel('pip', '25.1.1'),
      // The venv seeded from that wheel: an installed pip, which stays.
      'opt/venv/lib/python3.13/site-packages/pip-25.1.1.dist-info/METADATA':
        'Metadata-Version: 2.1\nName: pip\nVersion: 25.1.1\n',
      // A wheel no OS package owns: a release file the artifact carries, still listed.
      'srv/dist/app-1.0-py3-none-any.whl': wheel('app', '1.0'),
    },
  ]);
  const result = await catalogArtifact(await openArtifact(`oci:${dir}`));
  const pypi = result.components.filter((c) => c.ecosystem === 'pypi');
  assert.deepEqual(
    pypi.map((c) => `${c.purl} ${c.foundAt.join(',')}`),
    [
      'pkg:pypi/app@1.0 srv/dist/app-1.0-py3-none-any.whl',
      `pkg:pypi/pip@25.1.1 opt/venv/lib/python3.13/site-packages/pip-25.1.1.dist-info/METADATA,${pipWhl}`,
    ],
  );
});
