/**
 * Builds the real container image the SBOM correctness test and the benchmark read, and its ground
 * truth from the reference tools (dpkg-query, npm ls, go version -m, Python's email parser).
 *
 * Layer 1: a Debian bookworm root filesystem from debootstrap (dpkg database, Python dist-packages).
 * Layer 2: an npm project in /opt/app and the Go executable `lefthook` in /usr/local/bin.
 * Packed with umoci (gzip layers, an OCI layout) and copied by skopeo into a docker-archive.
 *
 * Everything lands in test/fixtures/cache/image (gitignored). Each step builds into a `.partial`
 * name and renames when done, so an interrupted build resumes at the step it was in and a finished
 * one is never rebuilt.
 *
 * Usage: npx node scripts/build-fixture-image.ts   (as root; needs network for debootstrap and npm)
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { withCacheLock } from './cache-lock.ts';

const execFileAsync = promisify(execFile);

export const DEFAULT_CACHE_DIR = fileURLToPath(new URL('../test/fixtures/cache/image', import.meta.url));

export interface FixtureImage {
  /** `docker-archive` tarball (uncompressed layers, as skopeo writes them). */
  dockerArchive: string;
  /** OCI image layout with gzip layers (umoci's output); reference `oci:DIR:latest`. */
  ociDir: string;
  /** Layer 1 as a directory (the debootstrap root filesystem). */
  rootfs: string;
  /** Path of truth.json. */
  truth: string;
}

/** What the reference tools say is in the image, per ecosystem, as sorted `name@version` keys. */
export interface FixtureTruth {
  /** `name:arch@version` of every installed dpkg package. */
  deb: string[];
  /** `name@version` of every package `npm ls --all` shows (the project root excluded). */
  npm: string[];
  /** `module@version` of every dependency module of the Go binary (replacements applied). */
  golang: string[];
  /** Normalized (PEP 503) `name@version` of every installed distribution. */
  pypi: string[];
  /** Components a correct SBOM may add beyond the truth: the npm project, Go main module, stdlib. */
  allowedExtras: { npm: string[]; golang: string[] };
}

export const NPM_PACKAGES = ['express@4', '@types/node', 'chalk@4'];
const DEBIAN_MIRROR = 'http://deb.debian.org/debian';

export type Log = (line: string) => void;

export async function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; log?: Log } = {},
): Promise<string> {
  opts.log?.(`$ ${cmd} ${args.join(' ')}`);
  try {
    const { stdout } = await execFileAsync(cmd, args, {
      cwd: opts.cwd,
      maxBuffer: 256 * 1024 * 1024,
      env: { ...process.env, LC_ALL: 'C' },
    });
    return stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string; stdout?: string };
    const detail = (err.stderr || err.stdout || err.message).trim().split('\n').slice(-5).join(' | ');
    throw new Error(`${cmd} ${args[0] ?? ''} failed: ${detail}`);
  }
}

/** Runs a long command with its output streamed to the log (debootstrap takes minutes). */
export function runStreaming(cmd: string, args: string[], log: Log): Promise<void> {
  log(`$ ${cmd} ${args.join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
    let tail = '';
    const keep = (d: Buffer) => {
      tail = (tail + d.toString()).slice(-2000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${cmd} exited ${code}: ${tail.trim().split('\n').slice(-3).join(' | ')}`)),
    );
  });
}

export async function hasCommand(name: string): Promise<boolean> {
  try {
    await execFileAsync('sh', ['-c', `command -v ${name}`]);
    return true;
  } catch {
    return false;
  }
}

/** Runs `build` into `final.partial` and renames it to `final` — unless `final` already exists. */
export async function step(final: string, build: (partial: string) => Promise<void>): Promise<void> {
  if (existsSync(final)) return;
  const partial = `${final}.partial`;
  await build(partial);
  await rename(partial, final);
}

async function buildRootfs(rootfs: string, log: Log): Promise<void> {
  await step(rootfs, async (partial) => {
    // debootstrap resumes poorly from a half-written target; start clean.
    await rm(partial, { recursive: true, force: true });
    await runStreaming(
      'debootstrap',
      ['--variant=minbase', '--include=python3-six,python3-idna,curl', 'bookworm', partial, DEBIAN_MIRROR],
      log,
    );
    await removeDownloadedDebs(partial);
  });
}

export async function removeDownloadedDebs(rootfs: string): Promise<void> {
  const archives = join(rootfs, 'var/cache/apt/archives');
  for (const name of await readdir(archives).catch(() => [] as string[]))
    if (name.endsWith('.deb')) await rm(join(archives, name));
}

async function buildAppLayer(layer: string, log: Log): Promise<void> {
  await step(layer, async (partial) => {
    await rm(partial, { recursive: true, force: true });
    const scratch = await mkdtemp(join(tmpdir(), 'waybill-fixture-npm-'));
    try {
      const app = join(scratch, 'app');
      await mkdir(app);
      await writeFile(
        join(app, 'package.json'),
        `${JSON.stringify({ name: 'fixture-app', version: '1.0.0', private: true }, null, 2)}\n`,
      );
      await run('npm', ['install', '--no-audit', '--no-fund', '--save', ...NPM_PACKAGES], { cwd: app, log });
      const packed = (
        await run('npm', ['pack', '--silent', 'lefthook-linux-x64'], { cwd: scratch, log })
      ).trim();
      const tarball = packed.split('\n').pop() ?? '';
      await run('tar', ['-xzf', join(scratch, tarball), '-C', scratch, 'package/bin/lefthook'], { log });
      await mkdir(join(partial, 'opt'), { recursive: true });
      await cp(app, join(partial, 'opt/app'), { recursive: true, verbatimSymlinks: true });
      await mkdir(join(partial, 'usr/local/bin'), { recursive: true });
      await copyFile(join(scratch, 'package/bin/lefthook'), join(partial, 'usr/local/bin/lefthook'));
      await run('chmod', ['0755', join(partial, 'usr/local/bin/lefthook')]);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
}

/**
 * An OCI layout (tag `latest`, linux/amd64, gzip layers) with one layer per directory, each inserted
 * at `/`, then a whiteout layer for each of `whiteouts`.
 */
export async function buildOciLayout(
  ociDir: string,
  layers: string[],
  log: Log,
  whiteouts: string[] = [],
): Promise<void> {
  await step(ociDir, async (partial) => {
    await rm(partial, { recursive: true, force: true });
    const image = `${partial}:latest`;
    await run('umoci', ['init', '--layout', partial], { log });
    await run('umoci', ['new', '--image', image], { log });
    await run('umoci', ['config', '--image', image, '--architecture', 'amd64', '--os', 'linux'], { log });
    for (const layer of layers) await run('umoci', ['insert', '--image', image, layer, '/'], { log });
    for (const path of whiteouts)
      await run('umoci', ['insert', '--image', image, '--whiteout', path], { log });
    await run('umoci', ['gc', '--layout', partial], { log });
  });
}

async function buildDockerArchive(archive: string, ociDir: string, log: Log): Promise<void> {
  if (existsSync(archive)) return;
  const partial = `${archive}.partial`;
  await rm(partial, { force: true });
  await run(
    'skopeo',
    ['copy', '--quiet', `oci:${ociDir}:latest`, `docker-archive:${partial}:fixture:latest`],
    { log },
  );
  await rename(partial, archive);
}

// ---- ground truth -------------------------------------------------------------------------------

const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();

async function debTruth(rootfs: string): Promise<string[]> {
  const out = await run('dpkg-query', [
    `--admindir=${join(rootfs, 'var/lib/dpkg')}`,
    '-W',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own ${field} format syntax
    '-f=${db:Status-Status} ${Package}:${Architecture} ${Version}\\n',
  ]);
  const keys: string[] = [];
  for (const line of out.split('\n')) {
    const [status, nameArch, version] = line.split(' ');
    if (status === 'installed' && nameArch && version) keys.push(`${nameArch}@${version}`);
  }
  return sorted(keys);
}

interface NpmLsNode {
  name?: string;
  version?: string;
  dependencies?: Record<string, NpmLsNode>;
}

async function npmTruth(appDir: string): Promise<{ deps: string[]; root: string }> {
  const tree = JSON.parse(await run('npm', ['ls', '--all', '--json'], { cwd: appDir })) as NpmLsNode;
  const keys: string[] = [];
  const visit = (deps: Record<string, NpmLsNode> | undefined) => {
    for (const [name, node] of Object.entries(deps ?? {})) {
      if (node.version) keys.push(`${name}@${node.version}`);
      visit(node.dependencies);
    }
  };
  visit(tree.dependencies);
  return { deps: sorted(keys), root: `${tree.name}@${tree.version}` };
}

/** Reads `go version -m` output: dependency modules (replacements applied), main module, stdlib. */
export function parseGoVersionM(text: string): { deps: string[]; extras: string[] } {
  const deps: string[] = [];
  const extras: string[] = [];
  const lines = text.split('\n');
  const goVersion = /^\S+: (go\S+)/.exec(lines[0] ?? '')?.[1];
  if (goVersion) extras.push(`stdlib@${goVersion.slice(2)}`);
  for (let i = 1; i < lines.length; i++) {
    const f = (lines[i] ?? '').trim().split('\t');
    if (f[0] === 'mod') extras.push(`${f[1]}@${f[2] ?? ''}`);
    if (f[0] !== 'dep') continue;
    const next = (lines[i + 1] ?? '').trim().split('\t');
    if (next[0] === '=>') {
      i++;
      // A directory replacement (`=> ../fork`, no version) keeps the replaced module's identity.
      const local = !next[2] || /^(\.{1,2}\/|\/)/.test(next[1] ?? '');
      deps.push(local ? `${f[1]}@${f[2]}` : `${next[1]}@${next[2]}`);
    } else deps.push(`${f[1]}@${f[2]}`);
  }
  return { deps: sorted(deps), extras: sorted(extras) };
}

/** PEP 503 normalization: case-folded, runs of `-`, `_`, `.` become one `-`. */
export const normalizePypiName = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '-');

async function pypiTruth(rootfs: string): Promise<string[]> {
  const usrLib = join(rootfs, 'usr/lib');
  const roots = (await readdir(usrLib)).filter((n) => n.startsWith('python3')).map((n) => join(usrLib, n));
  if (roots.length === 0) return [];
  // Debian ships `*.egg-info` both as directories (with PKG-INFO) and as single PKG-INFO files.
  const script = `
import sys, os, json, email.parser
out = []
for root in sys.argv[1:]:
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            if n.endswith('.dist-info') and os.path.isdir(p): meta = os.path.join(p, 'METADATA')
            elif n.endswith('.egg-info') and os.path.isdir(p): meta = os.path.join(p, 'PKG-INFO')
            elif n.endswith('.egg-info') and os.path.isfile(p): meta = p
            else: continue
            if not os.path.isfile(meta): continue
            with open(meta, encoding='utf-8', errors='surrogateescape') as fh:
                m = email.parser.Parser().parse(fh, headersonly=True)
            out.append([m['Name'], m['Version']])
print(json.dumps(out))
`;
  const pairs = JSON.parse(await run('python3', ['-c', script, ...roots])) as Array<[string, string]>;
  return sorted(pairs.map(([name, version]) => `${normalizePypiName(name)}@${version}`));
}

async function computeTruth(rootfs: string, layer: string): Promise<FixtureTruth> {
  const npm = await npmTruth(join(layer, 'opt/app'));
  const go = parseGoVersionM(await run('go', ['version', '-m', join(layer, 'usr/local/bin/lefthook')]));
  return {
    deb: await debTruth(rootfs),
    npm: npm.deps,
    golang: go.deps,
    pypi: await pypiTruth(rootfs),
    allowedExtras: { npm: [npm.root], golang: go.extras },
  };
}

// ---- entry points -------------------------------------------------------------------------------

/** Why the image cannot be built here, or undefined when it can. */
async function missingPrerequisite(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'building the fixture image needs root (debootstrap, umoci insert)';
  for (const tool of ['debootstrap', 'umoci', 'skopeo', 'npm', 'go', 'dpkg-query', 'python3', 'tar'])
    if (!(await hasCommand(tool))) return `${tool} is not installed`;
  return undefined;
}

/**
 * Builds (or finds cached) the fixture image. Returns `{ skip }` with the reason when this machine
 * cannot build it (not root, a tool missing, no Debian mirror or npm registry).
 */
export async function buildFixtureImage(
  cacheDir = DEFAULT_CACHE_DIR,
  log: Log = () => {},
): Promise<FixtureImage | { skip: string }> {
  await mkdir(dirname(cacheDir), { recursive: true });
  return withCacheLock(`${cacheDir}.lock`, () => buildFixtureImageLocked(cacheDir, log));
}

async function buildFixtureImageLocked(cacheDir: string, log: Log): Promise<FixtureImage | { skip: string }> {
  const paths: FixtureImage = {
    dockerArchive: join(cacheDir, 'image.tar'),
    ociDir: join(cacheDir, 'oci'),
    rootfs: join(cacheDir, 'rootfs'),
    truth: join(cacheDir, 'truth.json'),
  };
  if (existsSync(paths.dockerArchive) && existsSync(paths.truth) && existsSync(paths.ociDir)) return paths;
  const missing = await missingPrerequisite();
  if (missing) return { skip: missing };
  const layer = join(cacheDir, 'layer2');
  await mkdir(cacheDir, { recursive: true });
  try {
    await buildRootfs(paths.rootfs, log);
  } catch (e) {
    return { skip: `debootstrap failed (no Debian mirror?): ${(e as Error).message}` };
  }
  try {
    await buildAppLayer(layer, log);
  } catch (e) {
    return { skip: `npm layer failed (no npm registry?): ${(e as Error).message}` };
  }
  await buildOciLayout(paths.ociDir, [paths.rootfs, layer], log);
  await buildDockerArchive(paths.dockerArchive, paths.ociDir, log);
  if (!existsSync(paths.truth)) {
    const truth = await computeTruth(paths.rootfs, layer);
    await writeFile(`${paths.truth}.tmp`, `${JSON.stringify(truth, null, 2)}\n`);
    await rename(`${paths.truth}.tmp`, paths.truth);
  }
  return paths;
}

export async function readTruth(path: string): Promise<FixtureTruth> {
  return JSON.parse(await readFile(path, 'utf8')) as FixtureTruth;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await buildFixtureImage(DEFAULT_CACHE_DIR, (line) => process.stderr.write(`${line}\n`));
  if ('skip' in result) {
    process.stderr.write(`fixture image not built: ${result.skip}\n`);
    process.exitCode = 1;
  } else {
    const truth = await readTruth(result.truth);
    process.stdout.write(
      `${JSON.stringify({ ...result, counts: { deb: truth.deb.length, npm: truth.npm.length, golang: truth.golang.length, pypi: truth.pypi.length } }, null, 2)}\n`,
    );
  }
}
