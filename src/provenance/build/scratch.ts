/**
 * The private build root shared by `build` and `rebuild`, and running a recipe in it under watch:
 *
 *   <tmp>/waybill-build-XXXXXX/      mode 0700, made fresh for every run
 *     source.tar                     the source archive (outside the tree the recipe sees)
 *     src/                           the unpacked tree: the recipe's working directory
 *     home/                          HOME
 *     tmp/                           TMPDIR
 *
 * Anything the recipe changes in the root besides src/, home/ and tmp/, in the temp directory around
 * the root, in the real home directory or in the extra places the caller names, is an outside write.
 */
import { mkdir, mkdtemp } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
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
}

export interface WatchedRun {
  run: RecipeResult;
  outsideWrites: string[];
  startedOn: Date;
  finishedOn: Date;
}

export async function runWatched(options: WatchedRunOptions): Promise<WatchedRun> {
  const { scratch } = options;
  const home = options.realHome && options.realHome !== '/' ? resolve(options.realHome) : undefined;
  const watch = await watchOutsideWrites([
    { dir: scratch.root, allowed: ['src', 'home', 'tmp'] },
    { dir: dirname(scratch.root), allowed: [basename(scratch.root)], shared: true },
    ...(home ? [{ dir: home, shared: true }] : []),
    ...(options.places ?? []),
  ]);
  const startedOn = new Date();
  const run = await runRecipe({
    commands: options.commands,
    cwd: scratch.src,
    env: options.env,
    timeoutMs: options.timeoutSeconds * 1000,
    onCommand: options.onCommand,
  });
  const finishedOn = new Date();
  const outside = [...(await watch.changes()), ...((await options.afterRun?.()) ?? [])];
  return { run, outsideWrites: [...new Set(outside)].sort(), startedOn, finishedOn };
}
