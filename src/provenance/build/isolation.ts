/**
 * Exact attribution of writes to shared places. On Linux, when a private mount namespace can be
 * made (waybill runs as root, or unprivileged user namespaces work), every recipe command runs in a
 * new mount namespace where the shared places — /tmp, /var/tmp, /dev/shm, the temp directory the
 * build root lives in and the invoking user's real home — are bind-mounted from fresh empty
 * directories inside the build root (`ROOT/outside/N-NAME`). After the recipe, anything in those
 * directories was written by the recipe and nobody else: it is reported by the path the recipe saw
 * it at (`/tmp/x`), and nothing reaches the real /tmp. Other processes' files in the real places
 * are neither visible to the recipe nor mistaken for its writes.
 *
 * Some paths under an isolated place must stay where the recipe expects them: the build root (HOME,
 * TMPDIR and the working directory point into it) and the other watched places (checkout, output
 * and kit directories) are bound back at the same path, read-write, and stay under the snapshot
 * watch; the directories of the recipe's PATH are bound back read-only (a tool installed in your
 * home directory keeps working). The binds are made on placeholder directories inside the fresh
 * directory first and the fresh directory is then bound recursively over the place, so that every
 * source path is resolved before anything is covered (docs/build.md, "Security model").
 *
 * Nothing here names a program from the repository or kit: `unshare` and `mount` are found in a
 * fixed PATH, and every path reaches the shell wrapper as a positional argument.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, chmod, lstat, mkdir, mkdtemp, readdir, realpath, rm, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';

/** How writes outside the build directory were checked. */
export type OutsideWriteCheck = 'isolated' | 'snapshot';

/** How the check is named in logs and reports. */
export function describeOutsideWriteCheck(check: OutsideWriteCheck): string {
  return check === 'isolated'
    ? 'isolation (each command had a private /tmp, /var/tmp, /dev/shm and home)'
    : 'a snapshot of shared places (no private mount namespace available)';
}

/** The shared places isolated when they exist (besides the build root's temp dir and the real home). */
export const SYSTEM_SHARED_PLACES = ['/tmp', '/var/tmp', '/dev/shm'] as const;

/** Where `unshare` and `mount` are looked for: never the recipe's or the caller's PATH. */
const FIXED_PATH = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'];

/**
 * The wrapper `unshare` runs: `$1` is mount(8), `$2` the working directory, then triples
 * `OP SOURCE TARGET` up to `--`, then the program to exec in this same process (so the recipe keeps
 * the process group the timeout kills). The working directory is entered again after the mounts: the
 * one inherited still points into the old view, where `../..` would reach the real temp directory.
 */
const MOUNT_SCRIPT = [
  'm=$1; d=$2; shift 2',
  'while [ "$1" != -- ]; do',
  '  if [ "$1" = ro ]; then "$m" --bind "$2" "$3" && "$m" -o remount,bind,ro "$3" || exit 125',
  '  else "$m" "--$1" "$2" "$3" || exit 125; fi',
  '  shift 3',
  'done',
  'shift',
  'cd "$d" || exit 125',
  'exec "$@"',
].join('\n');

export interface NamespaceRuntime {
  /** Put in front of the command to run in `cwd`: it sets up the mounts, then execs the rest. */
  prefix(ops: readonly MountOp[], cwd: string): string[];
}

export type MountOp = readonly ['bind' | 'rbind' | 'ro', string, string];

async function findFixed(name: string): Promise<string | undefined> {
  for (const dir of FIXED_PATH) {
    const path = join(dir, name);
    try {
      await access(path, constants.X_OK);
      return path;
    } catch {}
  }
  return undefined;
}

function runQuietly(argv: readonly string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const [program, ...args] = argv;
    const child = spawn(program as string, args, { stdio: 'ignore', env: {} });
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
}

function runtimeFor(unshare: string, mount: string, uid: number, gid: number): NamespaceRuntime {
  // As root the mount namespace alone suffices. Otherwise a user namespace mapping us to root gives
  // the right to mount; a nested one maps back to our own ids before the recipe starts, so files it
  // creates and `id` look as they do without isolation (tar records the same owners).
  const outer =
    uid === 0
      ? ['--mount', '--propagation', 'private']
      : ['--user', '--map-root-user', '--mount', '--propagation', 'private'];
  const back = uid === 0 ? [] : [unshare, '--user', `--map-user=${uid}`, `--map-group=${gid}`, '--'];
  return {
    prefix: (ops, cwd) => [
      unshare,
      ...outer,
      '--',
      '/bin/sh',
      '-c',
      MOUNT_SCRIPT,
      'waybill-isolate',
      mount,
      cwd,
      ...ops.flat(),
      '--',
      ...back,
    ],
  };
}

let probed: Promise<NamespaceRuntime | undefined> | undefined;

/**
 * The namespace runtime when this machine can give a command a private mount namespace, probed once
 * (by binding a scratch directory onto itself the way a recipe's mounts are made).
 */
export function namespaceRuntime(scratchBase: string): Promise<NamespaceRuntime | undefined> {
  probed ??= (async () => {
    if (process.platform !== 'linux' || !process.getuid || !process.getgid) return undefined;
    const [unshare, mount] = await Promise.all([findFixed('unshare'), findFixed('mount')]);
    if (!unshare || !mount) return undefined;
    const runtime = runtimeFor(unshare, mount, process.getuid(), process.getgid());
    const dir = await mkdtemp(join(scratchBase, 'waybill-probe-'));
    try {
      const ok = await runQuietly([...runtime.prefix([['bind', dir, dir]], dir), '/bin/sh', '-c', 'exit 0']);
      return ok ? runtime : undefined;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return probed;
}

/** `a` is `b` or inside it. */
function within(a: string, b: string): boolean {
  return a === b || b === sep || a.startsWith(b + sep);
}

async function realDir(path: string): Promise<string | undefined> {
  try {
    const real = await realpath(path);
    return (await stat(real)).isDirectory() ? real : undefined;
  } catch {
    return undefined;
  }
}

async function realDirs(paths: readonly string[]): Promise<string[]> {
  const found = await Promise.all(paths.map(realDir));
  return [...new Set(found.filter((p): p is string => p !== undefined))].sort();
}

/** Drops every path that lies inside another one of the list. */
function outermost(paths: readonly string[]): string[] {
  return paths.filter((p) => !paths.some((q) => q !== p && within(p, q)));
}

interface IsolatedPlace {
  /** The place as the recipe sees it. */
  seen: string;
  /** The fresh directory bound over it. */
  fresh: string;
  freshIno: bigint;
  /** Relative paths (and their parents) that are placeholders, not writes. */
  chain: Set<string>;
}

export interface IsolationPlan {
  ops: MountOp[];
  places: IsolatedPlace[];
  /** Shared places a watched place contains (they cannot be hidden): watched as today, by snapshot. */
  notIsolated: string[];
}

export interface IsolationInput {
  /** The private build root (holds the fresh directories). */
  root: string;
  /** Shared places to isolate (missing ones, `/` and places inside the root are skipped). */
  shared: readonly string[];
  /** Places that stay visible and writable at their path (the root itself is always one). */
  visible: readonly string[];
  /** Places that stay visible read-only (the recipe's PATH). */
  readOnly: readonly string[];
}

export async function planIsolation(input: IsolationInput): Promise<IsolationPlan> {
  const root = await realpath(input.root);
  const visible = outermost(await realDirs([root, ...input.visible]));
  const candidates = (await realDirs(input.shared)).filter((p) => p !== sep && !within(p, root));
  const notIsolated = candidates.filter((p) => visible.some((v) => within(p, v)));
  const isolated = candidates.filter((p) => !notIsolated.includes(p));
  const top = outermost(isolated);
  const readOnly = outermost(
    (await realDirs(input.readOnly)).filter(
      (r) => !visible.some((v) => within(r, v) || within(v, r)) && !isolated.some((p) => within(p, r)),
    ),
  );
  const binds: MountOp[] = [];
  const covers: MountOp[] = [];
  const coverLast: MountOp[] = [];
  const places: IsolatedPlace[] = [];
  for (const [i, seen] of top.entries()) {
    const fresh = join(root, 'outside', `${i}-${basename(seen)}`);
    await mkdir(fresh, { recursive: true, mode: 0o755 });
    // The same permissions as the place it stands for (/tmp is world-writable and sticky).
    await chmod(fresh, (await stat(seen)).mode & 0o7777);
    const chain = new Set<string>();
    const placeholder = async (path: string): Promise<string> => {
      const rel = relative(seen, path);
      const parts = rel.split(sep);
      for (let n = 1; n <= parts.length; n++) chain.add(parts.slice(0, n).join(sep));
      await mkdir(join(fresh, rel), { recursive: true, mode: 0o755 });
      return join(fresh, rel);
    };
    for (const nested of isolated) if (nested !== seen && within(nested, seen)) await placeholder(nested);
    for (const v of visible) if (within(v, seen)) binds.push(['bind', v, await placeholder(v)]);
    for (const r of readOnly) if (within(r, seen)) binds.push(['ro', r, await placeholder(r)]);
    // The place holding the build root is covered last: the other fresh directories are reached
    // through the root's real path.
    if (within(root, seen)) coverLast.push(['rbind', fresh, seen]);
    else covers.push(['rbind', fresh, seen]);
    places.push({ seen, fresh, freshIno: (await lstat(fresh, { bigint: true })).ino, chain });
  }
  return { ops: [...binds, ...covers, ...coverLast], places, notIsolated };
}

/** More entries than this in one fresh directory are not listed past the limit. */
const MAX_REPORTED = 10_000;

/** What the recipe left in the isolated places, by the paths it saw them at; sorted. */
export async function isolatedWrites(plan: IsolationPlan): Promise<string[]> {
  const found: string[] = [];
  const walk = async (place: IsolatedPlace, rel: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(join(place.fresh, rel));
    } catch {
      found.push(join(place.seen, rel));
      return;
    }
    for (const name of names.sort()) {
      if (found.length >= MAX_REPORTED) return;
      const r = rel ? join(rel, name) : name;
      const info = await lstat(join(place.fresh, r)).catch(() => undefined);
      if (place.chain.has(r) && info?.isDirectory()) await walk(place, r);
      else found.push(join(place.seen, r));
    }
  };
  for (const place of plan.places) {
    // A fresh directory moved or replaced (through the build root) hides what was written: the
    // place itself is then reported.
    const info = await lstat(place.fresh, { bigint: true }).catch(() => undefined);
    if (!info?.isDirectory() || info.ino !== place.freshIno) found.push(place.seen);
    else await walk(place, '');
  }
  return [...new Set(found)].sort();
}
