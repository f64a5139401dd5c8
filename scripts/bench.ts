/**
 * `npm run bench`: how fast and how lean waybill is, measured against a floor and against Trivy on
 * real images, plus the dpkg-memory and audit benchmarks. Sections:
 *
 *   scale  scripts/bench-scale.ts: small / medium (~850 MB) / large (>= 3 GB, >= 10 layers,
 *          >= 100 000 files) images as OCI layout gzip, OCI layout zstd, docker-archive and `dir:`;
 *          waybill, the two-thread Node decompression-and-hash floor, and Trivy net of its start-up
 *   integrity  scripts/bench-integrity.ts: `waybill check` of a stamped layout against sha256sum
 *   dpkg   scripts/bench-dpkg.ts: the dpkg cataloger on a 30 MiB status file
 *   audit  scripts/bench-audit.ts: advisory import and a 10 000-component audit
 *   registry  scripts/bench-registry.ts: pushing and pulling a 500 MiB image to and from
 *          docker-registry on loopback, `waybill copy` against `skopeo copy` doing the same
 *
 * Options (flags or environment):
 *   --only=scale,integrity,dpkg,audit,registry  BENCH_ONLY    sections to run (default: all)
 *   --sizes=small,medium,large       BENCH_SIZES     scale: image sizes (default: all)
 *   --forms=oci-gzip,oci-zstd,docker-archive,dir   BENCH_FORMS
 *   --tools=waybill,floor,trivy      BENCH_TOOLS     scale: what to run on each input
 *   --runs=N                         BENCH_RUNS      runs per cell, the median is kept (default 3)
 *   --resume                         BENCH_RESUME=1  keep cells already measured at this commit (HEAD)
 *   --report                                         measure nothing: rewrite the tables from bench.json
 *
 * Results accumulate in test/fixtures/cache/bench.json (each scale cell saved as soon as it is
 * measured, with its commit); the scale tables are written into docs/bench.md between the
 * `bench:scale` markers.
 */
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gitRunner } from '../src/provenance/git-exec.ts';
import { type BenchRow, benchAudit } from './bench-audit.ts';
import { benchDpkg } from './bench-dpkg.ts';
import { benchIntegrity } from './bench-integrity.ts';
import { benchRegistry } from './bench-registry.ts';
import {
  benchScale,
  FORMS,
  type Form,
  inputsTable,
  type ScaleResults,
  scaleTable,
  TOOLS,
  type Tool,
} from './bench-scale.ts';
import { BENCH_SIZES, type BenchSize } from './build-bench-images.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CACHE = join(ROOT, 'test/fixtures/cache');
const RESULTS = join(CACHE, 'bench.json');
const DOC = join(ROOT, 'docs/bench.md');
const SECTIONS = ['scale', 'integrity', 'dpkg', 'audit', 'registry'] as const;

const log = (line: string) => process.stderr.write(`${line}\n`);

function listOption<T extends string>(value: string | undefined, known: readonly T[], what: string): T[] {
  if (value === undefined || value === '') return [...known];
  const asked = value.split(',').map((s) => s.trim());
  for (const a of asked)
    if (!known.includes(a as T)) throw new Error(`unknown ${what} "${a}"; known: ${known.join(', ')}`);
  return asked as T[];
}

/** The commit measured (HEAD), through the hardened git runner; cells record it for `--resume`. */
async function commitOf(): Promise<string> {
  const result = await gitRunner(ROOT)
    .run(['rev-parse', '--short', 'HEAD'])
    .catch(() => undefined);
  return result?.code === 0 ? result.stdout.toString('utf8').trim() : 'unknown';
}

type Results = Record<string, unknown> & { scale?: ScaleResults };

async function loadResults(): Promise<Results> {
  if (!existsSync(RESULTS)) return {};
  try {
    return JSON.parse(await readFile(RESULTS, 'utf8')) as Results;
  } catch {
    return {};
  }
}

async function saveResults(results: Results): Promise<void> {
  await writeFile(`${RESULTS}.tmp`, `${JSON.stringify(results, null, 2)}\n`);
  await rename(`${RESULTS}.tmp`, RESULTS);
}

/** Replaces the text between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` in docs/bench.md. */
async function writeDocSection(name: string, text: string): Promise<void> {
  const doc = await readFile(DOC, 'utf8');
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  const start = doc.indexOf(open);
  const end = doc.indexOf(close);
  if (start < 0 || end < start) {
    log(`docs/bench.md has no ${open} … ${close} markers; table not written there`);
    return;
  }
  await writeFile(DOC, `${doc.slice(0, start + open.length)}\n${text}\n${doc.slice(end)}`);
}

/** `latest` with the cells this run measured (`size/form` → tools) taken from `ours`. */
function mergeScale(
  latest: ScaleResults | undefined,
  ours: ScaleResults,
  measured: ReadonlyMap<string, ReadonlySet<string>>,
): ScaleResults {
  const out: ScaleResults = latest ?? { cells: {}, inputs: {} };
  out.cells ??= {};
  out.inputs ??= {};
  for (const [key, tools] of measured) {
    if (key === 'trivyStartup') {
      if (ours.trivyStartup) out.trivyStartup = ours.trivyStartup;
      continue;
    }
    const cells = out.cells[key] ?? {};
    for (const tool of tools) {
      const cell = ours.cells[key]?.[tool as Tool];
      if (cell) cells[tool as Tool] = cell;
    }
    out.cells[key] = cells;
    const facts = ours.inputs[key];
    if (facts) out.inputs[key] = facts;
  }
  return out;
}

async function writeScaleTables(scale: ScaleResults): Promise<void> {
  const startup = scale.trivyStartup
    ? `\nTrivy start-up (\`trivy --version\`, median, subtracted from every Trivy time): ${scale.trivyStartup.seconds.toFixed(2)} s wall, ${scale.trivyStartup.cpuSeconds?.toFixed(2) ?? '?'} s CPU.\n`
    : '';
  const tables = `${inputsTable(scale)}\n\n${scaleTable(scale, cpus().length)}\n${startup}`;
  process.stdout.write(`${tables}\n`);
  await writeDocSection('scale', tables);
}

function printRows(rows: BenchRow[]): void {
  const w = Math.max(0, ...rows.map((r) => r.what.length));
  for (const r of rows)
    process.stdout.write(
      `${r.what.padEnd(w)}  ${r.value.padStart(8)}  ${r.goal}${r.ok === undefined ? '' : r.ok ? '  ok' : '  MISSED'}\n`,
    );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      sizes: { type: 'string' },
      forms: { type: 'string' },
      tools: { type: 'string' },
      runs: { type: 'string' },
      resume: { type: 'boolean' },
      report: { type: 'boolean' },
    },
  });
  const env = process.env;
  const sections = listOption(values.only ?? env.BENCH_ONLY, SECTIONS, 'section');
  const runs = Number(values.runs ?? env.BENCH_RUNS ?? 3);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number >= 1`);
  const commit = await commitOf();
  const loadBefore = loadavg()[0] ?? 0;
  const results = await loadResults();
  Object.assign(results, {
    date: new Date().toISOString(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    node: process.version,
    commit,
  });

  if (values.report) {
    const scale = results.scale;
    if (!scale) throw new Error('bench.json has no scale results to report');
    await writeScaleTables(scale);
    return;
  }
  if (sections.includes('scale')) {
    const scale = await benchScale({
      sizes: listOption<BenchSize>(values.sizes ?? env.BENCH_SIZES, BENCH_SIZES, 'size'),
      forms: listOption<Form>(values.forms ?? env.BENCH_FORMS, FORMS, 'form'),
      tools: listOption<Tool>(values.tools ?? env.BENCH_TOOLS, TOOLS, 'tool'),
      runs,
      resume: values.resume === true || env.BENCH_RESUME === '1',
      commit,
      root: ROOT,
      cacheDir: CACHE,
      load: async () => (await loadResults()).scale ?? { cells: {}, inputs: {} },
      // Cells are merged into the file as it is now, one by one: another bench run (another subset)
      // may have saved cells since this one started.
      save: async (scaleResults, measured) => {
        const all = await loadResults();
        all.scale = mergeScale(all.scale, scaleResults, measured);
        await saveResults(all);
      },
      log,
    });
    results.scale = scale;
    await writeScaleTables(scale);
  }
  if (sections.includes('integrity')) {
    const integrity = await benchIntegrity(log);
    results.integrity = integrity.results;
    printRows(integrity.rows);
  }
  if (sections.includes('dpkg')) {
    const dpkg = await benchDpkg(log);
    results.dpkg = dpkg.results;
    printRows(dpkg.rows);
  }
  if (sections.includes('audit')) {
    const audit = await benchAudit(log);
    results.audit = audit.results;
    printRows(audit.rows);
  }
  if (sections.includes('registry')) {
    const registry = await benchRegistry(log);
    Object.assign(results, registry.results);
    printRows(registry.rows);
  }
  const loadAfter = loadavg()[0] ?? 0;
  results.loadAverage = { before: loadBefore, after: loadAfter };
  // The scale section saved its own cells as it went; keep them and add the rest.
  const latest = await loadResults();
  await saveResults({ ...results, ...(latest.scale ? { scale: latest.scale } : {}) });
  process.stdout.write(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, node ${process.version}, commit ${commit}\n` +
      `1-min load average: ${loadBefore.toFixed(2)} before the run, ${loadAfter.toFixed(2)} after\n` +
      `written: ${RESULTS}\n`,
  );
}

await main();
