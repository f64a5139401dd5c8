/**
 * The dpkg memory part of `npm run bench` (issue 7): a status file of real stanzas (this machine's
 * /var/lib/dpkg/status, packages renamed per copy) repeated to 30 MiB, in
 * test/fixtures/cache/dpkg-status-30m: the dpkg cataloger's peak RSS in a child over a baseline child
 * that only reads the file, and `waybill sbom` on a gzip tarball holding it.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { type TarEntryInput, tarChunks } from '../src/archive/tar-writer.ts';
import type { BenchRow } from './bench-audit.ts';
import { type Measured, measure } from './bench-measure.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CACHE = join(ROOT, 'test/fixtures/cache');
const WAYBILL = join(ROOT, 'bin/waybill.js');
const MiB = 1024 * 1024;

const DPKG_STATUS_BYTES = 30 * MiB;

/** Real stanzas (this machine's dpkg database, else the shared fixture) repeated to 30 MiB. */
async function ensureDpkgStatus(): Promise<{ status: string; tarball: string } | { unavailable: string }> {
  const status = join(CACHE, 'dpkg-status-30m');
  const tarball = `${status}.tar.gz`;
  if (existsSync(status) && existsSync(tarball)) return { status, tarball };
  const sources = [
    '/var/lib/dpkg/status',
    join(ROOT, '../shared/fixtures/vectors/os-package-db/dpkg/syft/image-dpkg/var/lib/dpkg/status'),
  ];
  const source = sources.find((p) => existsSync(p));
  if (!source) return { unavailable: 'no real dpkg status file to build from' };
  const stanzas = (await readFile(source, 'utf8')).split(/\n\n+/).filter((s) => s.includes('Package:'));
  const parts: string[] = [];
  let size = 0;
  for (let copy = 0; size < DPKG_STATUS_BYTES; copy++) {
    for (const stanza of stanzas) {
      const renamed = `${stanza.replace(/^Package: (.*)$/m, (_m, name: string) => `Package: ${name}-r${copy}`)}\n\n`;
      parts.push(renamed);
      size += Buffer.byteLength(renamed);
      if (size >= DPKG_STATUS_BYTES) break;
    }
  }
  const text = Buffer.from(parts.join(''));
  await writeFile(status, text);
  const entries: TarEntryInput[] = [
    { path: 'var/', type: 'dir' },
    { path: 'var/lib/', type: 'dir' },
    { path: 'var/lib/dpkg/', type: 'dir' },
    { path: 'var/lib/dpkg/status', data: text },
  ];
  await pipeline(tarChunks(entries), createGzip(), createWriteStream(tarball));
  return { status, tarball };
}

/** Peak RSS of a child that reads the status file and, unless `baseline`, runs the dpkg cataloger. */
async function dpkgCatalogerRss(status: string, baseline: boolean): Promise<Measured> {
  const dpkg = new URL('../src/catalog/dpkg.ts', import.meta.url).href;
  const script = `
    import { readFileSync } from 'node:fs';
    import { dpkgCataloger, dpkgOwnedFiles } from ${JSON.stringify(dpkg)};
    const data = readFileSync(process.argv[1]);
    const files = [{ entry: { path: 'var/lib/dpkg/status', type: 'file', size: data.length, mode: 420 }, data, earlier: [] }];
    if (!${baseline}) {
      const found = await dpkgCataloger.catalog(files, { warn() {} });
      dpkgOwnedFiles(files, { warn() {} });
      if (found.length === 0) process.exit(3);
    }
  `;
  return measure(process.execPath, ['--input-type=module', '-e', script, status]);
}

export async function benchDpkg(
  log: (line: string) => void,
): Promise<{ rows: BenchRow[]; results: unknown }> {
  const rows: BenchRow[] = [];
  let results: unknown;
  const dpkgInput = await ensureDpkgStatus();
  if ('unavailable' in dpkgInput) {
    rows.push({ what: 'dpkg 30 MiB status', value: 'n/a', goal: dpkgInput.unavailable });
  } else {
    log('dpkg: cataloger and waybill sbom on a 30 MiB status file…');
    const inputMiB = (await readFile(dpkgInput.status)).length / MiB;
    const base = await dpkgCatalogerRss(dpkgInput.status, true);
    const cataloger = await dpkgCatalogerRss(dpkgInput.status, false);
    if (cataloger.code !== 0) throw new Error(`dpkg cataloger exited ${cataloger.code}: ${cataloger.stderr}`);
    const cli = await measure(process.execPath, [WAYBILL, 'sbom', `file:${dpkgInput.tarball}`, '--quiet']);
    if (cli.code !== 0) throw new Error(`waybill sbom exited ${cli.code}: ${cli.stderr}`);
    const over = (cataloger.rssMiB ?? 0) - (base.rssMiB ?? 0);
    results = {
      statusMiB: inputMiB,
      baselineRssMiB: base.rssMiB,
      catalogerRssMiB: cataloger.rssMiB,
      catalogerSeconds: cataloger.seconds,
      catalogerOverInput: over / inputMiB,
      sbomSeconds: cli.seconds,
      sbomRssMiB: cli.rssMiB,
    };
    rows.push({
      what: `dpkg ${inputMiB.toFixed(0)} MiB status: cataloger RSS over baseline MiB`,
      value: `${over.toFixed(0)} (${(over / inputMiB).toFixed(1)}× the file)`,
      goal: '',
    });
    rows.push({
      what: 'dpkg status: waybill sbom s, peak RSS MiB',
      value: `${cli.seconds.toFixed(2)}, ${(cli.rssMiB ?? 0).toFixed(0)}`,
      goal: '',
    });
  }

  return { rows, results };
}
