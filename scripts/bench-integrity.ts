/**
 * The integrity part of `npm run bench` (issue 8): `waybill check` of a stamped copy of the
 * fixture's OCI layout, which hashes every blob the record is bound to, against `sha256sum` over the
 * same blobs (manifest, config, layers). Goal: check <= 1.5 × sha256sum.
 */
import { cp, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchRow } from './bench-audit.ts';
import { measure } from './bench-measure.ts';
import { buildFixtureImage, DEFAULT_CACHE_DIR } from './build-fixture-image.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WAYBILL = join(ROOT, 'bin/waybill.js');
const MiB = 1024 * 1024;
const GOALS = { checkVsSha256sum: 1.5 };

type Fixture = Exclude<Awaited<ReturnType<typeof buildFixtureImage>>, { skip: string }>;

export async function benchIntegrity(
  log: (line: string) => void,
): Promise<{ rows: BenchRow[]; results: unknown }> {
  const fixture = await buildFixtureImage(DEFAULT_CACHE_DIR, log);
  if ('skip' in fixture) throw new Error(`fixture image not available: ${fixture.skip}`);
  const rows: BenchRow[] = [];
  const results: Record<string, unknown> = {};
  await integrityRows(fixture, rows, results, log);
  return { rows, results: results.integrity };
}

/**
 * (j): `waybill check` of a stamped copy of the fixture's OCI layout, which hashes every blob the
 * record is bound to, against `sha256sum` over the same blobs (manifest, config, layers) in one run.
 * Best of 5 each; the copy is stamped once, without a source, so check exits 1 (signed-source).
 */
async function integrityRows(
  fixture: Fixture,
  rows: BenchRow[],
  results: Record<string, unknown>,
  log: (line: string) => void,
): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'waybill-bench-check-'));
  try {
    const layout = join(scratch, 'oci');
    await cp(fixture.ociDir, layout, { recursive: true });
    const ref = `oci:${layout}:latest`;
    log('integrity: stamping a copy of the fixture layout…');
    const stamped = await measure(process.execPath, [WAYBILL, 'stamp', ref, ...BENCH_STAMP_FLAGS]);
    if (stamped.code !== 0) throw new Error(`waybill stamp ${ref} exited ${stamped.code}: ${stamped.stderr}`);
    const blobs = await imageBlobs(layout);
    const bytes = await blobBytes(blobs);
    const runs = 5;
    log('integrity: waybill check…');
    let check = Number.POSITIVE_INFINITY;
    for (let i = 0; i < runs; i++) {
      const m = await measure(process.execPath, [WAYBILL, 'check', ref]);
      if (m.code !== 0 && m.code !== 1) throw new Error(`waybill check ${ref} exited ${m.code}: ${m.stderr}`);
      check = Math.min(check, m.seconds);
    }
    log('integrity: sha256sum floor…');
    let floor = Number.POSITIVE_INFINITY;
    for (let i = 0; i < runs; i++) {
      const m = await measure('sha256sum', blobs);
      if (m.code !== 0) throw new Error(`sha256sum exited ${m.code}: ${m.stderr}`);
      floor = Math.min(floor, m.seconds);
    }
    results.integrity = { blobs: blobs.length, bytes, waybillCheckSeconds: check, sha256sumSeconds: floor };
    const ratio = check / floor;
    rows.push({
      what: `fixture: waybill check s (${blobs.length} blobs, ${(bytes / MiB).toFixed(0)} MiB)`,
      value: check.toFixed(2),
      goal: '',
    });
    rows.push({ what: 'fixture: sha256sum floor s', value: floor.toFixed(2), goal: '' });
    rows.push({
      what: 'fixture: waybill check / sha256sum',
      value: ratio.toFixed(2),
      goal: `<= ${GOALS.checkVsSha256sum}`,
      ok: ratio <= GOALS.checkVsSha256sum,
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Stamp flags for the integrity bench: every fact but a source (there is no repository). */
const BENCH_STAMP_FLAGS = [
  '--name',
  'fixture',
  '--version',
  '1.0.0',
  '--team',
  'Bench Team',
  '--bug-tracker',
  'https://bugs.example.org/fixture',
  '--license',
  'Apache-2.0',
  '--quiet',
];

/** Manifest, config and layer blob files of the image tagged `latest` in a layout. */
async function imageBlobs(ociDir: string): Promise<string[]> {
  const index = JSON.parse(await readFile(join(ociDir, 'index.json'), 'utf8')) as {
    manifests: Array<{ digest: string; annotations?: Record<string, string> }>;
  };
  const image = index.manifests.find(
    (m) => m.annotations?.['org.opencontainers.image.ref.name'] === 'latest',
  );
  if (!image) throw new Error(`${ociDir}: no image tagged latest`);
  const blob = (digest: string) => join(ociDir, 'blobs', ...digest.split(':'));
  const manifest = JSON.parse(await readFile(blob(image.digest), 'utf8')) as {
    layers: Array<{ digest: string }>;
    config: { digest: string };
  };
  return [image.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)].map(blob);
}

async function blobBytes(files: string[]): Promise<number> {
  let total = 0;
  for (const file of files) total += (await stat(file)).size;
  return total;
}
