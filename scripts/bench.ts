/**
 * `npm run bench`: how fast and how lean `waybill sbom` is on real and large images, measured in one
 * run against the floor (gunzip of the same layer bytes) and against cdxgen.
 *
 *   (a) waybill wall time on the fixture image (best of 3, the real CLI in a child process)
 *   (b) the floor: `gzip -dc LAYER > /dev/null` over every layer blob, sequentially (best of 3)
 *   (c) cdxgen `-t docker` on the same image (installed into test/fixtures/cache/cdxgen)
 *   (d) waybill's peak RSS (`/usr/bin/time -f %M`, else VmHWM polled from /proc)
 *   (e) a synthetic image, >= 2 GiB uncompressed in 20 gzip layers: waybill time and RSS vs the floor
 *   (f) worker threads: both images with `--workers 1` (in-process) and `--workers 2`, time and RSS
 *   (g) dpkg memory: a 30 MiB status file built from real stanzas (this machine's dpkg database,
 *       packages renamed per copy): the dpkg cataloger's peak RSS over a baseline that only reads the
 *       file, as a multiple of the file, and `waybill sbom` on a tarball holding it
 *   (h, i) advisory import and a 10 000-component audit, against JSON.parse (scripts/bench-audit.ts)
 *   (j) integrity: `waybill check` of a stamped copy of the fixture layout (which hashes every blob
 *       the record is bound to) against `sha256sum` over the same blobs
 *
 * `--only sbom` runs (a)–(i), `--only integrity` runs (j); default: everything.
 *
 * The fixture's docker-archive holds uncompressed layers (skopeo writes them so), which would make a
 * gunzip floor meaningless; so the floor and waybill both read umoci's OCI layout of the same image,
 * whose layers are gzip. cdxgen reads the docker-archive (it takes docker tarballs), and waybill is
 * timed on that too for the cdxgen ratio: same input for both.
 *
 * Results are printed as a table and written to test/fixtures/cache/bench.json.
 */
import { spawn } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGunzip, createGzip } from 'node:zlib';
import { type TarEntryInput, tarChunks } from '../src/archive/tar-writer.ts';
import { benchAudit } from './bench-audit.ts';
import { buildFixtureImage, DEFAULT_CACHE_DIR } from './build-fixture-image.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CACHE = join(ROOT, 'test/fixtures/cache');
const WAYBILL = join(ROOT, 'bin/waybill.js');
const GOALS = { timeVsGzip: 1.3, timeVsCdxgen: 0.12, rssMiB: 250, checkVsSha256sum: 1.5 };
const MiB = 1024 * 1024;

const log = (line: string) => process.stderr.write(`${line}\n`);

// ---- running and measuring ------------------------------------------------------------------------

interface Measured {
  seconds: number;
  /** Peak resident set size in MiB, when measured. */
  rssMiB?: number;
  code: number;
  stderr: string;
}

const HAS_GNU_TIME = existsSync('/usr/bin/time');

/** Runs a command with stdout discarded; wall time, exit code and (optionally) peak RSS. */
async function measure(
  cmd: string,
  args: string[],
  opts: { cwd?: string; rss?: boolean; stdoutFile?: string } = {},
): Promise<Measured> {
  const scratch = await mkdtemp(join(tmpdir(), 'waybill-bench-'));
  const rssFile = join(scratch, 'rss');
  const [file, argv] =
    opts.rss && HAS_GNU_TIME ? ['/usr/bin/time', ['-f', '%M', '-o', rssFile, cmd, ...args]] : [cmd, args];
  const started = process.hrtime.bigint();
  const result = await new Promise<{ code: number; stderr: string; vmHwmKiB?: number }>((resolve, reject) => {
    const child = spawn(file, argv, { cwd: opts.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-4000);
    });
    // Without GNU time: poll the child's high-water mark (VmHWM) while it runs.
    let vmHwmKiB: number | undefined;
    const poll =
      opts.rss && !HAS_GNU_TIME
        ? setInterval(() => {
            try {
              const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
              if (m) vmHwmKiB = Math.max(vmHwmKiB ?? 0, Number(m[1]));
            } catch {}
          }, 20)
        : undefined;
    child.on('error', reject);
    child.on('close', (code) => {
      if (poll) clearInterval(poll);
      resolve({ code: code ?? -1, stderr, vmHwmKiB });
    });
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  let rssKiB = result.vmHwmKiB;
  if (opts.rss && HAS_GNU_TIME) {
    const text = (await readFile(rssFile, 'utf8').catch(() => '')).trim().split('\n').pop() ?? '';
    if (/^\d+$/.test(text)) rssKiB = Number(text);
  }
  await rm(scratch, { recursive: true, force: true });
  return {
    seconds,
    code: result.code,
    stderr: result.stderr,
    ...(rssKiB !== undefined ? { rssMiB: rssKiB / 1024 } : {}),
  };
}

/**
 * `waybill sbom REF`, output discarded through stdout (not `-o /dev/null`: an atomic write renames a
 * temp file over its target, which would replace /dev/null itself when run as root).
 */
async function waybillSbom(
  ref: string,
  runs: number,
  extraArgs: string[] = [],
): Promise<{ seconds: number; rssMiB: number }> {
  let best = Number.POSITIVE_INFINITY;
  let rss = 0;
  for (let i = 0; i < runs; i++) {
    const m = await measure(process.execPath, [WAYBILL, 'sbom', ref, '--quiet', ...extraArgs], { rss: true });
    if (m.code !== 0) throw new Error(`waybill sbom ${ref} exited ${m.code}: ${m.stderr}`);
    best = Math.min(best, m.seconds);
    rss = Math.max(rss, m.rssMiB ?? 0);
  }
  return { seconds: best, rssMiB: rss };
}

/** The floor: gunzip every layer once, one after another, output discarded. Best of `runs`. */
async function gunzipFloor(layers: string[], runs: number): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    let total = 0;
    for (const layer of layers) {
      const m = await measure('gzip', ['-dc', layer]);
      if (m.code !== 0) throw new Error(`gzip -dc ${layer} exited ${m.code}: ${m.stderr}`);
      total += m.seconds;
    }
    best = Math.min(best, total);
  }
  return best;
}

// ---- OCI layouts ----------------------------------------------------------------------------------

interface OciManifest {
  layers: Array<{ digest: string; size: number; mediaType: string }>;
}

/** The layer blob files of the image tagged `latest` in an OCI layout (must be gzip). */
async function layerBlobs(ociDir: string): Promise<{ files: string[]; compressed: number }> {
  const index = JSON.parse(await readFile(join(ociDir, 'index.json'), 'utf8')) as {
    manifests: Array<{ digest: string }>;
  };
  const manifestDigest = index.manifests[0]?.digest ?? '';
  const blob = (digest: string) => join(ociDir, 'blobs', ...digest.split(':'));
  const manifest = JSON.parse(await readFile(blob(manifestDigest), 'utf8')) as OciManifest;
  for (const l of manifest.layers)
    if (!l.mediaType.endsWith('+gzip'))
      throw new Error(`${ociDir}: layer ${l.digest} is ${l.mediaType}, not gzip`);
  return {
    files: manifest.layers.map((l) => blob(l.digest)),
    compressed: manifest.layers.reduce((n, l) => n + l.size, 0),
  };
}

async function uncompressedSize(files: string[]): Promise<number> {
  let total = 0;
  for (const file of files) {
    const counter = new Transform({
      transform(chunk: Buffer, _e, cb) {
        total += chunk.length;
        cb();
      },
    });
    await pipeline(createReadStream(file), createGunzip(), counter);
  }
  return total;
}

// ---- the synthetic image --------------------------------------------------------------------------

const SYNTHETIC_LAYERS = 20;
/** 20 × 112 MiB ≈ 2.19 GiB uncompressed. */
const LAYER_BYTES = 112 * MiB;

/** Incompressible but reproducible bytes: an AES-CTR keystream (fast, and the same every build). */
function keystream(seed: number, size: number): Iterable<Uint8Array> {
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(seed, 12);
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), iv);
  const zeros = Buffer.alloc(Math.min(size, 1 * MiB));
  return (function* () {
    for (let left = size; left > 0; left -= zeros.length)
      yield cipher.update(left >= zeros.length ? zeros : zeros.subarray(0, left));
  })();
}

/** Compressible text: log-like lines that differ in their numbers. */
function textstream(seed: number, size: number): Iterable<Uint8Array> {
  return (function* () {
    let left = size;
    let n = seed;
    while (left > 0) {
      const lines: string[] = [];
      for (let i = 0; i < 4096; i++) {
        n = (n * 1103515245 + 12345) >>> 0;
        lines.push(
          `2024-05-0${n % 9} INFO worker-${n % 97} processed request ${n} in ${n % 1000} ms status=ok\n`,
        );
      }
      const chunk = Buffer.from(lines.join(''));
      const part = chunk.subarray(0, Math.min(left, chunk.length));
      left -= part.length;
      yield part;
    }
  })();
}

function dpkgStatus(layer: number): string {
  const stanzas: string[] = [];
  for (let i = 0; i < 40; i++)
    stanzas.push(
      `Package: synth-pkg-${layer}-${i}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: 1.${layer}.${i}-1\nMaintainer: Bench <bench@example.org>\nDescription: synthetic package ${i}\n`,
    );
  return `${stanzas.join('\n')}\n`;
}

function* syntheticEntries(layer: number): Generator<TarEntryInput> {
  const top = `data/l${String(layer).padStart(2, '0')}`;
  yield { path: 'data/', type: 'dir' };
  yield { path: `${top}/`, type: 'dir' };
  // Every layer rewrites the dpkg database (as `apt-get install` in each RUN step would).
  yield { path: 'var/', type: 'dir' };
  yield { path: 'var/lib/', type: 'dir' };
  yield { path: 'var/lib/dpkg/', type: 'dir' };
  yield { path: 'var/lib/dpkg/status', data: dpkgStatus(layer) };
  for (let p = 0; p < 5; p++) {
    const dir = `${top}/node_modules/synth-${layer}-${p}`;
    yield { path: `${dir}/`, type: 'dir' };
    yield {
      path: `${dir}/package.json`,
      data: JSON.stringify({ name: `synth-${layer}-${p}`, version: `1.0.${p}` }),
    };
  }
  let written = 0;
  for (let f = 0; written < LAYER_BYTES; f++) {
    // Sizes from 256 KiB to ~8 MiB, alternating incompressible and compressible content.
    const size = Math.min(LAYER_BYTES - written, 256 * 1024 * (1 + ((f * 7 + layer) % 32)));
    const seed = layer * 100_000 + f;
    const random = f % 2 === 0;
    yield {
      path: `${top}/${random ? 'blob' : 'log'}-${f}.${random ? 'bin' : 'txt'}`,
      data: { size, open: () => (random ? keystream(seed, size) : textstream(seed, size)) },
    };
    written += size;
  }
}

async function writeBlob(dir: string, data: Buffer): Promise<{ digest: string; size: number }> {
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  await writeFile(join(dir, 'blobs/sha256', digest.slice(7)), data);
  return { digest, size: data.length };
}

/** One gzip layer streamed to its blob: digests of the compressed and uncompressed bytes. */
async function writeSyntheticLayer(dir: string, layer: number) {
  const tmp = join(dir, `layer-${layer}.tmp`);
  const diff = createHash('sha256');
  const blob = createHash('sha256');
  let size = 0;
  await pipeline(
    tarChunks(syntheticEntries(layer)),
    new Transform({
      transform(chunk: Buffer, _e, cb) {
        diff.update(chunk);
        cb(null, chunk);
      },
    }),
    createGzip({ level: 1 }),
    new Transform({
      transform(chunk: Buffer, _e, cb) {
        blob.update(chunk);
        size += chunk.length;
        cb(null, chunk);
      },
    }),
    createWriteStream(tmp),
  );
  const digest = `sha256:${blob.digest('hex')}`;
  await rename(tmp, join(dir, 'blobs/sha256', digest.slice(7)));
  return { digest, size, diffId: `sha256:${diff.digest('hex')}` };
}

/** Builds the synthetic OCI layout once (cached); returns its directory. */
async function ensureSyntheticImage(): Promise<string> {
  const final = join(CACHE, 'synthetic-oci');
  if (existsSync(join(final, 'index.json'))) return final;
  const dir = `${final}.partial`;
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'blobs/sha256'), { recursive: true });
  log(
    `building the synthetic image (${SYNTHETIC_LAYERS} layers, ${((SYNTHETIC_LAYERS * LAYER_BYTES) / 1024 / MiB).toFixed(2)} GiB)…`,
  );
  // Two layers at a time: gzip runs on libuv's thread pool, so this uses two cores.
  const layers: Array<Awaited<ReturnType<typeof writeSyntheticLayer>>> = [];
  for (let i = 0; i < SYNTHETIC_LAYERS; i += 2) {
    const pair = [i, i + 1].filter((n) => n < SYNTHETIC_LAYERS);
    layers.push(...(await Promise.all(pair.map((n) => writeSyntheticLayer(dir, n)))));
  }
  const config = await writeBlob(
    dir,
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        created: '2024-01-01T00:00:00Z',
        config: {},
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      }),
    ),
  );
  const manifest = await writeBlob(
    dir,
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: layers.map((l) => ({
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: l.digest,
          size: l.size,
        })),
      }),
    ),
  );
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          annotations: { 'org.opencontainers.image.ref.name': 'latest' },
        },
      ],
    }),
  );
  await rename(dir, final);
  return final;
}

// ---- dpkg memory ----------------------------------------------------------------------------------

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
  return measure(process.execPath, ['--input-type=module', '-e', script, status], { rss: true });
}

// ---- cdxgen ---------------------------------------------------------------------------------------

async function cdxgen(dockerArchive: string): Promise<{ seconds: number } | { unavailable: string }> {
  const dir = join(CACHE, 'cdxgen');
  const bin = join(dir, 'node_modules/.bin/cdxgen');
  if (!existsSync(bin)) {
    await mkdir(dir, { recursive: true });
    if (!existsSync(join(dir, 'package.json')))
      await writeFile(join(dir, 'package.json'), '{"name":"cdxgen-bench","private":true}\n');
    log('installing @cyclonedx/cdxgen into test/fixtures/cache/cdxgen…');
    const install = await measure('npm', ['install', '--no-audit', '--no-fund', '@cyclonedx/cdxgen'], {
      cwd: dir,
    });
    if (install.code !== 0 || !existsSync(bin))
      return { unavailable: `npm install failed: ${install.stderr.trim().split('\n').pop() ?? ''}` };
  }
  const out = join(dir, 'out.json');
  await rm(out, { force: true });
  const m = await measure('npx', ['@cyclonedx/cdxgen', '-t', 'docker', dockerArchive, '-o', out], {
    cwd: dir,
  });
  if (m.code !== 0 || !existsSync(out))
    return { unavailable: `cdxgen exited ${m.code}: ${m.stderr.trim().split('\n').pop() ?? ''}` };
  return { seconds: m.seconds };
}

// ---- main -----------------------------------------------------------------------------------------

interface Row {
  what: string;
  value: string;
  goal: string;
  ok?: boolean;
}

type Fixture = Exclude<Awaited<ReturnType<typeof buildFixtureImage>>, { skip: string }>;

/** (a)–(i): `waybill sbom`, dpkg memory, advisory import and audit. */
async function sbomAndAuditRows(
  fixture: Fixture,
  rows: Row[],
  results: Record<string, unknown>,
): Promise<void> {
  // (a), (b), (d): the fixture image.
  const blobs = await layerBlobs(fixture.ociDir);
  const fixtureUncompressed = await uncompressedSize(blobs.files);
  log('fixture: waybill on the OCI layout (gzip layers)…');
  const wbOci = await waybillSbom(`oci:${fixture.ociDir}:latest`, 3);
  log('fixture: gzip floor…');
  const floor = await gunzipFloor(blobs.files, 3);
  log('fixture: waybill on the docker-archive…');
  const wbDocker = await waybillSbom(`docker-archive:${fixture.dockerArchive}`, 3);
  log('fixture: cdxgen…');
  const cdx = await cdxgen(fixture.dockerArchive);
  if ('unavailable' in cdx) log(`cdxgen unavailable: ${cdx.unavailable}`);

  results.fixture = {
    layers: blobs.files.length,
    compressedBytes: blobs.compressed,
    uncompressedBytes: fixtureUncompressed,
    waybillOciSeconds: wbOci.seconds,
    waybillOciRssMiB: wbOci.rssMiB,
    gzipFloorSeconds: floor,
    waybillDockerArchiveSeconds: wbDocker.seconds,
    waybillDockerArchiveRssMiB: wbDocker.rssMiB,
    cdxgen: cdx,
  };
  const fixtureRatio = wbOci.seconds / floor;
  rows.push({ what: 'fixture: waybill (oci, gzip) s', value: wbOci.seconds.toFixed(2), goal: '' });
  rows.push({ what: 'fixture: gzip -dc floor s', value: floor.toFixed(2), goal: '' });
  rows.push({
    what: 'fixture: waybill / gzip',
    value: fixtureRatio.toFixed(2),
    goal: `<= ${GOALS.timeVsGzip}`,
    ok: fixtureRatio <= GOALS.timeVsGzip,
  });
  rows.push({ what: 'fixture: waybill (docker-archive) s', value: wbDocker.seconds.toFixed(2), goal: '' });
  if ('seconds' in cdx) {
    const r = wbDocker.seconds / cdx.seconds;
    rows.push({ what: 'fixture: cdxgen s', value: cdx.seconds.toFixed(2), goal: '' });
    rows.push({
      what: 'fixture: waybill / cdxgen',
      value: r.toFixed(3),
      goal: `<= ${GOALS.timeVsCdxgen}`,
      ok: r <= GOALS.timeVsCdxgen,
    });
  } else
    rows.push({
      what: 'fixture: waybill / cdxgen',
      value: 'n/a',
      goal: `cdxgen unavailable: ${cdx.unavailable}`,
    });
  const fixtureRss = Math.max(wbOci.rssMiB, wbDocker.rssMiB);
  rows.push({
    what: 'fixture: waybill peak RSS MiB',
    value: fixtureRss.toFixed(0),
    goal: `<= ${GOALS.rssMiB}`,
    ok: fixtureRss <= GOALS.rssMiB,
  });

  // (e): the synthetic 2 GiB image.
  const synthetic = await ensureSyntheticImage();
  const sBlobs = await layerBlobs(synthetic);
  const sUncompressed = await uncompressedSize(sBlobs.files);
  log('synthetic: waybill…');
  const sWaybill = await waybillSbom(`oci:${synthetic}:latest`, 2);
  log('synthetic: gzip floor…');
  const sFloor = await gunzipFloor(sBlobs.files, 2);
  results.synthetic = {
    layers: sBlobs.files.length,
    compressedBytes: sBlobs.compressed,
    uncompressedBytes: sUncompressed,
    waybillSeconds: sWaybill.seconds,
    waybillRssMiB: sWaybill.rssMiB,
    gzipFloorSeconds: sFloor,
  };
  const sRatio = sWaybill.seconds / sFloor;
  rows.push({
    what: `synthetic ${(sUncompressed / 1024 / MiB).toFixed(2)} GiB: waybill s`,
    value: sWaybill.seconds.toFixed(2),
    goal: '',
  });
  rows.push({ what: 'synthetic: gzip -dc floor s', value: sFloor.toFixed(2), goal: '' });
  rows.push({
    what: 'synthetic: waybill / gzip',
    value: sRatio.toFixed(2),
    goal: `<= ${GOALS.timeVsGzip}`,
    ok: sRatio <= GOALS.timeVsGzip,
  });
  rows.push({
    what: 'synthetic: waybill peak RSS MiB',
    value: sWaybill.rssMiB.toFixed(0),
    goal: `<= ${GOALS.rssMiB}`,
    ok: sWaybill.rssMiB <= GOALS.rssMiB,
  });

  // (f): in-process vs worker threads, whatever the default policy picks on this machine.
  const workerRuns: Record<string, unknown> = {};
  for (const [label, ref, runs] of [
    ['fixture', `oci:${fixture.ociDir}:latest`, 3],
    ['synthetic', `oci:${synthetic}:latest`, 2],
  ] as const) {
    const measured: Record<string, { seconds: number; rssMiB: number }> = {};
    for (const workers of ['1', '2']) {
      log(`${label}: waybill --workers ${workers}…`);
      measured[workers] = await waybillSbom(ref, runs, ['--workers', workers]);
    }
    const one = measured['1'] as { seconds: number; rssMiB: number };
    const two = measured['2'] as { seconds: number; rssMiB: number };
    workerRuns[label] = measured;
    rows.push({
      what: `${label}: workers 1 → 2: s, peak RSS MiB`,
      value: `${one.seconds.toFixed(2)} → ${two.seconds.toFixed(2)}, ${one.rssMiB.toFixed(0)} → ${two.rssMiB.toFixed(0)}`,
      goal: `(${(two.seconds / one.seconds).toFixed(2)}× time)`,
    });
  }
  results.workers = workerRuns;

  // (g): dpkg memory on a 30 MiB status file.
  const dpkgInput = await ensureDpkgStatus();
  if ('unavailable' in dpkgInput) {
    rows.push({ what: 'dpkg 30 MiB status', value: 'n/a', goal: dpkgInput.unavailable });
  } else {
    log('dpkg: cataloger and waybill sbom on a 30 MiB status file…');
    const inputMiB = (await readFile(dpkgInput.status)).length / MiB;
    const base = await dpkgCatalogerRss(dpkgInput.status, true);
    const cataloger = await dpkgCatalogerRss(dpkgInput.status, false);
    if (cataloger.code !== 0) throw new Error(`dpkg cataloger exited ${cataloger.code}: ${cataloger.stderr}`);
    const cli = await waybillSbom(`file:${dpkgInput.tarball}`, 1);
    const over = (cataloger.rssMiB ?? 0) - (base.rssMiB ?? 0);
    results.dpkg = {
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
      value: `${cli.seconds.toFixed(2)}, ${cli.rssMiB.toFixed(0)}`,
      goal: '',
    });
  }

  // (h), (i): `waybill db import` and `waybill audit` (issue 11).
  const audit = await benchAudit(log);
  rows.push(...audit.rows);
  results.audit = audit.results;
}

/**
 * (j): `waybill check` of a stamped copy of the fixture's OCI layout, which hashes every blob the
 * record is bound to, against `sha256sum` over the same blobs (manifest, config, layers) in one run.
 * Best of 5 each; the copy is stamped once, without a source, so check exits 1 (signed-source).
 */
async function integrityRows(fixture: Fixture, rows: Row[], results: Record<string, unknown>): Promise<void> {
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
  const manifest = JSON.parse(await readFile(blob(image.digest), 'utf8')) as OciManifest & {
    config: { digest: string };
  };
  return [image.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)].map(blob);
}

async function blobBytes(files: string[]): Promise<number> {
  let total = 0;
  for (const file of files) total += (await stat(file)).size;
  return total;
}

/** `--only sbom` runs (a)–(i), `--only integrity` runs (j); default: everything. */
function onlySection(argv: string[]): 'sbom' | 'integrity' | undefined {
  const at = argv.indexOf('--only');
  if (at < 0) return undefined;
  const name = argv[at + 1];
  if (name !== 'sbom' && name !== 'integrity') throw new Error(`--only takes sbom or integrity, not ${name}`);
  return name;
}

async function main(): Promise<void> {
  const only = onlySection(process.argv.slice(2));
  const fixture = await buildFixtureImage(DEFAULT_CACHE_DIR, log);
  if ('skip' in fixture) throw new Error(`fixture image not available: ${fixture.skip}`);
  const rows: Row[] = [];
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    node: process.version,
    ...(only ? { only } : {}),
  };
  // 1-minute load average before and after: a shared machine makes every timing here noisy.
  const loadBefore = loadavg()[0] ?? 0;
  if (only !== 'integrity') await sbomAndAuditRows(fixture, rows, results);
  if (only !== 'sbom') await integrityRows(fixture, rows, results);

  results.goals = GOALS;
  results.table = rows;
  const loadAfter = loadavg()[0] ?? 0;
  results.loadAverage = { before: loadBefore, after: loadAfter };
  // A run of one section writes its own file, so it does not replace a whole run's results.
  const output = join(CACHE, only ? `bench-${only}.json` : 'bench.json');
  await writeFile(output, `${JSON.stringify(results, null, 2)}\n`);

  const w = Math.max(...rows.map((r) => r.what.length));
  const blobs = await layerBlobs(fixture.ociDir);
  process.stdout.write(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, node ${process.version}; fixture ${blobs.files.length} layers (${(blobs.compressed / MiB).toFixed(0)} MiB gzip)\n`,
  );
  for (const r of rows)
    process.stdout.write(
      `${r.what.padEnd(w)}  ${r.value.padStart(8)}  ${r.goal}${r.ok === undefined ? '' : r.ok ? '  ok' : '  MISSED'}\n`,
    );
  process.stdout.write(
    `1-min load average: ${loadBefore.toFixed(2)} before the run (other work), ${loadAfter.toFixed(2)} after (includes the benchmark itself)\n`,
  );
  process.stdout.write(`written: ${output}\n`);
}

await main();
