/**
 * The scale matrix of `npm run bench` (issue 9 item 8): for each image size (small, medium, large;
 * scripts/build-bench-images.ts) and each form (OCI layout gzip, OCI layout zstd, docker-archive,
 * `dir:`), three tools on the same input, each a median of N runs in a child process:
 *
 *   waybill  `waybill sbom REF --quiet`, stdout discarded: wall, CPU and peak RSS
 *   floor    scripts/bench-floor.ts: Node's own decompression + SHA-256 of the same blobs (or, for a
 *            directory, reading and hashing every file) on two worker threads
 *   trivy    Trivy's SBOM of the same input (scripts/bench-trivy.ts), net of its start-up: the median
 *            of `trivy --version`, timed in the same run, is subtracted
 *
 * Goals: peak RSS <= 250 MiB on every input and never above Trivy's; time <= 1.2 × the floor and below
 * Trivy's net time (<= 0.5 × under 1 GB).
 *
 * Every cell is written to bench.json as soon as it is measured, with the commit it measured; with
 * `resume`, cells already measured at this commit are kept, so an interrupted run picks up where it
 * stopped.
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { type Measured, measure, median } from './bench-measure.ts';
import { ensureTrivy, runTrivy, type Trivy, trivyStartup } from './bench-trivy.ts';
import { type BenchImage, type BenchSize, buildBenchImage } from './build-bench-images.ts';

export const SCALE_GOALS = { rssMiB: 250, timeVsFloor: 1.2, timeVsTrivy: 1, timeVsTrivyUnder1GB: 0.5 };
export const FORMS = ['oci-gzip', 'oci-zstd', 'docker-archive', 'dir'] as const;
export type Form = (typeof FORMS)[number];
export const TOOLS = ['waybill', 'floor', 'trivy'] as const;
export type Tool = (typeof TOOLS)[number];

export interface Cell {
  seconds: number;
  cpuSeconds?: number;
  rssMiB?: number;
  runs: Array<{ seconds: number; cpuSeconds?: number; rssMiB?: number }>;
  commit: string;
  at: string;
  loadAverage: number;
  /** trivy only: its start-up (median `trivy --version`) and the gross time it was subtracted from. */
  startupSeconds?: number;
  startupCpuSeconds?: number;
  grossSeconds?: number;
}

/** What the floor read: bytes read, bytes decompressed, blobs or files (scripts/bench-floor.ts). */
export interface InputFacts {
  read?: number;
  inflated?: number;
  items?: number;
}

export interface ScaleResults {
  /** `size/form` → tool → cell. */
  cells: Record<string, Partial<Record<Tool, Cell>>>;
  inputs: Record<string, InputFacts>;
  trivyStartup?: Cell;
}

export interface ScaleOptions {
  sizes: BenchSize[];
  forms: Form[];
  tools: Tool[];
  runs: number;
  resume: boolean;
  commit: string;
  root: string;
  cacheDir: string;
  /** Loads and saves the whole results file (the scale part is one key of it). */
  load(): Promise<ScaleResults>;
  /** Saves the cells measured so far by this run (`size/form` → tools; `trivyStartup`). */
  save(results: ScaleResults, measured: ReadonlyMap<string, ReadonlySet<string>>): Promise<void>;
  log(line: string): void;
}

function refOf(image: BenchImage, form: Form): string {
  switch (form) {
    case 'oci-gzip':
      return `oci:${image.ociGzip}:latest`;
    case 'oci-zstd':
      return `oci:${image.ociZstd}:latest`;
    case 'docker-archive':
      return `docker-archive:${image.dockerArchive}`;
    case 'dir':
      return `dir:${image.rootfs}`;
  }
}

function floorArgs(image: BenchImage, form: Form): [string, string] {
  switch (form) {
    case 'oci-gzip':
      return ['oci', image.ociGzip];
    case 'oci-zstd':
      return ['oci', image.ociZstd];
    case 'docker-archive':
      return ['docker-archive', image.dockerArchive];
    case 'dir':
      return ['dir', image.rootfs];
  }
}

function trivyInput(image: BenchImage, form: Form) {
  switch (form) {
    case 'oci-gzip':
      return { kind: 'image' as const, path: image.ociGzip };
    case 'oci-zstd':
      return { kind: 'image' as const, path: image.ociZstd };
    case 'docker-archive':
      return { kind: 'image' as const, path: image.dockerArchive };
    case 'dir':
      return { kind: 'rootfs' as const, path: image.rootfs };
  }
}

async function repeat(runs: number, once: () => Promise<Measured>, commit: string): Promise<Cell> {
  const measured: Measured[] = [];
  // One untimed run first: the inputs (14 GB in all) do not all stay in the page cache, and a first
  // run that reads from disk measured up to twice its median; every tool now reads from memory.
  await once();
  for (let i = 0; i < runs; i++) measured.push(await once());
  const pick = (f: (m: Measured) => number | undefined) => {
    const values = measured.map(f).filter((v): v is number => v !== undefined);
    return values.length === measured.length ? median(values) : undefined;
  };
  const cpu = pick((m) => m.cpuSeconds);
  const rss = pick((m) => m.rssMiB);
  return {
    seconds: pick((m) => m.seconds) as number,
    ...(cpu !== undefined ? { cpuSeconds: cpu } : {}),
    ...(rss !== undefined ? { rssMiB: rss } : {}),
    runs: measured.map((m) => ({
      seconds: m.seconds,
      ...(m.cpuSeconds !== undefined ? { cpuSeconds: m.cpuSeconds } : {}),
      ...(m.rssMiB !== undefined ? { rssMiB: m.rssMiB } : {}),
    })),
    commit,
    at: new Date().toISOString(),
    loadAverage: loadavg()[0] ?? 0,
  };
}

/** Trivy's cell net of its start-up: the wall and CPU medians of `trivy --version` subtracted. */
function netOfStartup(gross: Cell, startup: Cell): Cell {
  const cpu =
    gross.cpuSeconds !== undefined && startup.cpuSeconds !== undefined
      ? { cpuSeconds: gross.cpuSeconds - startup.cpuSeconds, startupCpuSeconds: startup.cpuSeconds }
      : {};
  return {
    ...gross,
    seconds: gross.seconds - startup.seconds,
    startupSeconds: startup.seconds,
    grossSeconds: gross.seconds,
    ...cpu,
  };
}

function checked(m: Measured, what: string): Measured {
  if (m.code !== 0)
    throw new Error(`${what} exited ${m.code}: ${m.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return m;
}

export async function benchScale(options: ScaleOptions): Promise<ScaleResults> {
  const results = await options.load();
  const measured = new Map<string, Set<string>>();
  const mark = (key: string, tool: string) => measured.set(key, (measured.get(key) ?? new Set()).add(tool));
  results.cells ??= {};
  results.inputs ??= {};
  const fresh = (cell: Cell | undefined) => options.resume && cell?.commit === options.commit;
  const waybill = join(options.root, 'bin/waybill.js');
  const floorScript = join(options.root, 'scripts/bench-floor.ts');

  let trivy: Trivy | undefined;
  if (options.tools.includes('trivy')) {
    const found = await ensureTrivy(options.cacheDir, options.log);
    if ('unavailable' in found) options.log(`trivy unavailable: ${found.unavailable}`);
    else trivy = found;
  }
  if (trivy && !fresh(results.trivyStartup)) {
    options.log('trivy --version (start-up)…');
    const t = trivy;
    results.trivyStartup = await repeat(
      options.runs,
      async () => checked(await trivyStartup(t), 'trivy --version'),
      options.commit,
    );
    mark('trivyStartup', 'trivy');
    await options.save(results, measured);
  }

  for (const size of options.sizes) {
    const image = await buildBenchImage(size, options.log);
    if ('skip' in image) {
      options.log(`${size}: no image (${image.skip}); skipped`);
      continue;
    }
    for (const form of options.forms) {
      const key = `${size}/${form}`;
      const cells = results.cells[key] ?? {};
      results.cells[key] = cells;
      for (const tool of options.tools) {
        if (fresh(cells[tool])) continue;
        options.log(`${key}: ${tool}…`);
        if (tool === 'waybill') {
          const ref = refOf(image, form);
          cells.waybill = await repeat(
            options.runs,
            async () =>
              checked(
                await measure(process.execPath, [waybill, 'sbom', ref, '--quiet']),
                `waybill sbom ${ref}`,
              ),
            options.commit,
          );
        } else if (tool === 'floor') {
          const args = floorArgs(image, form);
          let facts: InputFacts = {};
          cells.floor = await repeat(
            options.runs,
            async () => {
              const m = checked(
                await measure(process.execPath, [floorScript, ...args], { keepStdout: true }),
                `floor ${args.join(' ')}`,
              );
              facts = JSON.parse(m.stdout.trim().split('\n').pop() ?? '{}') as InputFacts;
              return m;
            },
            options.commit,
          );
          results.inputs[key] = facts;
        } else if (trivy && results.trivyStartup) {
          const t = trivy;
          const gross = await repeat(
            options.runs,
            () => runTrivy(t, trivyInput(image, form)),
            options.commit,
          );
          cells.trivy = netOfStartup(gross, results.trivyStartup);
        }
        mark(key, tool);
        await options.save(results, measured);
      }
    }
  }
  return results;
}

// ---- the table ------------------------------------------------------------------------------------

/** Uncompressed bytes of each size's image: what its gzip layout's floor decompressed. */
function imageBytes(results: ScaleResults): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, facts] of Object.entries(results.inputs)) {
    const [size, form] = key.split('/');
    if (size && form === 'oci-gzip' && facts.inflated) out[size] = facts.inflated;
  }
  return out;
}

/** What each image is: layers, compressed and uncompressed bytes, regular files. */
export function inputsTable(results: ScaleResults): string {
  const lines = [
    '| image | layers | gzip MB | zstd MB | uncompressed MB | regular files |',
    '|---|---|---|---|---|---|',
  ];
  const sizes = [...new Set(Object.keys(results.inputs).map((k) => k.split('/')[0] ?? ''))];
  const mb = (n?: number) => (n === undefined ? '—' : (n / 1e6).toFixed(0));
  for (const size of sizes) {
    const gz = results.inputs[`${size}/oci-gzip`];
    const zs = results.inputs[`${size}/oci-zstd`];
    const dir = results.inputs[`${size}/dir`];
    lines.push(
      `| ${size} | ${gz?.items ?? zs?.items ?? '—'} | ${mb(gz?.read)} | ${mb(zs?.read)} | ${mb(gz?.inflated ?? zs?.inflated)} | ${dir?.items?.toLocaleString('en-US') ?? '—'} |`,
    );
  }
  return lines.join('\n');
}

/**
 * One line per input: numbers and, for each goal, met or missed by how much. Time ratios are shown
 * on wall time and on CPU time (user + system). When the machine was busy while a cell ran (1-minute
 * load average above the core count: other work competed for the CPU), wall time measures the
 * waiting more than the work, so the verdict then uses the CPU ratio — marked "(CPU)".
 */
export function scaleTable(results: ScaleResults, cores: number): string {
  const sizeBytes = imageBytes(results);
  const lines = [
    '| input | waybill s / CPU s | waybill RSS MiB | floor s / CPU s | waybill ÷ floor, wall / CPU | Trivy net s / CPU s | Trivy RSS MiB | waybill ÷ Trivy, wall / CPU | goals |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const fmt = (c: Cell | undefined) =>
    c ? `${c.seconds.toFixed(2)} / ${c.cpuSeconds?.toFixed(2) ?? '?'}` : '—';
  const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined);
  const pair = (w?: number, c?: number) =>
    w === undefined && c === undefined ? '—' : `${w?.toFixed(2) ?? '—'} / ${c?.toFixed(2) ?? '—'}`;
  for (const [key, cells] of Object.entries(results.cells)) {
    const { waybill, floor, trivy } = cells;
    const size = key.split('/')[0] ?? '';
    const under1GB = sizeBytes[size] !== undefined && (sizeBytes[size] as number) < 1e9;
    const busy = [waybill, floor, trivy].some((c) => c !== undefined && c.loadAverage > cores);
    const misses: string[] = [];
    const floorWall = ratio(waybill?.seconds, floor?.seconds);
    const floorCpu = ratio(waybill?.cpuSeconds, floor?.cpuSeconds);
    // Trivy's net wall time can come out at or below zero on a busy machine (its start-up measured
    // slower than the run it is subtracted from): no ratio then.
    const trivyWall = trivy && trivy.seconds > 0 ? ratio(waybill?.seconds, trivy.seconds) : undefined;
    const trivyCpu = ratio(waybill?.cpuSeconds, trivy?.cpuSeconds);
    const judged = (wall?: number, cpu?: number) =>
      busy && cpu !== undefined
        ? { v: cpu, how: ' (CPU)' }
        : wall !== undefined
          ? { v: wall, how: '' }
          : undefined;
    if (waybill?.rssMiB !== undefined && waybill.rssMiB > SCALE_GOALS.rssMiB)
      misses.push(`RSS +${(waybill.rssMiB - SCALE_GOALS.rssMiB).toFixed(0)} MiB over 250`);
    if (waybill?.rssMiB !== undefined && trivy?.rssMiB !== undefined && waybill.rssMiB > trivy.rssMiB)
      misses.push(`RSS +${(waybill.rssMiB - trivy.rssMiB).toFixed(0)} MiB over Trivy`);
    const vsFloor = judged(floorWall, floorCpu);
    if (vsFloor && vsFloor.v > SCALE_GOALS.timeVsFloor)
      misses.push(`${vsFloor.v.toFixed(2)}× floor${vsFloor.how}`);
    const trivyGoal = under1GB ? SCALE_GOALS.timeVsTrivyUnder1GB : SCALE_GOALS.timeVsTrivy;
    const vsTrivy = judged(trivyWall, trivyCpu);
    if (vsTrivy && vsTrivy.v > trivyGoal)
      misses.push(`${vsTrivy.v.toFixed(2)}× Trivy${vsTrivy.how}, goal ${trivyGoal}`);
    const complete = waybill && floor && trivy;
    lines.push(
      `| ${key} | ${fmt(waybill)} | ${waybill?.rssMiB?.toFixed(0) ?? '—'} | ${fmt(floor)} | ${pair(floorWall, floorCpu)} | ${fmt(trivy)} | ${trivy?.rssMiB?.toFixed(0) ?? '—'} | ${pair(trivyWall, trivyCpu)} | ${misses.length > 0 ? misses.join('; ') : complete ? `met${busy ? ' (CPU)' : ''}` : 'incomplete'} |`,
    );
  }
  return lines.join('\n');
}
