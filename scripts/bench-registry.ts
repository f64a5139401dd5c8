/**
 * The registry part of `npm run bench` (issue 10): pushing and pulling a 500 MiB image to and from
 * Debian's docker-registry on loopback, `waybill copy` side by side with `skopeo copy` doing the same
 * work. Runs alone with `npm run bench -- --only=registry` (or `node scripts/bench-registry.ts`).
 *
 *   (k) push: `waybill copy oci:DIR:latest docker://…` vs `skopeo copy` of the same layout, each run
 *       into a registry started fresh for it (empty storage: nothing to skip or mount), best of 3;
 *   (l) pull: `waybill copy docker://… oci:OUT:1` (empty blob cache) vs `skopeo copy` into an empty
 *       layout, from one registry holding the image, best of 3.
 *
 * The image: 5 layers of 100 MiB (one incompressible file each, uncompressed tar, so neither tool
 * spends the time compressing), built once into test/fixtures/cache/registry-bench-oci. The two tools
 * take turns going first, each run after a `sync` (so neither pays for the other's writeback), and a
 * small untimed copy warms waybill's compile cache first, as a user's is. Goal: waybill / skopeo <=
 * 1.2 both ways.
 */
import { createCipheriv } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOciLayout } from '../src/sources/testing.ts';
import { startRegistry, type TestRegistry } from '../test/helpers/registry.ts';
import type { BenchRow } from './bench-audit.ts';
import { measure } from './bench-measure.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WAYBILL = join(ROOT, 'bin/waybill.js');
const CACHE = join(ROOT, 'test/fixtures/cache');
/** Bump when the image changes, so a stale one is rebuilt. */
const IMAGE_VERSION = 1;
const LAYERS = 5;
const LAYER_MiB = 100;
const MiB = 1024 * 1024;
export const REGISTRY_GOALS = { pushRatio: 1.2, pullRatio: 1.2 };

/** Incompressible but reproducible bytes: an AES-CTR keystream. */
function keystream(seed: number, size: number): Buffer {
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(seed, 12);
  return createCipheriv('aes-128-ctr', Buffer.alloc(16, 9), iv).update(Buffer.alloc(size));
}

/** The 500 MiB layout, built once. */
async function benchImage(log: (line: string) => void): Promise<string> {
  const dir = join(CACHE, `registry-bench-oci-v${IMAGE_VERSION}`);
  if (existsSync(join(dir, 'index.json'))) return dir;
  log(`registry: building a ${LAYERS * LAYER_MiB} MiB image in ${dir} (once)…`);
  const temp = `${dir}.building-${process.pid}`;
  await rm(temp, { recursive: true, force: true });
  const layers = Array.from({ length: LAYERS }, (_, i) => ({
    [`data/layer-${i}.bin`]: keystream(i + 1, LAYER_MiB * MiB),
  }));
  await buildOciLayout(temp, layers, { tag: 'latest', compression: 'none' });
  const { rename } = await import('node:fs/promises');
  await rename(temp, dir);
  return dir;
}

interface Timing {
  /** Wall time, seconds. */
  wall: number;
  /** User + system CPU time, seconds (with GNU time; else NaN). */
  cpu: number;
}

/** Wall and CPU time of one command (bench-measure.ts); throws with its stderr when it fails. */
async function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Timing> {
  const m = await measure(cmd, args, { env: { ...process.env, ...env } });
  if (m.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${m.code}: ${m.stderr}`);
  return { wall: m.seconds, cpu: m.cpuSeconds ?? Number.NaN };
}

/** Keeps the run with the least wall time. */
function best(a: Timing, b: Timing): Timing {
  return b.wall < a.wall ? b : a;
}

const NONE: Timing = { wall: Number.POSITIVE_INFINITY, cpu: Number.NaN };

async function fresh<T>(work: (registry: TestRegistry) => Promise<T>): Promise<T> {
  const registry = await startRegistry();
  if ('skip' in registry) throw new Error(registry.skip);
  try {
    return await work(registry);
  } finally {
    await registry.stop();
  }
}

export async function benchRegistry(
  log: (line: string) => void,
): Promise<{ rows: BenchRow[]; results: Record<string, unknown> }> {
  const layout = await benchImage(log);
  const source = `oci:${layout}:latest`;
  const scratch = await mkdtemp(join(tmpdir(), 'waybill-bench-registry-'));
  const runs = 3;
  const push = { waybill: NONE, skopeo: NONE };
  const pull = { waybill: NONE, skopeo: NONE };
  // No user's cache or credentials: an empty blob cache per run, no Docker config. The compile
  // cache (bin/waybill.js) is kept across runs, as a user's is: a cold one costs a second of
  // compiling and writing that has nothing to do with the registry.
  const env = (i: number) => ({
    XDG_CACHE_HOME: join(scratch, `cache-${i}`),
    NODE_COMPILE_CACHE: join(scratch, 'compile-cache'),
    DOCKER_CONFIG: join(scratch, 'docker-config'),
    REGISTRY_AUTH_FILE: '',
  });
  try {
    // Warm-up (not timed): a small image pushed and pulled, which fills the compile cache.
    const tiny = join(scratch, 'tiny');
    await buildOciLayout(tiny, [{ 'etc/hello': 'hello\n' }], { tag: 'latest' });
    await fresh(async (r) => {
      const image = `docker://${r.host}/warm/up:1`;
      await timed(
        process.execPath,
        [WAYBILL, 'copy', `oci:${tiny}:latest`, image, '--insecure', '--quiet'],
        env(-1),
      );
      await timed(
        process.execPath,
        [WAYBILL, 'copy', image, `oci:${join(scratch, 'tiny-back')}:1`, '--insecure', '--quiet'],
        env(-2),
      );
    });
    // Each run starts with the disk settled (`sync`: the previous run's dirty pages written), and
    // the two tools take turns going first, so neither pays for the other's writeback.
    const settle = () => timed('sync', []);
    const pushWith = {
      skopeo: () =>
        fresh(async (r) => {
          await settle();
          return timed('skopeo', [
            'copy',
            '-q',
            '--dest-tls-verify=false',
            source,
            `docker://${r.host}/bench/image:1`,
          ]);
        }),
      waybill: (i: number) =>
        fresh(async (r) => {
          await settle();
          return timed(
            process.execPath,
            [WAYBILL, 'copy', source, `docker://${r.host}/bench/image:1`, '--insecure', '--quiet'],
            env(i),
          );
        }),
    };
    for (let i = 0; i < runs; i++) {
      log(`registry: push run ${i + 1}/${runs}…`);
      for (const tool of i % 2 === 0 ? (['skopeo', 'waybill'] as const) : (['waybill', 'skopeo'] as const)) {
        if (tool === 'skopeo') push.skopeo = best(push.skopeo, await pushWith.skopeo());
        else push.waybill = best(push.waybill, await pushWith.waybill(i));
      }
    }
    await fresh(async (r) => {
      const image = `docker://${r.host}/bench/image:1`;
      await timed('skopeo', ['copy', '-q', '--dest-tls-verify=false', source, image]);
      for (let i = 0; i < runs; i++) {
        log(`registry: pull run ${i + 1}/${runs}…`);
        for (const tool of i % 2 === 0
          ? (['skopeo', 'waybill'] as const)
          : (['waybill', 'skopeo'] as const)) {
          const out = join(scratch, `pull-${tool}-${i}`);
          await settle();
          if (tool === 'skopeo')
            pull.skopeo = best(
              pull.skopeo,
              await timed('skopeo', ['copy', '-q', '--src-tls-verify=false', image, `oci:${out}:1`]),
            );
          else
            pull.waybill = best(
              pull.waybill,
              await timed(
                process.execPath,
                [WAYBILL, 'copy', image, `oci:${out}:1`, '--insecure', '--quiet'],
                env(100 + i),
              ),
            );
          await rm(out, { recursive: true, force: true });
        }
        await rm(join(scratch, `cache-${100 + i}`), { recursive: true, force: true });
      }
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const pushRatio = push.waybill.wall / push.skopeo.wall;
  const pullRatio = pull.waybill.wall / pull.skopeo.wall;
  const size = `${LAYERS * LAYER_MiB} MiB`;
  const shown = (t: Timing) =>
    `${t.wall.toFixed(2)}${Number.isNaN(t.cpu) ? '' : ` (${t.cpu.toFixed(2)} CPU)`}`;
  const ratioRow = (what: string, ratio: number, goal: number): BenchRow => ({
    what: `registry: ${what} waybill / skopeo`,
    value: ratio.toFixed(2),
    goal: `<= ${goal}`,
    ok: ratio <= goal,
  });
  const rows: BenchRow[] = [
    { what: `registry: push ${size}, waybill copy s`, value: shown(push.waybill), goal: '' },
    { what: `registry: push ${size}, skopeo copy s`, value: shown(push.skopeo), goal: '' },
    ratioRow('push', pushRatio, REGISTRY_GOALS.pushRatio),
    { what: `registry: pull ${size}, waybill copy s`, value: shown(pull.waybill), goal: '' },
    { what: `registry: pull ${size}, skopeo copy s`, value: shown(pull.skopeo), goal: '' },
    ratioRow('pull', pullRatio, REGISTRY_GOALS.pullRatio),
  ];
  return {
    rows,
    results: {
      registry: {
        imageMiB: LAYERS * LAYER_MiB,
        layers: LAYERS,
        pushSeconds: push,
        pullSeconds: pull,
        pushRatio,
        pullRatio,
      },
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { rows } = await benchRegistry((line) => process.stderr.write(`${line}\n`));
  const w = Math.max(...rows.map((r) => r.what.length));
  for (const r of rows)
    process.stdout.write(
      `${r.what.padEnd(w)}  ${r.value.padStart(8)}  ${r.goal}${r.ok === undefined ? '' : r.ok ? '  ok' : '  MISSED'}\n`,
    );
}
