/**
 * The private build root shared by `build` and `rebuild`, and running a recipe in it under watch:
 *
 *   <tmp>/waybill-build-XXXXXX/      mode 0700, made fresh for every run
 *     source.tar                     the source archive (outside the tree the recipe sees)
 *     src/                           the unpacked tree: the recipe's working directory
 *     home/                          HOME
 *     tmp/                           TMPDIR
 *
 *     outside/N-NAME/                with isolation: the fresh directories seen as /tmp, /var/tmp, …
 *
 * Anything the recipe changes in the root besides src/, home/ and tmp/, in the temp directory around
 * the root, in the real home directory, in /tmp, /var/tmp, /dev/shm or in the extra places the caller
 * names, is an outside write. The shared places (temp directories, real home) are checked exactly
 * when a private mount namespace is available (isolation.ts); otherwise, by snapshot, new entries
 * only, which can mistake another process's new file for the recipe's.
 */
import { mkdir, mkdtemp } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import {
  describeOutsideWriteCheck,
  isolatedWrites,
  namespaceRuntime,
  type OutsideWriteCheck,
  planIsolation,
  SYSTEM_SHARED_PLACES,
} from './isolation.ts';
import { KIT_SOURCE } from './kit.ts';
import { type WatchedPlace, watchOutsideWrites } from './outside-writes.ts';
import { type RecipeResult, runRecipe } from './run-recipe.ts';

export interface Scratch {
  root: string;
  src: string;
  home: string;
  tmp: string;
  archive: string;
}

export async function makeScratch(tmpDir: string): Promise<Scratch> {
  const root = await mkdtemp(join(resolve(tmpDir), 'waybill-build-'));
  const scratch = {
    root,
    src: join(root, 'src'),
    home: join(root, 'home'),
    tmp: join(root, 'tmp'),
    archive: join(root, KIT_SOURCE),
  };
  for (const dir of [scratch.src, scratch.home, scratch.tmp]) await mkdir(dir, { mode: 0o755 });
  return scratch;
}

export interface WatchedRunOptions {
  scratch: Scratch;
  commands: readonly string[];
  timeoutSeconds: number;
  env: Readonly<Record<string, string>>;
  /** The invoking user's real HOME (watched); undefined or `/` to skip. */
  realHome: string | undefined;
  /** More directories whose entries the recipe must not touch (the checkout, the output folder). */
  places?: readonly WatchedPlace[];
  onCommand?: (index: number, command: string) => void;
  /** Extra outside-write detection run after the recipe (the checkout compared with the commit). */
  afterRun?: () => Promise<string[]>;
  /** Skip isolation and check shared places by snapshot (tests of the fallback; see SNAPSHOT_ONLY_ENV). */
  snapshotOnly?: boolean;
}

/**
 * For tests only: set to `1` in waybill's environment, `build` and `rebuild` skip the private mount
 * namespace and use the snapshot fallback, as on a machine without namespaces.
 */
export const SNAPSHOT_ONLY_ENV = 'WAYBILL_TEST_SNAPSHOT_ONLY';

/** One line at the top of the build log: how outside writes were checked. */
function methodLine(check: OutsideWriteCheck): string {
  return `[waybill: outside writes checked by ${describeOutsideWriteCheck(check)}]\n`;
}

export interface WatchedRun {
  run: RecipeResult;
  outsideWrites: string[];
  /** How writes to the shared places were checked. */
  outsideWriteCheck: OutsideWriteCheck;
  startedOn: Date;
  finishedOn: Date;
}

export async function runWatched(options: WatchedRunOptions): Promise<WatchedRun> {
  const { scratch } = options;
  const home = options.realHome && options.realHome !== '/' ? resolve(options.realHome) : undefined;
  const tempDir = dirname(scratch.root);
  const runtime = options.snapshotOnly ? undefined : await namespaceRuntime(tempDir);
  const plan = runtime
    ? await planIsolation({
        root: scratch.root,
        shared: [...SYSTEM_SHARED_PLACES, tempDir, ...(home ? [home] : [])],
        visible: (options.places ?? []).filter((p) => !p.shared).map((p) => p.dir),
        readOnly: (options.env.PATH ?? '').split(':').filter((d) => isAbsolute(d)),
      })
    : undefined;
  // Without isolation the temp directory and the real home are shared places: new entries only.
  const shared: WatchedPlace[] = plan
    ? plan.notIsolated.map((dir) => ({ dir, shared: true, allowed: [basename(scratch.root)] }))
    : [
        { dir: tempDir, allowed: [basename(scratch.root)], shared: true },
        ...(home ? [{ dir: home, shared: true }] : []),
      ];
  const watch = await watchOutsideWrites([
    { dir: scratch.root, allowed: ['src', 'home', 'tmp'] },
    ...shared,
    ...(options.places ?? []),
  ]);
  const startedOn = new Date();
  const run = await runRecipe({
    commands: options.commands,
    cwd: scratch.src,
    env: options.env,
    timeoutMs: options.timeoutSeconds * 1000,
    onCommand: options.onCommand,
    ...(runtime && plan ? { launch: runtime.prefix(plan.ops, scratch.src) } : {}),
  });
  const finishedOn = new Date();
  const outside = [
    ...(await watch.changes()),
    ...(plan ? await isolatedWrites(plan) : []),
    ...((await options.afterRun?.()) ?? []),
  ];
  const outsideWriteCheck: OutsideWriteCheck = plan ? 'isolated' : 'snapshot';
  return {
    run: { ...run, log: Buffer.concat([Buffer.from(methodLine(outsideWriteCheck)), run.log]) },
    outsideWrites: [...new Set(outside)].sort(),
    outsideWriteCheck,
    startedOn,
    finishedOn,
  };
}
