/**
 * The audit part of `npm run bench` (issue 11), also runnable alone: `node scripts/bench-audit.ts`.
 *
 *   (g) `waybill db import` of every Go, PyPI and crates.io advisory in ../shared/fixtures/osv into a
 *       fresh database (the real CLI in a child process, best of 3) — goal <= 5 s;
 *   (h) `waybill audit` of a 10 000-component CycloneDX SBOM (Go modules, PyPI and crates.io
 *       packages named by those advisories, half at affected versions, with a dependency tree)
 *       against that database, best of 3 — goal <= 1 s;
 *   and the floor for both: JSON.parse over the same advisory files, and over the SBOM.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WAYBILL = join(ROOT, 'bin/waybill.js');
const OSV = join(ROOT, '..', 'shared', 'fixtures', 'osv');
const SOURCES = ['go-vulndb/osv', 'pypa-advisory-db/json', 'rustsec-osv/crates'].map((p) => join(OSV, p));
export const AUDIT_GOALS = { importSeconds: 5, auditSeconds: 1 };
const COMPONENTS = 10_000;

export interface BenchRow {
  what: string;
  value: string;
  goal: string;
  ok?: boolean;
}

export function jsonFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) jsonFiles(p, out);
    else if (name.endsWith('.json')) out.push(p);
  }
  return out;
}

const GNU_TIME = existsSync('/usr/bin/time');

/** Wall seconds, and CPU seconds (user + system) when GNU time is there: the machine is shared. */
function run(args: string[]): Promise<{ wall: number; cpu?: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const argv = GNU_TIME
      ? ['-f', 'waybill-cpu %U %S', process.execPath, WAYBILL, ...args]
      : [WAYBILL, ...args];
    const child = spawn(GNU_TIME ? '/usr/bin/time' : process.execPath, argv, {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 && code !== 1) reject(new Error(`waybill ${args.join(' ')} exited ${code}: ${stderr}`));
      const m = /waybill-cpu ([\d.]+) ([\d.]+)/.exec(stderr);
      const wall = (performance.now() - started) / 1000;
      resolve(m ? { wall, cpu: Number(m[1]) + Number(m[2]) } : { wall });
    });
  });
}

function best(times: number[]): number {
  return Math.min(...times);
}

function bestRun(runs: Array<{ wall: number; cpu?: number }>): { wall: number; cpu?: number } {
  const wall = best(runs.map((r) => r.wall));
  const cpus = runs.flatMap((r) => (r.cpu === undefined ? [] : [r.cpu]));
  return cpus.length > 0 ? { wall, cpu: best(cpus) } : { wall };
}

/** A purl for an advisory's package at a version, or undefined for packages no SBOM names so. */
function purlFor(ecosystem: string, name: string, version: string): string | undefined {
  if (/[\s@?#]/.test(name) || /[\s/]/.test(version)) return undefined;
  if (ecosystem === 'Go') {
    if (name === 'stdlib' || name === 'toolchain' || !name.includes('/')) return undefined;
    const slash = name.lastIndexOf('/');
    return `pkg:golang/${name.slice(0, slash)}/${name.slice(slash + 1)}@v${version}`;
  }
  if (ecosystem === 'PyPI') return `pkg:pypi/${name.toLowerCase()}@${version}`;
  if (ecosystem === 'crates.io') return `pkg:cargo/${name}@${version}`;
  return undefined;
}

/**
 * A realistic 10 000-component SBOM: every package the advisories name, most at their last fixed
 * version (patched), one in ten at the first version an advisory names (vulnerable), padded with
 * packages no advisory knows; a dependency tree (each component depends on up to four others).
 */
export function syntheticSbom(files: string[]): { text: string; components: number } {
  const fixes = new Map<string, { ecosystem: string; name: string; versions: string[] }>();
  for (const file of files) {
    const record = JSON.parse(readFileSync(file, 'utf8')) as {
      affected?: Array<{
        package?: { ecosystem: string; name: string };
        ranges?: Array<{ type: string; events: Array<Record<string, string>> }>;
      }>;
    };
    for (const a of record.affected ?? []) {
      if (!a.package) continue;
      const key = `${a.package.ecosystem}\0${a.package.name}`;
      const entry = fixes.get(key) ?? { ecosystem: a.package.ecosystem, name: a.package.name, versions: [] };
      for (const r of a.ranges ?? []) {
        if (r.type === 'GIT') continue;
        for (const e of r.events) if (e.fixed) entry.versions.push(e.fixed);
      }
      fixes.set(key, entry);
    }
  }
  const list: string[] = [];
  let i = 0;
  for (const { ecosystem, name, versions } of fixes.values()) {
    if (versions.length === 0) continue;
    // The last fixed version written is usually the newest; every tenth package stays on the first.
    const version = i++ % 10 === 0 ? (versions[0] as string) : (versions.at(-1) as string);
    const purl = purlFor(ecosystem, name, version);
    if (purl) list.push(purl);
    if (list.length >= COMPONENTS) break;
  }
  for (let n = list.length; n < COMPONENTS; n++) list.push(`pkg:npm/bench-filler-${n}@1.0.${n}`);
  const components = list.map((purl) => {
    const at = purl.lastIndexOf('@');
    const name = purl.slice(purl.indexOf('/') + 1, at);
    return { type: 'library', 'bom-ref': purl, name, version: decodeURIComponent(purl.slice(at + 1)), purl };
  });
  // A tree: every component depends on up to four later ones.
  const dependencies = [
    { ref: 'bench-root', dependsOn: components.slice(0, 50).map((c) => c['bom-ref']) },
    ...components.map((c, i) => ({
      ref: c['bom-ref'],
      dependsOn: components.slice(50 + i * 4, 54 + i * 4).map((d) => d['bom-ref']),
    })),
  ];
  const doc = {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    version: 1,
    metadata: {
      component: { type: 'application', 'bom-ref': 'bench-root', name: 'bench', version: '1.0.0' },
    },
    components,
    dependencies,
  };
  return { text: JSON.stringify(doc), components: components.length };
}

export async function benchAudit(
  log: (line: string) => void,
): Promise<{ rows: BenchRow[]; results: Record<string, unknown> }> {
  const files = SOURCES.flatMap((d) => jsonFiles(d));
  const texts = files.map((f) => readFileSync(f, 'utf8'));
  const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
  const parseTimes: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    for (const text of texts) JSON.parse(text);
    parseTimes.push((performance.now() - t) / 1000);
  }
  const parseFloor = best(parseTimes);

  const work = await mkdtemp(join(tmpdir(), 'waybill-bench-audit-'));
  try {
    const db = join(work, 'advisories.db');
    const importTimes: Array<{ wall: number; cpu?: number }> = [];
    for (let i = 0; i < 3; i++) {
      await rm(db, { force: true });
      log(`audit: db import of ${files.length} advisories (run ${i + 1})…`);
      importTimes.push(await run(['db', 'import', '--db', db, '--quiet', ...SOURCES]));
    }
    const sbom = syntheticSbom(files);
    const sbomPath = join(work, 'bench.cdx.json');
    await writeFile(sbomPath, sbom.text);
    const t = performance.now();
    JSON.parse(sbom.text);
    const sbomParse = (performance.now() - t) / 1000;
    const auditTimes: Array<{ wall: number; cpu?: number }> = [];
    for (let i = 0; i < 3; i++) {
      log(`audit: ${sbom.components} components (run ${i + 1})…`);
      auditTimes.push(
        await run([
          'audit',
          sbomPath,
          '--db',
          db,
          '--format',
          'json',
          '--quiet',
          '--now',
          '2026-01-01T00:00:00Z',
        ]),
      );
    }
    const imported = bestRun(importTimes);
    const audited = bestRun(auditTimes);
    const importSeconds = imported.wall;
    const auditSeconds = audited.wall;
    const results = {
      advisories: files.length,
      advisoryBytes: bytes,
      jsonParseSeconds: parseFloor,
      jsonParseMiBPerSecond: bytes / 1024 / 1024 / parseFloor,
      importSeconds,
      importCpuSeconds: imported.cpu,
      sbomComponents: sbom.components,
      sbomBytes: Buffer.byteLength(sbom.text),
      sbomJsonParseSeconds: sbomParse,
      auditSeconds,
      auditCpuSeconds: audited.cpu,
      goals: AUDIT_GOALS,
    };
    const rows: BenchRow[] = [
      {
        what: `advisories: JSON.parse floor (${files.length} files, ${(bytes / 1024 / 1024).toFixed(1)} MiB) s`,
        value: parseFloor.toFixed(2),
        goal: `${(bytes / 1024 / 1024 / parseFloor).toFixed(0)} MiB/s`,
      },
      {
        what: 'advisories: waybill db import s',
        value: importSeconds.toFixed(2),
        goal: `<= ${AUDIT_GOALS.importSeconds}${imported.cpu !== undefined ? ` (cpu ${imported.cpu.toFixed(2)} s)` : ''}`,
        ok: importSeconds <= AUDIT_GOALS.importSeconds,
      },
      {
        what: `audit ${sbom.components} components: JSON.parse floor s`,
        value: sbomParse.toFixed(3),
        goal: '',
      },
      {
        what: `audit ${sbom.components} components: waybill audit s`,
        value: auditSeconds.toFixed(2),
        goal: `<= ${AUDIT_GOALS.auditSeconds}${audited.cpu !== undefined ? ` (cpu ${audited.cpu.toFixed(2)} s)` : ''}`,
        ok: auditSeconds <= AUDIT_GOALS.auditSeconds,
      },
    ];
    return { rows, results };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { rows, results } = await benchAudit((line) => process.stderr.write(`${line}\n`));
  const w = Math.max(...rows.map((r) => r.what.length));
  for (const r of rows)
    process.stdout.write(
      `${r.what.padEnd(w)}  ${r.value.padStart(8)}  ${r.goal}${r.ok === undefined ? '' : r.ok ? '  ok' : '  MISSED'}\n`,
    );
  process.stdout.write(`${JSON.stringify(results)}\n`);
}
