/**
 * The engine on worker threads: the filter rebuilt in a worker decides exactly as the in-process one,
 * the engine hands it to image walks, and the results (and SBOM bytes, and errors) are the same.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { ensureFixtureImage } from '../../test/helpers/fixture-image.ts';
import { generateSbom } from '../app/generate-sbom.ts';
import { isWaybillError } from '../errors.ts';
import { blobName } from '../sources/blob-store.ts';
import { openArtifact } from '../sources/open.ts';
import { buildOciLayout } from '../sources/testing.ts';
import type { Artifact, FileEntry } from '../sources/types.ts';
import { loadFilterModule, type SourceWalkOptions } from '../sources/walk-options.ts';
import { catalogArtifact, combinedFilter } from './engine.ts';
import { defaultCatalogers } from './registry.ts';
import type { Cataloger } from './types.ts';
import { engineFilter, engineFilterModule } from './worker-filter.ts';

const ELF = Buffer.from('\x7fELF\x02\x01\x01\0', 'latin1');
const GO_MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');

/** Paths and heads that some cataloger wants, sniffs or keeps, and some nobody does. */
const entryArb = fc.record({
  path: fc.constantFrom(
    'etc/os-release',
    'usr/lib/os-release',
    'var/lib/dpkg/status',
    'var/lib/dpkg/status.d/x',
    'lib/apk/db/installed',
    'var/lib/rpm/rpmdb.sqlite',
    'app/node_modules/x/package.json',
    'app/package-lock.json',
    'usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA',
    'usr/bin/tool',
    'usr/lib/x.so',
    'app/lib/a.jar',
    'etc/passwd',
  ),
  type: fc.constantFrom<FileEntry['type']>('file', 'hardlink', 'symlink', 'dir'),
  mode: fc.constantFrom(0o644, 0o755),
  body: fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.concat([ELF, b, GO_MAGIC, b])),
  ),
});

test('engineFilter decides as combinedFilter: want, sniff and keep, with and without os-release', async () => {
  const catalogers = defaultCatalogers();
  for (const osRelease of [true, false]) {
    const local = combinedFilter(catalogers, osRelease);
    const spec = engineFilterModule(catalogers, osRelease);
    assert.ok(spec, 'registry catalogers can be rebuilt in a worker');
    // Loaded the way a worker loads it: by URL and export name, from a structured-cloned argument.
    const remote = await loadFilterModule(structuredClone(spec));
    fc.assert(
      fc.property(entryArb, ({ path, type, mode, body }) => {
        const data = Buffer.from(body);
        const entry: FileEntry = { path, type, mode, size: data.length };
        assert.equal(remote.want(entry), local.want(entry));
        assert.equal(remote.sniff?.(entry, data.subarray(0, 64)), local.sniff?.(entry, data.subarray(0, 64)));
        assert.equal(remote.keep?.(entry, data), local.keep?.(entry, data));
      }),
      { numRuns: 300 },
    );
  }
});

test('engineFilter: a malformed argument or an unknown cataloger is a WaybillError', () => {
  for (const arg of [undefined, null, 'x', { catalogers: 'npm', osRelease: true }, { catalogers: [] }]) {
    assert.throws(
      () => engineFilter(arg),
      (e: unknown) => isWaybillError(e) && e.code === 'USAGE',
    );
  }
  assert.throws(
    () => engineFilter({ catalogers: ['nope'], osRelease: false }),
    (e: unknown) => isWaybillError(e) && e.input === 'nope',
  );
});

test('engineFilterModule: catalogers that exist only in this thread keep the walk in-process', () => {
  const custom: Cataloger = { name: 'npm', want: () => true, catalog: () => [] };
  assert.equal(engineFilterModule([custom], true), undefined);
  assert.deepEqual(engineFilterModule(defaultCatalogers().slice(0, 2), false)?.arg, {
    catalogers: defaultCatalogers()
      .slice(0, 2)
      .map((c) => c.name),
    osRelease: false,
  });
});

const pkg = (name: string, version: string) => JSON.stringify({ name, version, license: 'MIT' });
const dpkg = (name: string, version: string) =>
  `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${version}\nMaintainer: M <m@example.org>\nDescription: d\n\n`;

/** Four layers: an OS, upgrades, a whiteout, and enough bytes that layers overlap on threads. */
async function sampleImage(dir: string) {
  const filler = (seed: number) => Buffer.alloc(3 * 1024 * 1024, seed);
  return buildOciLayout(dir, [
    {
      'etc/os-release': 'ID=debian\nVERSION_ID=12\n',
      'var/lib/dpkg/status': dpkg('libc6', '2.36-9') + dpkg('zlib1g', '1:1.2.13'),
      'app/node_modules/a/package.json': pkg('a', '1.0.0'),
      'app/node_modules/b/package.json': pkg('b', '1.0.0'),
      'opt/filler-0': filler(0),
    },
    {
      'var/lib/dpkg/status': dpkg('libc6', '2.36-9') + dpkg('zlib1g', '1:1.2.13') + dpkg('curl', '7.88'),
      'app/node_modules/a/package.json': pkg('a', '2.0.0'),
      'opt/filler-1': filler(1),
    },
    { 'app/node_modules/b/.wh.package.json': '', 'app/node_modules/c/package.json': pkg('c', '3.0.0') },
    { 'app/node_modules/c/package.json': pkg('c', '3.0.0'), 'opt/filler-3': filler(3) },
  ]);
}

/** Records the options the engine walks with, and walks for real. */
function spying(artifact: Artifact, seen: SourceWalkOptions[]): Artifact {
  return {
    ...artifact,
    walk: (filter, options) => {
      seen.push({ ...(options as SourceWalkOptions) });
      return artifact.walk(filter, options);
    },
  };
}

test('catalogArtifact on worker threads: same components, layers and warnings as in-process', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'waybill-worker-filter-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await sampleImage(dir);
  const artifact = await openArtifact(`oci:${dir}`);
  const seen: SourceWalkOptions[] = [];
  const inProcess = await catalogArtifact(spying(artifact, seen), { walkOptions: { workers: 1 } });
  const threaded = await catalogArtifact(spying(artifact, seen), { walkOptions: { workers: 2 } });
  assert.ok(seen[1]?.filterModule, 'the engine gives image walks its filter module');
  assert.equal(seen[1]?.workers, 2);
  assert.deepEqual(threaded, inProcess);
  assert.ok(inProcess.components.some((c) => c.purl.startsWith('pkg:deb/debian/curl@7.88')));
  assert.deepEqual(
    inProcess.components.filter((c) => c.ecosystem === 'npm').map((c) => c.purl),
    ['pkg:npm/a@2.0.0', 'pkg:npm/c@3.0.0'],
  );

  // Custom catalogers cannot be rebuilt in a worker: no filter module, the walk stays in-process.
  const custom: Cataloger = { name: 'x', want: () => false, catalog: () => [] };
  await catalogArtifact(spying(artifact, seen), { catalogers: [custom], walkOptions: { workers: 2 } });
  assert.equal(seen[2]?.filterModule, undefined);

  const sbom = async (workers: number) =>
    (await generateSbom(artifact, { format: 'cyclonedx-json', name: 'sample', workers })).bytes;
  assert.ok((await sbom(1)).equals(await sbom(3)), 'same SBOM bytes with 1 and 3 workers');
});

test('a corrupt layer fails with the same WaybillError on threads as in-process', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'waybill-worker-corrupt-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const built = await sampleImage(dir);
  const path = join(dir, blobName(built.layers[1]?.digest as string));
  const bytes = await readFile(path);
  bytes[bytes.length - 9] = (bytes[bytes.length - 9] as number) ^ 0xff;
  await writeFile(path, bytes);
  const artifact = await openArtifact(`oci:${dir}`);
  const failure = async (workers: number) => {
    try {
      await catalogArtifact(artifact, { walkOptions: { workers } });
    } catch (e) {
      assert.ok(isWaybillError(e), `a WaybillError, not ${String(e)}`);
      return { code: e.code, input: e.input, message: e.message };
    }
    assert.fail('the walk should have failed');
  };
  const inProcess = await failure(0);
  assert.match(inProcess.input, /layer 2 of 4/);
  assert.deepEqual(await failure(2), inProcess);
  assert.deepEqual(await failure(4), inProcess);
});

test('the real fixture image: same SBOM bytes with 1 and 2 workers', async (t) => {
  const image = await ensureFixtureImage();
  if ('skip' in image) return t.skip(image.skip);
  const artifact = await openArtifact(`oci:${image.ociDir}:latest`);
  const sbom = async (workers: number) =>
    (await generateSbom(artifact, { format: 'spdx-json', name: 'fixture', workers })).bytes;
  const one = await sbom(1);
  assert.ok(one.equals(await sbom(2)));
});
