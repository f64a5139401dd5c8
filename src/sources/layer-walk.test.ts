import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { isWaybillError } from '../errors.ts';
import { sha256Digest } from '../util/digest.ts';
import { blobName } from './blob-store.ts';
import type { LayerJob } from './layer-scan.ts';
import { jobOrder } from './layer-walk.ts';
import { openArtifact } from './open.ts';
import { type BuiltImage, buildOciLayout, type TarSpec } from './testing.ts';
import type { FileEntry, FileFilter, WalkResult } from './types.ts';
import {
  type FilterModuleSpec,
  hashThreadWanted,
  parseWorkerCount,
  resolveWorkerCount,
  type SourceWalkOptions,
} from './walk-options.ts';

let work = '';
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'waybill-layer-walk-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

function summary(result: WalkResult): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of result.files) {
    const show = (b: Buffer) =>
      b.length > 64 ? `${b.length}B:${b.subarray(0, 8).toString('latin1')}` : b.toString();
    out[f.entry.path] =
      `${f.entry.layer?.slice(7, 13)}|${show(f.data)}|${f.earlier.map((e) => `${e.layer.slice(7, 13)}:${show(e.data)}`).join(',')}`;
  }
  return out;
}

const short = (digest: string | undefined) => digest?.slice(7, 13);

/** Keeps files (and what hard links resolve to) that contain "KEEP"; logs every call. */
function keepFilter(calls: string[]): FileFilter {
  return {
    want: (e) => e.type === 'file' || e.type === 'hardlink',
    keep(entry, data) {
      calls.push(`${entry.path}:${data.length}`);
      return data.includes('KEEP');
    },
  };
}

test('keep: dropped versions vanish at once and interrupt `earlier`; kept bytes survive buffer reuse', async () => {
  const big = (fill: string, keep: boolean) => {
    const b = Buffer.alloc(3 * 1024 * 1024 + 17, fill);
    if (keep) b.write('KEEP', 2 * 1024 * 1024);
    return b;
  };
  const image: BuiltImage = await buildOciLayout(join(work, 'keep'), [
    {
      'bin/a': 'KEEP a1',
      'bin/b': 'drop b1',
      'bin/c': 'KEEP c1',
      'bin/d': 'KEEP d1',
      'big/1': big('x', true),
      'big/2': big('y', false),
      'big/3': big('z', true),
    },
    { 'bin/a': 'drop a2', 'bin/c': 'KEEP c2', 'bin/d': 'drop d2' },
    { 'bin/a': 'KEEP a3', 'bin/c': 'KEEP c3', 'bin/e': 'KEEP e3', 'bin/z': { hardlink: 'bin/e' } },
  ]);
  const [l1, l2, l3] = image.diffIds.map(short);
  const oci = await openArtifact(`oci:${image.layoutDir}:latest`);
  for (const concurrency of [1, 3]) {
    const calls: string[] = [];
    const result = await oci.walk(keepFilter(calls), { concurrency } as SourceWalkOptions);
    assert.deepEqual(summary(result), {
      // a2 was dropped: it replaced a1, so a3 has no earlier version (the chain is interrupted).
      'bin/a': `${l3}|KEEP a3|`,
      'bin/c': `${l3}|KEEP c3|${l1}:KEEP c1,${l2}:KEEP c2`,
      // d2 was dropped and nothing came after it: the path is gone, like a whiteout.
      'bin/e': `${l3}|KEEP e3|`,
      'bin/z': `${l3}|KEEP e3|`,
      'big/1': `${l1}|3145745B:xxxxxxxx|`,
      'big/3': `${l1}|3145745B:zzzzzzzz|`,
    });
    const big1 = result.files.find((f) => f.entry.path === 'big/1')?.data;
    assert.equal(big1?.toString('latin1', 2 * 1024 * 1024, 2 * 1024 * 1024 + 4), 'KEEP');
    assert.equal(big1?.at(-1), 'x'.charCodeAt(0), 'not overwritten by later reads into the same buffer');
    // Called once per wanted file or resolved hard link, with the whole content.
    assert.ok(calls.includes('big/2:3145745') && calls.includes('bin/z:7') && calls.includes('bin/b:7'));
    assert.equal(calls.length, 14);
  }
});

test('keep: without `keep` every wanted file is kept, as before', async () => {
  const image = await buildOciLayout(join(work, 'nokeep'), [{ 'a.txt': 'one' }, { 'a.txt': 'two' }]);
  const result = await (await openArtifact(image.layoutDir)).walk({ want: (e) => e.type === 'file' });
  assert.deepEqual(
    result.files.map((f) => [f.entry.path, f.data.toString(), f.earlier.map((e) => e.data.toString())]),
    [['a.txt', 'two', ['one']]],
  );
});

/** Seven layers with overlapping paths, whiteouts and an opaque dir: order matters in the merge. */
async function manyLayers(dir: string): Promise<BuiltImage> {
  const layers: Array<Record<string, string | Buffer>> = [];
  for (let i = 0; i < 7; i++) {
    const files: Record<string, string | Buffer> = {
      'shared/version': `v${i}`,
      [`own/${i}.txt`]: `layer ${i}`,
      // Incompressible bulk so layers take different times to scan.
      [`bulk/${i}.bin`]: Buffer.from(
        Array.from({ length: (7 - i) * 40_000 }, (_, j) => (j * 7919 + i) & 0xff),
      ),
    };
    if (i === 3) files['own/.wh.1.txt'] = '';
    if (i === 5) files['bulk/.wh..wh..opq'] = '';
    layers.push(files);
  }
  return buildOciLayout(dir, layers);
}

test('concurrency: the same view, byte for byte, whatever the number of layers scanned at once', async () => {
  const image = await manyLayers(join(work, 'many'));
  const oci = await openArtifact(image.layoutDir);
  const total = image.layers.reduce((s, l) => s + l.size, 0);
  const filter: FileFilter = { want: (e) => e.type === 'file' };
  const results: string[] = [];
  for (const concurrency of [1, 2, 4, 16]) {
    const progress: number[] = [];
    const result = await oci.walk(filter, {
      concurrency,
      onProgress: (done, all) => {
        assert.equal(all, total);
        progress.push(done);
      },
    } as SourceWalkOptions);
    assert.deepEqual(
      progress,
      [...progress].sort((a, b) => a - b),
      'progress only grows',
    );
    assert.equal(progress.at(-1), total);
    results.push(JSON.stringify(summary(result)));
  }
  assert.equal(new Set(results).size, 1);
  const view = JSON.parse(results[0] as string) as Record<string, string>;
  assert.deepEqual(Object.keys(view), [
    'bulk/5.bin',
    'bulk/6.bin',
    'own/0.txt',
    'own/2.txt',
    'own/3.txt',
    'own/4.txt',
    'own/5.txt',
    'own/6.txt',
    'shared/version',
  ]);
  assert.match(view['shared/version'] as string, /\|v6\|.*:v0,.*:v1,.*:v2,.*:v3,.*:v4,.*:v5$/);
});

test('concurrency: the lowest broken layer is reported, as a one-by-one walk would; aborts reject', async () => {
  const image = await manyLayers(join(work, 'broken'));
  // Corrupt layers 3 and 6 (same size, different bytes): both fail their digest check.
  for (const i of [2, 5]) {
    const path = join(image.layoutDir, blobName(image.layers[i]?.digest as string));
    const bytes = await readFile(path);
    bytes[bytes.length - 5] = (bytes[bytes.length - 5] as number) ^ 0xff;
    await writeFile(path, bytes);
  }
  const oci = await openArtifact(image.layoutDir);
  for (const concurrency of [1, 4, 7]) {
    await assert.rejects(
      oci.walk({ want: () => true }, { concurrency } as SourceWalkOptions),
      (e: unknown) => isWaybillError(e) && /layer 3 of 7/.test(e.input),
    );
  }
  const controller = new AbortController();
  let aborted = false;
  const walk = oci.walk({ want: () => true }, {
    concurrency: 4,
    signal: controller.signal,
    onProgress: () => {
      if (!aborted) controller.abort(new Error('stop'));
      aborted = true;
    },
  } as SourceWalkOptions);
  await assert.rejects(walk, /stop/);
});

test('keep sees what sniff saw: entry sizes and content of hard links to kept files', async () => {
  const image = await buildOciLayout(join(work, 'links'), [
    { 'a/x': '\x7fELF KEEP', 'a/y': { hardlink: 'a/x' } },
  ]);
  const seen: FileEntry[] = [];
  const result = await (await openArtifact(image.layoutDir)).walk({
    want: (e) => (e.type === 'file' || e.type === 'hardlink' ? 'sniff' : false),
    sniff: (_e, head) => head[0] === 0x7f,
    keep(entry, data) {
      seen.push({ ...entry });
      assert.equal(entry.size, data.length);
      return true;
    },
  });
  assert.deepEqual(
    seen.map((e) => [e.path, e.type, e.size]),
    [
      ['a/x', 'file', 9],
      ['a/y', 'hardlink', 9],
    ],
  );
  assert.deepEqual(
    result.files.map((f) => f.data.toString('latin1')),
    ['\x7fELF KEEP', '\x7fELF KEEP'],
  );
});

test('a wanted hard link to a file the filter did not want gets that file’s bytes, on every path', async () => {
  // A tar stores a hard link's content under its first name only: a package manager's store, a
  // cache. `want/` is what the filter asks for; `store/` is not. Three layers alike, so worker
  // threads scan some of them.
  const layer = (n: number): TarSpec => ({
    [`store/a${n}`]: 'KEEP a',
    'store/big': 'KEEP but too big',
    [`want/l${n}`]: { hardlink: `store/a${n}` },
    [`want/m${n}`]: { hardlink: `want/l${n}` },
    'want/n': { hardlink: 'store/big' },
    'want/nothing': { hardlink: 'store/none' },
    'want/x': 'drop x',
    'want/y': { hardlink: 'want/x' },
  });
  const modulePath = join(work, 'links-filter.mjs');
  const source = "(e) => e.path.startsWith('want/') && (e.type === 'file' || e.type === 'hardlink')";
  await writeFile(
    modulePath,
    `export const links = { want: ${source}, keep: (_e, data) => data.includes('KEEP') };\n`,
  );
  const filterModule: FilterModuleSpec = { url: pathToFileURL(modulePath).href, export: 'links' };
  const expected = Object.fromEntries(
    [0, 1, 2].flatMap((n) => [`want/l${n}`, `want/m${n}`].map((p) => [p, 'KEEP a'])),
  );
  for (const compression of ['gzip', 'zstd', 'none'] as const) {
    const image = await buildOciLayout(
      join(work, `unwanted-targets-${compression}`),
      [layer(0), layer(1), layer(2)],
      {
        compression,
      },
    );
    const oci = await openArtifact(image.layoutDir);
    for (const workers of [0, 3]) {
      const calls: string[] = [];
      const result = await oci.walk(
        {
          want: (e) => e.path.startsWith('want/') && (e.type === 'file' || e.type === 'hardlink'),
          keep(entry, data) {
            calls.push(entry.path);
            return data.includes('KEEP');
          },
        },
        { workers, filterModule, maxFileSize: 10 } as SourceWalkOptions,
      );
      const view = Object.fromEntries(result.files.map((f) => [f.entry.path, f.data.toString()]));
      // store/big is over maxFileSize, store/none is not in the archive: those links are left out.
      assert.deepEqual(view, expected, `${compression}, ${workers} workers`);
      assert.equal(result.files.find((f) => f.entry.path === 'want/l2')?.entry.size, 6);
      if (workers === 0) {
        // want/y links to a file whose content was dropped: dropped too, its bytes never read again;
        // want/n and want/nothing had no bytes to show.
        assert.deepEqual(calls.filter((c) => c !== 'want/x').sort(), Object.keys(expected).sort());
        assert.equal(calls.length, 9);
      }
    }
  }
});

test('a hard link to a file of a lower layer gets that file’s bytes as the layer below left them', async () => {
  // image-spec layer.md: a layer is applied onto the file system its lower layers made, so a hard
  // link may name a file an earlier layer wrote (umoci, Docker and containerd link to it). `store/`
  // is not wanted by the filter, so the link's bytes must come from the layer that last wrote it.
  const layers: TarSpec[] = [
    {
      'store/keep': 'KEEP k0',
      'store/over': 'KEEP o0',
      'store/gone': 'KEEP g0',
      'store/dir/f': 'KEEP d0',
      'store/nope': 'drop n0',
    },
    { 'store/over': 'KEEP o1', 'store/.wh.gone': '', 'store/.wh.dir': '' },
    {
      'want/k': { hardlink: 'store/keep' },
      'want/o': { hardlink: 'store/over' },
      'want/g': { hardlink: 'store/gone' },
      'want/d': { hardlink: 'store/dir/f' },
      'want/n': { hardlink: 'store/nope' },
      'want/replaced': { hardlink: 'store/keep' },
      // Through this layer's own hard links the filter does not want: to a lower file, to a file
      // of this layer, round a loop (no file: left out).
      'mid/l': { hardlink: 'store/keep' },
      'want/via-lower': { hardlink: 'mid/l' },
      'mid/f': 'KEEP f2',
      'mid/g': { hardlink: 'mid/f' },
      'want/via-same': { hardlink: 'mid/g' },
      'mid/p': { hardlink: 'mid/q' },
      'mid/q': { hardlink: 'mid/p' },
      'want/loop': { hardlink: 'mid/q' },
    },
    // The target rewritten after the link: a new file, the link keeps the old bytes. A link to a
    // link of a lower layer: the same file, two layers down.
    { 'store/keep': 'KEEP k3', 'want/replaced': 'KEEP r3', 'want/chain': { hardlink: 'want/k' } },
  ];
  const modulePath = join(work, 'lower-links-filter.mjs');
  // The filter wants files of some size, as the executable filter does (an ELF has headers): a hard
  // link's tar header says size 0, its content being another entry's.
  const source =
    "(e) => e.path.startsWith('want/') && (e.type === 'file' || e.type === 'hardlink') && e.size >= 5";
  await writeFile(
    modulePath,
    `export const links = { want: ${source}, keep: (_e, data) => data.includes('KEEP') };\n`,
  );
  const filterModule: FilterModuleSpec = { url: pathToFileURL(modulePath).href, export: 'links' };
  for (const compression of ['gzip', 'none'] as const) {
    const image = await buildOciLayout(join(work, `lower-links-${compression}`), layers, { compression });
    const [, , l2, l3] = image.diffIds.map(short);
    const oci = await openArtifact(image.layoutDir);
    for (const workers of [0, 3]) {
      const result = await oci.walk(
        {
          want: (e) =>
            e.path.startsWith('want/') && (e.type === 'file' || e.type === 'hardlink') && e.size >= 5,
          keep: (_entry, data) => data.includes('KEEP'),
        },
        { workers, filterModule } as SourceWalkOptions,
      );
      const view = Object.fromEntries(
        result.files.map((f) => [f.entry.path, `${short(f.entry.layer)}|${f.data}|${f.entry.size}`]),
      );
      assert.deepEqual(
        view,
        {
          'want/chain': `${l3}|KEEP k0|7`,
          'want/k': `${l2}|KEEP k0|7`,
          'want/o': `${l2}|KEEP o1|7`,
          'want/replaced': `${l3}|KEEP r3|7`,
          'want/via-lower': `${l2}|KEEP k0|7`,
          'want/via-same': `${l2}|KEEP f2|7`,
        },
        `${compression}, ${workers} workers`,
      );
    }
  }
});

test('a hard link is read no further than the filter lets the link itself be read (maxSize), in its layer or below', async () => {
  // Found by fuzzing: a dist-info METADATA hard-linked to a 200 MiB file (a few hundred KiB of gzip)
  // was read whole, past TEXT_FILE_MAX, whether the file was in the link's layer or a lower one.
  const layers: TarSpec[] = [
    { 'store/big': `KEEP ${'x'.repeat(100)}`, 'store/small': 'KEEP s' },
    {
      'want/lower-big': { hardlink: 'store/big' },
      'want/lower-small': { hardlink: 'store/small' },
      'mid/big': `KEEP ${'y'.repeat(100)}`,
      'want/same-big': { hardlink: 'mid/big' },
    },
  ];
  const image = await buildOciLayout(join(work, 'link-max-size'), layers, { compression: 'none' });
  const oci = await openArtifact(image.layoutDir);
  const result = await oci.walk(
    {
      want: (e) => e.path.startsWith('want/') && (e.type === 'file' || e.type === 'hardlink'),
      keep: (_entry, data) => data.includes('KEEP'),
      maxSize: (e) => (e.path.startsWith('want/') ? 50 : undefined),
    },
    { workers: 0 } as SourceWalkOptions,
  );
  assert.deepEqual(
    result.files.map((f) => [f.entry.path, f.data.toString()]),
    [['want/lower-small', 'KEEP s']],
  );
  // Said as for a file over its limit.
  const over = (n: number) => `${n} bytes is larger than 50, the most read of such a file`;
  assert.deepEqual(result.skipped, [
    { path: 'want/lower-big', reason: over(105) },
    { path: 'want/same-big', reason: over(105) },
  ]);
});

/** A filter module on disk, as worker threads load it: every file kept. */
async function filesModule(dir: string): Promise<FilterModuleSpec> {
  const path = join(dir, 'files-filter.mjs');
  await writeFile(path, "export const files = { want: (e) => e.type === 'file' };\n");
  return { url: pathToFileURL(path).href, export: 'files' };
}

test('workers: the same view as in-process, for any number of threads, hashed beside or not', async () => {
  const image = await manyLayers(join(work, 'many-workers'));
  const oci = await openArtifact(image.layoutDir);
  const filterModule = await filesModule(work);
  const filter: FileFilter = { want: (e) => e.type === 'file' };
  const inProcess = JSON.stringify(summary(await oci.walk(filter, { workers: 0 })));
  for (const hashThread of [false, true]) {
    assert.equal(
      JSON.stringify(summary(await oci.walk(filter, { workers: 0, hashThread } as SourceWalkOptions))),
      inProcess,
    );
    for (const workers of [2, 3, 16]) {
      // The main thread is one lane (with `filter`), workers the others (with the module's filter).
      const threaded = await oci.walk(filter, { workers, filterModule, hashThread } as SourceWalkOptions);
      assert.equal(JSON.stringify(summary(threaded)), inProcess);
    }
  }
  // A module that keeps nothing: the files left are the main thread's layers, so workers ran too.
  const none = { url: filterModule.url.replace('files-filter', 'none-filter'), export: 'none' };
  await writeFile(new URL(none.url), 'export const none = { want: () => false };\n');
  const mixed = summary(await oci.walk(filter, { workers: 2, filterModule: none } as SourceWalkOptions));
  assert.ok(Object.keys(mixed).length > 0, 'the main thread kept its layers');
  assert.notEqual(JSON.stringify(mixed), inProcess, 'a worker scanned some layers');
});

/** Flips a byte near the end of each listed layer's blob: its digest no longer matches. */
async function breakLayers(image: BuiltImage, indexes: number[]): Promise<void> {
  for (const i of indexes) {
    const path = join(image.layoutDir, blobName(image.layers[i]?.digest as string));
    const bytes = await readFile(path);
    bytes[bytes.length - 5] = (bytes[bytes.length - 5] as number) ^ 0xff;
    await writeFile(path, bytes);
  }
}

test('workers: the lowest broken layer is reported, as in-process; a pre-aborted walk rejects', async () => {
  const image = await manyLayers(join(work, 'broken-workers'));
  await breakLayers(image, [2, 5]);
  const oci = await openArtifact(image.layoutDir);
  const filterModule = await filesModule(work);
  const message = await oci.walk({ want: () => true }, { workers: 0 }).then(
    () => assert.fail('should fail'),
    (e: Error) => e.message,
  );
  for (const hashThread of [false, true]) {
    await assert.rejects(
      oci.walk({ want: () => true }, { workers: 0, hashThread } as SourceWalkOptions),
      (e: unknown) => isWaybillError(e) && e.message === message,
    );
    for (const workers of [2, 7]) {
      await assert.rejects(
        oci.walk({ want: () => true }, { workers, filterModule, hashThread } as SourceWalkOptions),
        (e: unknown) => isWaybillError(e) && /layer 3 of 7/.test(e.input) && e.message === message,
      );
    }
  }
  await assert.rejects(
    oci.walk({ want: () => true }, {
      workers: 2,
      filterModule,
      signal: AbortSignal.abort(new Error('stop')),
    } as SourceWalkOptions),
    /stop/,
  );
});

/** Incompressible bytes, the same for the same seed (a linear congruential generator's high bits). */
function noiseFrom(seed: number): (n: number) => Buffer {
  let state = seed;
  return (n) => {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) {
      state = (state * 1103515245 + 12345) >>> 0;
      out[i] = state >>> 24;
    }
    return out;
  };
}

/** Seven layers, each bigger than the one below: scanned top first (`jobOrder`), applied bottom first. */
async function growingLayers(dir: string): Promise<BuiltImage> {
  const noise = noiseFrom(12345);
  const layers: Array<Record<string, string | Buffer>> = [];
  for (let i = 0; i < 7; i++)
    layers.push({
      'shared/version': `v${i}`,
      [`own/${i}.txt`]: `layer ${i}`,
      [`bulk/${i}.bin`]: noise((i + 1) * 50_000),
    });
  return buildOciLayout(dir, layers);
}

test('workers: biggest layers first, results and failures as if scanned in layer order', async () => {
  const image = await growingLayers(join(work, 'growing'));
  const oci = await openArtifact(image.layoutDir);
  const filterModule = await filesModule(work);
  const filter: FileFilter = { want: (e) => e.type === 'file' };
  const inProcess = JSON.stringify(summary(await oci.walk(filter, { workers: 0 })));
  for (const workers of [2, 3]) {
    const threaded = await oci.walk(filter, { workers, filterModule } as SourceWalkOptions);
    assert.equal(JSON.stringify(summary(threaded)), inProcess);
  }
  // A small low layer broken and a big high one: the low one is reported, though scanned last.
  await breakLayers(image, [1, 5]);
  const broken = await openArtifact(image.layoutDir);
  const message = await broken.walk(filter, { workers: 0 }).then(
    () => assert.fail('should fail'),
    (e: Error) => e.message,
  );
  assert.match(message, /layer 2 of 7/);
  for (const workers of [2, 3]) {
    await assert.rejects(
      broken.walk(filter, { workers, filterModule } as SourceWalkOptions),
      (e: unknown) => isWaybillError(e) && e.message === message,
    );
  }
});

test('hashed beside: uncompressed layers read into the ring give the same files, byte for byte', async () => {
  // Bigger than the ring (8 MiB) and than a read (1 MiB): reads wrap around the ring, and kept
  // files straddle reads, so a kept file must own its bytes, never a view of the ring.
  const noise = noiseFrom(7);
  const kept = (n: number) => Buffer.concat([Buffer.from('\x7fELF KEEP'), noise(n)]);
  const layers: TarSpec[] = [0, 1].map((i) => ({
    [`bulk/${i}.bin`]: noise(9 * 1024 * 1024 + i),
    [`keep/${i}-big`]: kept(2.5 * 1024 * 1024),
    [`keep/${i}-small`]: kept(100),
    [`more/${i}.bin`]: noise(1024 * 1024 - 7),
    [`keep/${i}-late`]: kept(1024 * 1024 + 3),
  }));
  const image = await buildOciLayout(join(work, 'uncompressed'), layers, { compression: 'none' });
  const oci = await openArtifact(image.layoutDir);
  const filter: FileFilter = { want: (e) => e.type === 'file', keep: (_e, data) => data.includes('KEEP') };
  const digests = (result: WalkResult) =>
    result.files.map((f) => `${f.entry.path} ${f.data.length} ${sha256Digest(f.data)}`).join('\n');
  const alone = digests(await oci.walk(filter, { workers: 0, hashThread: false } as SourceWalkOptions));
  assert.equal(alone.split('\n').length, 6);
  const beside = await oci.walk(filter, { workers: 0, hashThread: true } as SourceWalkOptions);
  assert.equal(digests(beside), alone);
  for (const f of beside.files)
    assert.ok(!(f.data.buffer instanceof SharedArrayBuffer), `${f.entry.path} owns its bytes`);

  // A byte of file content changed (the tar stays valid): only the diff_id check can tell.
  const blob = join(image.layoutDir, blobName(image.layers[1]?.digest as string));
  const bytes = await readFile(blob);
  bytes[4096] = (bytes[4096] as number) ^ 0xff;
  await writeFile(blob, bytes);
  const broken = await openArtifact(image.layoutDir);
  await assert.rejects(
    broken.walk(filter, { workers: 0, hashThread: true } as SourceWalkOptions),
    (e: unknown) => isWaybillError(e) && e.code === 'DIGEST_MISMATCH' && /layer 2 of 2/.test(e.input),
  );
});

test('jobOrder: most work first (an uncompressed layer counts a quarter), ties in layer order', () => {
  const job = (size: number, uncompressed = false): LayerJob => ({
    location: { file: 'blob', name: 'blob', start: 0, size },
    input: 'layer',
    ...(uncompressed
      ? { digest: 'sha256:a', diffId: 'sha256:a' }
      : { digest: 'sha256:b', diffId: 'sha256:c' }),
    image: true,
    maxFileSize: 1,
  });
  assert.deepEqual(jobOrder([job(10), job(30), job(20), job(30)]), [1, 3, 2, 0]);
  assert.deepEqual(jobOrder([job(100, true), job(30)]), [1, 0]);
  assert.deepEqual(jobOrder([]), []);
});

test('resolveWorkerCount: explicit, environment, default policy; capped at the layer count', () => {
  const MiB = 1024 * 1024;
  const layers = (n: number, bytes = 100 * MiB) => new Array<number>(n).fill(bytes);
  assert.equal(resolveWorkerCount(1, layers(10), {}), 0);
  assert.equal(resolveWorkerCount(0, layers(10), {}), 0);
  assert.equal(resolveWorkerCount(4, layers(3), {}), 3);
  assert.equal(resolveWorkerCount(4, layers(1), {}), 0);
  assert.equal(resolveWorkerCount(undefined, layers(5), { WAYBILL_WORKERS: '3' }), 3);
  assert.equal(
    resolveWorkerCount(1, layers(5), { WAYBILL_WORKERS: '3' }),
    0,
    'the option beats the environment',
  );
  assert.throws(() => resolveWorkerCount(undefined, layers(5), { WAYBILL_WORKERS: 'many' }), {
    code: 'USAGE',
  });
  const cores = availableParallelism();
  assert.equal(resolveWorkerCount(undefined, layers(8), {}), cores >= 2 ? Math.min(cores, 8) : 0);
  assert.equal(resolveWorkerCount(undefined, layers(1), {}), 0);
  // One big layer and small ones (the SBOM fixture: 82 + 7 MiB): nothing for a second thread to do.
  assert.equal(resolveWorkerCount(undefined, [82 * MiB, 7 * MiB, 1 * MiB], {}), 0);
  assert.equal(resolveWorkerCount(undefined, [82 * MiB, 16 * MiB], {}), cores >= 2 ? 2 : 0);
  assert.throws(() => parseWorkerCount('-1', '--workers'), { code: 'USAGE' });
  assert.equal(parseWorkerCount(' 2 ', '--workers'), 2);
});

test('hashThreadWanted: the option, else $WAYBILL_HASH_THREAD (1 or 0 only), else cores and layer size', () => {
  const MiB = 1024 * 1024;
  assert.equal(hashThreadWanted(false, [100 * MiB], { WAYBILL_HASH_THREAD: '1' }), false, 'the option wins');
  assert.equal(hashThreadWanted(undefined, [1], { WAYBILL_HASH_THREAD: '1' }), true);
  assert.equal(hashThreadWanted(undefined, [100 * MiB], { WAYBILL_HASH_THREAD: ' 0 ' }), false);
  assert.equal(hashThreadWanted(undefined, [1], { WAYBILL_HASH_THREAD: '' }), false, 'empty: the default');
  assert.equal(hashThreadWanted(undefined, [100 * MiB], {}), availableParallelism() >= 2);
  // "true" once meant the default, silently: a setting that does nothing must say so.
  for (const value of ['true', 'yes', '2', 'on'])
    assert.throws(() => hashThreadWanted(undefined, [1], { WAYBILL_HASH_THREAD: value }), {
      code: 'USAGE',
      message: new RegExp(`WAYBILL_HASH_THREAD.*"${value}"`),
    });
});

test('repeated layers: each distinct blob read once, applied at every position it is listed', async () => {
  const layers: TarSpec[] = [
    { 'etc/app.conf': 'v1', 'etc/keep': 'k' },
    { 'etc/.wh.app.conf': '' },
    { 'etc/app.conf': 'v2' },
  ];
  const filterModule = await filesModule(work);
  const cases: Array<[number[], Record<string, string>]> = [
    // Deleted by the whiteout, then restored by the same blob applied again.
    [[0, 1, 0], { 'etc/app.conf': 'v1', 'etc/keep': 'k' }],
    [[0, 1], { 'etc/keep': 'k' }],
    // v2 replaced by v1 again: the repeat is re-applied, not skipped as already seen.
    [[0, 2, 0], { 'etc/app.conf': 'v1', 'etc/keep': 'k' }],
    [[0, 0, 2, 2], { 'etc/app.conf': 'v2', 'etc/keep': 'k' }],
  ];
  for (const [n, [order, expected]] of cases.entries()) {
    const image = await buildOciLayout(join(work, `repeat-${n}`), layers, { layerOrder: order });
    const oci = await openArtifact(image.layoutDir);
    const distinct = [...new Set(order)].map((i) => image.layers[order.indexOf(i)]?.size as number);
    for (const options of [{ workers: 0 }, { workers: 2, filterModule }] as SourceWalkOptions[]) {
      let read = 0;
      let total = 0;
      const result = await oci.walk(
        { want: (e) => e.type === 'file' },
        {
          ...options,
          onProgress: (done, all) => {
            read = done;
            total = all;
          },
        },
      );
      const view = Object.fromEntries(result.files.map((f) => [f.entry.path, f.data.toString()]));
      assert.deepEqual(view, expected, `order ${order} ${JSON.stringify(options)}`);
      const sum = distinct.reduce((a, b) => a + b, 0);
      assert.equal(total, sum, 'progress counts each distinct blob once');
      assert.equal(read, sum, 'each distinct blob read exactly once');
    }
  }
});

test('repeated layers: the same blob with two diff_ids is malformed', async () => {
  const image = await buildOciLayout(join(work, 'repeat-diffid'), [{ a: '1' }, { b: '2' }], {
    layerOrder: [0, 1, 0],
  });
  const configPath = join(image.layoutDir, blobName(image.config.digest));
  const config = JSON.parse(await readFile(configPath, 'utf8'));
  config.rootfs.diff_ids[2] = config.rootfs.diff_ids[1];
  // Rewrite the config blob and the manifest that names it.
  const { writeBlob, writeLayoutIndex } = await import('./testing.ts');
  const { MEDIA_TYPE } = await import('../oci/types.ts');
  const configDescriptor = await writeBlob(
    image.layoutDir,
    Buffer.from(JSON.stringify(config)),
    MEDIA_TYPE.ociConfig,
  );
  const manifestPath = join(image.layoutDir, blobName(image.manifest.digest));
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
  manifest.config = configDescriptor;
  const manifestDescriptor = await writeBlob(
    image.layoutDir,
    Buffer.from(JSON.stringify(manifest)),
    MEDIA_TYPE.ociManifest,
  );
  await writeLayoutIndex(image.layoutDir, [manifestDescriptor]);
  const oci = await openArtifact(image.layoutDir);
  await assert.rejects(
    oci.walk({ want: () => true }, { workers: 0 }),
    (e: unknown) =>
      isWaybillError(e) &&
      e.code === 'MALFORMED' &&
      /layer 3 of 3/.test(e.input) &&
      /another diff_id/.test(e.reason),
  );
});

test('budget per artifact: bytes and entries of all layers, repeats counted each time; layer count', async (t) => {
  const saved = { ...process.env };
  t.after(() => {
    for (const k of ['WAYBILL_MAX_ARTIFACT_BYTES', 'WAYBILL_MAX_ENTRIES', 'WAYBILL_MAX_LAYERS'])
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
  });
  const filterModule = await filesModule(work);
  const mib = Buffer.alloc(1024 * 1024, 0);
  const image = await buildOciLayout(join(work, 'budget'), [{ a: mib }, { b: mib }, { c: 'x', d: 'y' }], {
    layerOrder: [0, 1, 2, 2, 2],
  });
  const oci = await openArtifact(image.layoutDir);
  const walk = (options: SourceWalkOptions) => oci.walk({ want: (e) => e.type === 'file' }, options);
  for (const options of [{ workers: 0 }, { workers: 2, filterModule }] as SourceWalkOptions[]) {
    // Two distinct 1 MiB layers: within a per-stream cap, past a 1.5 MiB artifact cap.
    process.env.WAYBILL_MAX_ARTIFACT_BYTES = String(1.5 * 1024 * 1024);
    await assert.rejects(
      walk(options),
      (e: unknown) => isWaybillError(e) && e.code === 'LIMIT' && /WAYBILL_MAX_ARTIFACT_BYTES/.test(e.reason),
    );
    delete process.env.WAYBILL_MAX_ARTIFACT_BYTES;
    // 1 + 1 + 3 × 2 entries = 8: the third copy of layer 3 passes 7.
    process.env.WAYBILL_MAX_ENTRIES = '7';
    await assert.rejects(
      walk(options),
      (e: unknown) => isWaybillError(e) && e.code === 'LIMIT' && /WAYBILL_MAX_ENTRIES/.test(e.reason),
    );
    process.env.WAYBILL_MAX_ENTRIES = '8';
    assert.equal((await walk(options)).files.length, 4);
    delete process.env.WAYBILL_MAX_ENTRIES;
    process.env.WAYBILL_MAX_LAYERS = '4';
    await assert.rejects(
      walk(options),
      (e: unknown) => isWaybillError(e) && e.code === 'LIMIT' && /5 layers, more than 4/.test(e.reason),
    );
    delete process.env.WAYBILL_MAX_LAYERS;
  }
  process.env.WAYBILL_MAX_ENTRIES = 'lots';
  await assert.rejects(walk({ workers: 0 }), { code: 'USAGE' });
});

test('budget per artifact: a broken low layer scanned last still reports its own error, as a one-by-one walk does', async (t) => {
  const saved = process.env.WAYBILL_MAX_ARTIFACT_BYTES;
  t.after(() => {
    if (saved === undefined) delete process.env.WAYBILL_MAX_ARTIFACT_BYTES;
    else process.env.WAYBILL_MAX_ARTIFACT_BYTES = saved;
  });
  const filterModule = await filesModule(work);
  // The small first layer is broken; the two big ones above it pass the artifact cap together.
  // Biggest first, both lanes start on a big one and pass the cap while the small one waits.
  const big = Buffer.alloc(48 * 1024 * 1024, 1);
  const image = await buildOciLayout(
    join(work, 'budget-order'),
    [{ 'small.txt': 'small layer' }, { 'big/1.bin': big }, { 'big/2.bin': big }],
    { compression: 'none' },
  );
  await breakLayers(image, [0]);
  process.env.WAYBILL_MAX_ARTIFACT_BYTES = String(60 * 1024 * 1024);
  const oci = await openArtifact(image.layoutDir);
  const filter: FileFilter = { want: (e) => e.type === 'file' };
  const message = await oci.walk(filter, { workers: 0 }).then(
    () => assert.fail('should fail'),
    (e: Error) => e.message,
  );
  assert.match(message, /layer 1 of 3/);
  for (let run = 0; run < 3; run++) {
    await assert.rejects(
      oci.walk(filter, { workers: 2, filterModule } as SourceWalkOptions),
      (e: unknown) => isWaybillError(e) && e.message === message,
    );
  }
});
