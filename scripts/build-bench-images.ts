/**
 * Builds the benchmark's images (issue 9 item 8) from real content, in three sizes, each as four
 * inputs: an OCI layout with gzip layers, the same layout with zstd layers, a docker-archive and the
 * merged root filesystem as a directory (`dir:`).
 *
 *   small   the SBOM fixture image (scripts/build-fixture-image.ts): Debian bookworm minbase with
 *           Python and curl, an npm project and a Go executable; 2 layers, ~230 MiB
 *   medium  ~850 MB in 3 layers: Debian with a JRE, git and Go programs from Debian (rclone, restic,
 *           gh); a Next.js web app with its node_modules (Rust and Go executables from npm: next's
 *           swc, esbuild, lefthook); a config layer with a whiteout
 *   large   >= 3 GB in 12 layers, >= 100 000 files: Debian with a JDK, build-essential, golang-go,
 *           nodejs, containerd, hugo…; a copy of the Go toolchain in /usr/local/go (as golang's own
 *           images have); nine npm projects (Next.js, Angular, webpack/Babel, ESLint/TypeScript, Jest,
 *           the AWS SDK, MUI, Vite/SWC, date libraries); a config layer with a whiteout
 *
 * Debian content comes from debootstrap (packages installed for real: dpkg database, copyright
 * files, maintainer scripts run), npm content from `npm install --ignore-scripts` (no postinstall
 * downloads). umoci packs the layers (gzip); the zstd layout is the same layers recompressed with
 * `zstd -3`, its manifest's media types rewritten (the config and its diff_ids are unchanged);
 * skopeo copies the gzip layout to the docker-archive (uncompressed layers, as skopeo writes them);
 * `umoci raw unpack` extracts the merged root filesystem.
 *
 * Everything lands in test/fixtures/cache/bench (gitignored), built once. Each step builds into a
 * `.partial` name and renames when done, so an interrupted build resumes at the step it was in.
 *
 * Usage (as root; needs the Debian mirror and the npm registry on first build):
 *   node scripts/build-bench-images.ts [small] [medium] [large]      (default: all three)
 */

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { link, mkdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildFixtureImage,
  buildOciLayout,
  DEFAULT_CACHE_DIR as FIXTURE_DIR,
  hasCommand,
  type Log,
  removeDownloadedDebs,
  run,
  runStreaming,
  step,
} from './build-fixture-image.ts';

export const BENCH_DIR = fileURLToPath(new URL('../test/fixtures/cache/bench', import.meta.url));
const DEBIAN_MIRROR = 'http://deb.debian.org/debian';

export type BenchSize = 'small' | 'medium' | 'large';
export const BENCH_SIZES: readonly BenchSize[] = ['small', 'medium', 'large'];

export interface BenchImage {
  size: BenchSize;
  /** OCI layout, gzip layers; reference `oci:DIR:latest`. */
  ociGzip: string;
  /** The same image with zstd layers. */
  ociZstd: string;
  /** docker-archive tarball (uncompressed layers). */
  dockerArchive: string;
  /** The merged root filesystem, for `dir:`. */
  rootfs: string;
}

// ---- content ------------------------------------------------------------------------------------

const MEDIUM_DEBS = [
  'python3-six',
  'python3-idna',
  'python3-requests',
  'python3-yaml',
  'curl',
  'ca-certificates',
  'default-jre-headless',
  'git',
  'rclone',
  'restic',
  'gh',
];

const LARGE_DEBS = [
  ...MEDIUM_DEBS,
  'default-jdk-headless',
  'build-essential',
  'golang-go',
  'nodejs',
  'python3-numpy',
  'containerd',
  'runc',
  'hugo',
  'vim',
  'openssh-client',
];

/** npm projects, one layer each: a directory under /opt and the packages installed there. */
const NPM_PROJECTS: Record<string, string[]> = {
  web: ['next@15', 'react@19', 'react-dom@19', 'lefthook@1', 'esbuild@0.25'],
  angular: ['@angular/cli@19', '@angular/core@19', '@angular/common@19', 'rxjs@7', 'zone.js'],
  bundler: ['webpack@5', 'webpack-cli@6', 'babel-loader@9', '@babel/core@7', '@babel/preset-env@7'],
  lint: ['eslint@9', 'typescript@5', 'typescript-eslint@8', 'prettier@3'],
  test: ['jest@29', 'ts-jest@29', '@types/jest@29', 'jsdom@26'],
  aws: ['aws-sdk@2', '@aws-sdk/client-s3@3', '@aws-sdk/client-dynamodb@3'],
  ui: ['@mui/material@6', '@mui/icons-material@6', '@emotion/react@11', '@emotion/styled@11'],
  vite: ['vite@6', '@vitejs/plugin-react@4', '@swc/core@1', 'rollup@4', 'sass@1'],
  dates: ['date-fns@4', 'moment@2', 'moment-timezone@0.5', 'lodash@4', 'luxon@3', 'core-js@3'],
};

// ---- building blocks ----------------------------------------------------------------------------

async function debootstrap(target: string, packages: string[], log: Log): Promise<void> {
  const cache = join(BENCH_DIR, 'debs');
  await mkdir(cache, { recursive: true });
  await step(target, async (partial) => {
    await rm(partial, { recursive: true, force: true });
    await runStreaming(
      'debootstrap',
      [
        '--variant=minbase',
        `--cache-dir=${cache}`,
        `--include=${packages.join(',')}`,
        'bookworm',
        partial,
        DEBIAN_MIRROR,
      ],
      log,
    );
    await removeDownloadedDebs(partial);
  });
}

/** One npm project as a layer directory: /opt/NAME with its package.json and node_modules. */
async function npmProject(name: string, log: Log): Promise<string> {
  const layer = join(BENCH_DIR, 'src', `npm-${name}`);
  await step(layer, async (partial) => {
    await rm(partial, { recursive: true, force: true });
    const app = join(partial, 'opt', name);
    await mkdir(app, { recursive: true });
    await writeFile(
      join(app, 'package.json'),
      `${JSON.stringify({ name: `bench-${name}`, version: '1.0.0', private: true }, null, 2)}\n`,
    );
    await run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--save', ...(NPM_PROJECTS[name] ?? [])],
      { cwd: app, log },
    );
  });
  return layer;
}

/** The Go toolchain again at /usr/local/go, as the golang images lay it out. */
async function goLocalLayer(largeRootfs: string, log: Log): Promise<string> {
  const layer = join(BENCH_DIR, 'src', 'go-local');
  await step(layer, async (partial) => {
    await rm(partial, { recursive: true, force: true });
    // /usr/lib/go links to the versioned directory; resolve it inside the root filesystem.
    const target = await readlink(join(largeRootfs, 'usr/lib/go'));
    const goroot = join(largeRootfs, target.startsWith('/') ? target : join('usr/lib', target));
    await mkdir(join(partial, 'usr/local'), { recursive: true });
    await run('cp', ['-a', goroot, join(partial, 'usr/local/go')], { log });
  });
  return layer;
}

/** A last, small layer: the app's configuration, as a final `COPY` would add it. */
async function configLayer(size: BenchSize): Promise<string> {
  const layer = join(BENCH_DIR, 'src', `config-${size}`);
  await step(layer, async (partial) => {
    await rm(partial, { recursive: true, force: true });
    await mkdir(join(partial, 'etc/bench'), { recursive: true });
    await writeFile(
      join(partial, 'etc/bench/config.json'),
      `${JSON.stringify({ size, listen: ':8080', logLevel: 'info' }, null, 2)}\n`,
    );
  });
  return layer;
}

interface OciDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

const blobPath = (layout: string, digest: string) => join(layout, 'blobs', ...digest.split(':'));

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk);
  return `sha256:${hash.digest('hex')}`;
}

/** `gzip -dc IN | zstd -3 > OUT`, two processes joined by a pipe (no shell). */
function gzipToZstd(input: string, output: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const gunzip = spawn('gzip', ['-dc', input], { stdio: ['ignore', 'pipe', 'inherit'] });
    const zstd = spawn('zstd', ['-3', '-q', '-f', '-o', output], { stdio: ['pipe', 'inherit', 'inherit'] });
    gunzip.stdout.pipe(zstd.stdin);
    let pending = 2;
    const done = (what: string) => (code: number | null) => {
      if (code !== 0) reject(new Error(`${what} exited ${code} on ${input}`));
      else if (--pending === 0) resolve();
    };
    gunzip.on('error', reject).on('close', done('gzip -dc'));
    zstd.on('error', reject).on('close', done('zstd'));
  });
}

async function writeJsonBlob(layout: string, value: unknown): Promise<OciDescriptor & { mediaType: '' }> {
  const bytes = Buffer.from(JSON.stringify(value));
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  await writeFile(blobPath(layout, digest), bytes);
  return { mediaType: '', digest, size: bytes.length };
}

/** The gzip layout's image with every layer recompressed as zstd; config (diff_ids) unchanged. */
async function buildOciZstd(zstdDir: string, gzipDir: string, log: Log): Promise<void> {
  await step(zstdDir, async (partial) => {
    await rm(partial, { recursive: true, force: true });
    await mkdir(join(partial, 'blobs/sha256'), { recursive: true });
    const index = JSON.parse(await readFile(join(gzipDir, 'index.json'), 'utf8')) as {
      manifests: OciDescriptor[];
    };
    const top = index.manifests[0] as OciDescriptor;
    const manifest = JSON.parse(await readFile(blobPath(gzipDir, top.digest), 'utf8')) as {
      config: OciDescriptor;
      layers: OciDescriptor[];
    } & Record<string, unknown>;
    await link(blobPath(gzipDir, manifest.config.digest), blobPath(partial, manifest.config.digest));
    const layers: OciDescriptor[] = [];
    for (const layer of manifest.layers) {
      const tmp = join(partial, 'layer.tmp');
      log(`zstd: ${layer.digest}`);
      await gzipToZstd(blobPath(gzipDir, layer.digest), tmp);
      const digest = await sha256OfFile(tmp);
      const { size } = await stat(tmp);
      await run('mv', [tmp, blobPath(partial, digest)]);
      layers.push({ ...layer, mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest, size });
    }
    const written = await writeJsonBlob(partial, { ...manifest, layers });
    await writeFile(join(partial, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(
      join(partial, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [{ ...top, digest: written.digest, size: written.size }],
      }),
    );
  });
}

async function buildDockerArchive(archive: string, ociDir: string, name: string, log: Log): Promise<void> {
  if (existsSync(archive)) return;
  const partial = `${archive}.partial`;
  await rm(partial, { force: true });
  await run('skopeo', ['copy', '--quiet', `oci:${ociDir}:latest`, `docker-archive:${partial}:${name}`], {
    log,
  });
  await run('mv', [partial, archive]);
}

async function buildRootfs(rootfs: string, ociDir: string, log: Log): Promise<void> {
  await step(rootfs, async (partial) => {
    await rm(partial, { recursive: true, force: true });
    await run('umoci', ['raw', 'unpack', '--image', `${ociDir}:latest`, partial], { log });
  });
}

// ---- the three images ---------------------------------------------------------------------------

async function layersOf(size: Exclude<BenchSize, 'small'>, log: Log): Promise<string[]> {
  if (size === 'medium') {
    const rootfs = join(BENCH_DIR, 'src', 'debian-medium');
    await debootstrap(rootfs, MEDIUM_DEBS, log);
    return [rootfs, await npmProject('web', log), await configLayer(size)];
  }
  const rootfs = join(BENCH_DIR, 'src', 'debian-large');
  await debootstrap(rootfs, LARGE_DEBS, log);
  const layers = [rootfs, await goLocalLayer(rootfs, log)];
  for (const name of Object.keys(NPM_PROJECTS)) layers.push(await npmProject(name, log));
  layers.push(await configLayer(size));
  return layers;
}

async function missingTool(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'building the bench images needs root (debootstrap, umoci)';
  for (const tool of ['debootstrap', 'umoci', 'skopeo', 'npm', 'gzip', 'zstd', 'cp'])
    if (!(await hasCommand(tool))) return `${tool} is not installed`;
  return undefined;
}

/** Builds (or finds) one bench image in all four forms. */
export async function buildBenchImage(size: BenchSize, log: Log): Promise<BenchImage | { skip: string }> {
  const dir = join(BENCH_DIR, size);
  const image: BenchImage = {
    size,
    ociGzip: join(dir, 'oci-gzip'),
    ociZstd: join(dir, 'oci-zstd'),
    dockerArchive: join(dir, 'image.tar'),
    rootfs: join(dir, 'rootfs'),
  };
  if (size === 'small') {
    // The SBOM fixture itself, read in place.
    const fixture = await buildFixtureImage(FIXTURE_DIR, log);
    if ('skip' in fixture) return fixture;
    image.ociGzip = fixture.ociDir;
    image.dockerArchive = fixture.dockerArchive;
  }
  if ([image.ociGzip, image.ociZstd, image.dockerArchive, image.rootfs].every((p) => existsSync(p)))
    return image;
  const missing = await missingTool();
  if (missing) return { skip: missing };
  await mkdir(dir, { recursive: true });
  if (size !== 'small') {
    const layers = await layersOf(size, log);
    await buildOciLayout(image.ociGzip, layers, log, ['/var/cache/apt']);
    await buildDockerArchive(image.dockerArchive, image.ociGzip, `bench-${size}:latest`, log);
  }
  await buildOciZstd(image.ociZstd, image.ociGzip, log);
  await buildRootfs(image.rootfs, image.ociGzip, log);
  return image;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const log: Log = (line) => process.stderr.write(`${line}\n`);
  const asked = process.argv.slice(2);
  const sizes = asked.length === 0 ? BENCH_SIZES : asked;
  for (const size of sizes) {
    if (!BENCH_SIZES.includes(size as BenchSize)) throw new Error(`unknown size ${size}`);
    const result = await buildBenchImage(size as BenchSize, log);
    if ('skip' in result) {
      log(`${size}: not built: ${result.skip}`);
      process.exitCode = 1;
    } else log(`${size}: ${JSON.stringify(result)}`);
  }
}
