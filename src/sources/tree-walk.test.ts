import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { isWaybillError } from '../errors.ts';
import { openDir } from './dir.ts';
import { spawnHelper } from './tree-helpers.ts';
import { walkTreeShared } from './tree-walk.ts';
import type { FileFilter, WalkResult } from './types.ts';
import type { FilterModuleSpec, SourceWalkOptions } from './walk-options.ts';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'waybill-tree-walk-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

/**
 * The filter of these tests, as source: keeps package.json files, os-release (a link here), sniffs
 * executables by mode for an ELF head, and keeps `big` (over the size limit below, so skipped).
 */
const FILTER_SOURCE = `export const filter = {
  want(e) {
    if (e.path.endsWith('package.json') || e.path === 'etc/os-release' || e.path.endsWith('/big')) return true;
    if (e.path.startsWith('throw/')) throw new Error('filter refuses ' + e.path);
    return e.type === 'file' && (e.mode & 0o111) !== 0 ? 'sniff' : false;
  },
  sniff: (_e, head) => head[0] === 0x7f && head[1] === 0x45,
};
`;

async function filterModule(name: string, source = FILTER_SOURCE): Promise<FilterModuleSpec> {
  const path = join(work, `${name}.mjs`);
  await writeFile(path, source);
  return { url: pathToFileURL(path).href, export: 'filter' };
}

async function loadFilter(spec: FilterModuleSpec): Promise<FileFilter> {
  return ((await import(spec.url)) as Record<string, FileFilter>)[spec.export] as FileFilter;
}

/** 30 directories three deep, each with a manifest, an executable, a script and a link. */
async function bigTree(name: string): Promise<string> {
  const root = join(work, name);
  for (let a = 0; a < 3; a++)
    for (let b = 0; b < 10; b++) {
      const dir = join(root, `a${a}`, `b${b}`, 'node_modules', `p${b}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'package.json'), JSON.stringify({ name: `p${a}${b}`, version: '1.0.0' }));
      await writeFile(join(dir, 'tool'), Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(200, b)]));
      await chmod(join(dir, 'tool'), 0o755);
      await writeFile(join(dir, 'run.sh'), '#!/bin/sh\n');
      await chmod(join(dir, 'run.sh'), 0o755);
      await symlink('tool', join(dir, 'link'));
    }
  await mkdir(join(root, 'etc'), { recursive: true });
  await writeFile(join(root, 'etc', 'os-release.real'), 'ID=debian\n');
  await symlink('os-release.real', join(root, 'etc', 'os-release'));
  await writeFile(join(root, 'a0', 'big'), 'x'.repeat(5000));
  // A sidecar next to its artifact is waybill's own and left out; one without is an ordinary file.
  await writeFile(join(root, 'a1', 'tool.deb'), 'deb');
  await writeFile(join(root, 'a1', 'tool.deb.waybill.json'), '{}');
  await writeFile(join(root, 'a1', 'package.json.cdx.json'), '{}');
  execFileSync('mkfifo', [join(root, 'a2', 'pipe')]);
  return root;
}

/** What a walk kept, in order: each entry with a digest of its bytes. */
const view = (w: WalkResult) =>
  JSON.stringify({
    files: w.files.map((f) => [f.entry, createHash('sha256').update(f.data).digest('hex').slice(0, 16)]),
    skipped: w.skipped,
  });

/** The listed walk (one thread lists the whole tree, then reads in path order): the reference. */
async function listedWalk(
  root: string,
  filter: FileFilter,
  options: SourceWalkOptions = {},
): Promise<WalkResult> {
  return (await openDir(root, root, { digest: false })).walk(filter, { ...options, workers: 0 });
}

test('a walk shared by threads keeps exactly what the listed walk keeps, in the same order', async () => {
  const root = await bigTree('same');
  const spec = await filterModule('same');
  const filter = await loadFilter(spec);
  const options = { filterModule: spec, maxFileSize: 1000 };
  const reference = view(await listedWalk(root, filter, options));
  assert.match(reference, /a2\/b9\/node_modules\/p9\/package.json/);
  assert.match(reference, /os-release/);
  assert.match(reference, /larger than maxFileSize/);
  for (const helpers of [1, 2, 3]) {
    const shared = await walkTreeShared(root, filter, options, helpers, { awaitHelpers: true });
    assert.ok(shared, `${helpers} helpers`);
    assert.equal(view(shared), reference);
  }
  // Through openDir, as `sbom` walks: helpers by default (one core fewer than the machine has).
  const listed = await openDir(root, root, { digest: false });
  assert.equal(view(await listed.walk(filter, options)), reference);
});

test('a file over the filter’s maxSize is skipped unread with its reason, shared or listed', async () => {
  const root = await bigTree('max-size');
  // package.json files are read only up to 10 bytes: every one in the tree is larger.
  const source = FILTER_SOURCE.replace(
    'sniff: (_e, head)',
    "maxSize: (e) => (e.path.endsWith('package.json') ? 10 : undefined),\n  sniff: (_e, head)",
  );
  const spec = await filterModule('max-size', source);
  const filter = await loadFilter(spec);
  const options = { filterModule: spec, maxFileSize: 1000 };
  const listed = await listedWalk(root, filter, options);
  assert.ok(!listed.files.some((f) => f.entry.path.endsWith('package.json')));
  const reasons = listed.skipped.filter((s) => s.path.endsWith('package.json')).map((s) => s.reason);
  assert.equal(reasons.length, 30);
  assert.match(reasons[0] as string, /^\d+ bytes is larger than 10, the most read of such a file$/);
  // The walk's own limit still applies where the filter sets none.
  assert.ok(listed.skipped.some((s) => /larger than maxFileSize 1000/.test(s.reason)));
  const shared = await walkTreeShared(root, filter, options, 1, { awaitHelpers: true });
  assert.ok(shared);
  assert.equal(view(shared), view(listed));
});

test('helpers take part: a helper whose filter keeps nothing leaves a hole in what is kept', async () => {
  const root = await bigTree('part');
  const keepsAll = await loadFilter(await filterModule('all'));
  const none = await filterModule('none', 'export const filter = { want: () => false };\n');
  const full = view(await listedWalk(root, keepsAll));
  let holes = 0;
  for (let run = 0; run < 5 && holes === 0; run++) {
    const shared = await walkTreeShared(root, keepsAll, { filterModule: none }, 1, { awaitHelpers: true });
    assert.ok(shared);
    if (view(shared) !== full) holes++;
  }
  assert.ok(holes > 0, 'the helper listed some directories');
});

test('a failure anywhere gives up the shared walk; the caller meets the listed walk’s error', async () => {
  const root = await bigTree('fails');
  await mkdir(join(root, 'throw'));
  await writeFile(join(root, 'throw', 'x'), 'x');
  const spec = await filterModule('fails');
  const filter = await loadFilter(spec);
  for (const helpers of [1, 2]) {
    assert.equal(
      await walkTreeShared(root, filter, { filterModule: spec }, helpers, { awaitHelpers: true }),
      undefined,
    );
  }
  const listed = await openDir(root, root, { digest: false });
  await assert.rejects(
    listed.walk(filter, { filterModule: spec } as SourceWalkOptions),
    /filter refuses throw\/x/,
  );
});

test('a name that is not UTF-8 is the same one-line error, shared or listed', async () => {
  const root = await bigTree('names');
  writeFileSync(Buffer.concat([Buffer.from(`${root}/a1/b3/bad-`), Buffer.from([0xff])]), 'x');
  const spec = await filterModule('names');
  const filter = await loadFilter(spec);
  const errorOf = async (options: SourceWalkOptions) => {
    const listed = await openDir(root, root, { digest: false });
    try {
      await listed.walk(filter, options);
    } catch (e) {
      assert.ok(isWaybillError(e));
      return `${e.code} ${e.message}`;
    }
    assert.fail('walked a name that is not UTF-8');
  };
  const reference = await errorOf({ workers: 0 });
  assert.match(reference, /^MALFORMED .*not UTF-8/);
  assert.equal(await errorOf({ filterModule: spec, workers: 3 }), reference);
});

test('a helper that cannot load the filter leaves the walk to the others', async () => {
  const root = await bigTree('no-module');
  const filter = await loadFilter(await filterModule('good'));
  const broken = await filterModule('broken', 'export const filter = 42;\n');
  const shared = await walkTreeShared(root, filter, { filterModule: broken }, 2);
  assert.ok(shared);
  assert.equal(view(shared), view(await listedWalk(root, filter)));
});

test('an aborted walk throws the abort, not a fallback', async () => {
  const root = await bigTree('abort');
  const spec = await filterModule('abort');
  const filter = await loadFilter(spec);
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(walkTreeShared(root, filter, { filterModule: spec, signal: controller.signal }, 1), {
    name: 'AbortError',
  });
});

test('a helper that dies holding a directory ends the shared walk; it never hangs', async () => {
  const root = await bigTree('dies');
  const good = await loadFilter(await filterModule('dies-good'));
  // A worker thread's process.exit ends that thread alone, as running out of memory would: no reply,
  // and the directory it took is never finished.
  const dies = await filterModule('dies', 'export const filter = { want: () => process.exit(3) };\n');
  const shared = await walkTreeShared(root, good, { filterModule: dies }, 1, { awaitHelpers: true });
  assert.equal(shared, undefined);
});

test('a helper that dies holding the stack’s lock ends the shared walk after the stall limit; it never hangs', async () => {
  const root = await bigTree('dies-locked');
  const spec = await filterModule('dies-locked');
  const filter = await loadFilter(spec);
  // A helper that joins, takes the lock the way a live one would, and dies before letting go: the
  // main thread, blocked on that lock, cannot see its exit event.
  const helper = join(work, 'dies-locked-helper.mjs');
  const queueModule = new URL('./dir-queue.ts', import.meta.url).href;
  await writeFile(
    helper,
    `import { parentPort } from 'node:worker_threads';
     import { DirQueue } from ${JSON.stringify(queueModule)};
     parentPort.once('message', (request) => {
       DirQueue.attach(request.queue).join(request.index);
       Atomics.store(new Int32Array(request.queue, 0, 1), 0, 1);
       process.exit(3);
     });\n`,
  );
  const spawn = () => new Worker(helper);
  const started = Date.now();
  const shared = await walkTreeShared(root, filter, { filterModule: spec }, 1, {
    spawn,
    awaitHelpers: true,
    lockStallMs: 200,
  });
  assert.equal(shared, undefined);
  assert.ok(Date.now() - started < 10_000);
});

test('a helper that cannot start leaves the walk to the others, and none is left running', async () => {
  const root = await bigTree('no-thread');
  const spec = await filterModule('no-thread');
  const filter = await loadFilter(spec);
  const started: Worker[] = [];
  let exits = 0;
  const spawn = () => {
    if (started.length === 1) throw Object.assign(new Error('EAGAIN'), { code: 'EAGAIN' });
    const worker = spawnHelper();
    worker.once('exit', () => exits++);
    started.push(worker);
    return worker;
  };
  const shared = await walkTreeShared(root, filter, { filterModule: spec }, 3, { spawn });
  assert.ok(shared);
  assert.equal(view(shared), view(await listedWalk(root, filter, { filterModule: spec })));
  assert.equal(started.length, 1);
  for (let i = 0; i < 400 && exits === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(exits, 1, 'the helper that started was ended');
});
