/**
 * A real registry for tests: Debian's `docker-registry` (distribution 2.8, which has no referrers
 * API) on 127.0.0.1, a free port and a temporary storage root, optionally behind htpasswd basic
 * auth (bcrypt entries written by `htpasswd` from apache2-utils). Started per test file, stopped
 * (and its storage removed) after; `restart()` keeps storage and port, for interrupted-push tests.
 *
 *   const registry = await startRegistry();            // or { auth: { username, password } }
 *   if ('skip' in registry) return t.skip(registry.skip);
 *   registry.ref('hello:1.0')                            // 'docker://127.0.0.1:PORT/hello:1.0'
 *   await registry.stop();
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { artifactManifestBytes } from '../../src/oci/artifact-manifest.ts';
import { WAYBILL_REFERRER_ANNOTATION } from '../../src/oci/layout.ts';
import { parseImageIndex, parseImageManifest } from '../../src/oci/parse.ts';
import { ARTIFACT_TYPE, type Descriptor, OCI_ANNOTATION } from '../../src/oci/types.ts';
import { serializeRecord } from '../../src/record/build.ts';
import type { ReleaseRecord } from '../../src/record/types.ts';
import { bufferSource, fileSource } from '../../src/registry/blobs.ts';
import type { RegistryOptions as ClientOptions } from '../../src/registry/client.ts';
import { openRepository } from '../../src/registry/repository.ts';
import { sha256Digest } from '../../src/util/digest.ts';

export interface TestRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  port: number;
  /** Storage root (blobs and repositories on disk). */
  root: string;
  auth?: { username: string; password: string };
  /** `docker://127.0.0.1:PORT/NAME` */
  ref(name: string): string;
  /** Lines the registry printed (for failure messages). */
  log(): string;
  /** Stops and starts it again on the same port and storage. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  auth?: { username: string; password: string };
}

function hasProgram(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A port the kernel just handed out (the registry binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function configYaml(root: string, port: number, htpasswd: string | undefined): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(root, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: waybill-test-secret',
    'health:',
    '  storagedriver:',
    '    enabled: false',
  ];
  if (htpasswd) lines.push('auth:', '  htpasswd:', '    realm: waybill-test', `    path: ${htpasswd}`);
  return `${lines.join('\n')}\n`;
}

/** GET /v2/ until it answers 200 or 401 (running), for up to `ms`. */
async function waitUntilReady(port: number, child: ChildProcess, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}`);
    const status = await new Promise<number>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/v2/', agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(0));
      req.setTimeout(1000, () => req.destroy());
    });
    if (status === 200 || status === 401) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`docker-registry on port ${port} did not become ready in ${ms} ms`);
}

export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry | { skip: string }> {
  if (!hasProgram('docker-registry'))
    return { skip: 'docker-registry is not installed (apt-get install docker-registry)' };
  if (options.auth && !hasProgram('htpasswd'))
    return { skip: 'htpasswd is not installed (apt-get install apache2-utils)' };
  const root = await mkdtemp(join(tmpdir(), 'waybill-registry-'));
  let htpasswd: string | undefined;
  if (options.auth) {
    htpasswd = join(root, 'htpasswd');
    // -B: bcrypt, the only hash distribution's htpasswd accepts; -i reads the password from stdin.
    execFileSync('htpasswd', ['-B', '-i', '-c', htpasswd, options.auth.username], {
      input: options.auth.password,
    });
  }
  let output = '';
  let child: ChildProcess | undefined;
  let port = 0;

  const launch = async (fixedPort?: number) => {
    for (let attempt = 0; attempt < 5; attempt++) {
      port = fixedPort ?? (await freePort());
      const config = join(root, 'config.yml');
      await writeFile(config, configYaml(root, port, htpasswd));
      const started = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
      started.stdout?.on('data', (d: Buffer) => {
        output += d.toString();
      });
      started.stderr?.on('data', (d: Buffer) => {
        output += d.toString();
      });
      try {
        await waitUntilReady(port, started);
        child = started;
        return;
      } catch (e) {
        started.kill('SIGKILL');
        // Another process took the port between freePort and bind: try another (not for restarts).
        if (fixedPort !== undefined && attempt >= 4) throw e;
        if (fixedPort === undefined && attempt >= 4) throw e;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };

  const halt = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGTERM');
      setTimeout(() => running.kill('SIGKILL'), 5000).unref();
    });
  };

  try {
    await launch();
  } catch (e) {
    await rm(root, { recursive: true, force: true });
    return {
      skip: `docker-registry did not start: ${(e as Error).message}; ${output.trim().split('\n').slice(-3).join(' | ')}`,
    };
  }
  const registry: TestRegistry = {
    get host() {
      return `127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    root,
    ...(options.auth ? { auth: options.auth } : {}),
    ref: (name) => `docker://127.0.0.1:${port}/${name}`,
    log: () => output,
    async restart() {
      await halt();
      await launch(port);
    },
    async stop() {
      await halt();
      await rm(root, { recursive: true, force: true });
    },
  };
  return registry;
}

/**
 * The environment of a CLI run that must not use the user's Docker configuration, credentials or
 * blob cache: an empty DOCKER_CONFIG (created here) and a cache under `tmp`.
 */
export function isolatedRegistryEnv(tmp: string): NodeJS.ProcessEnv {
  mkdirSync(join(tmp, 'docker-config'), { recursive: true });
  return {
    XDG_CACHE_HOME: join(tmp, 'cache'),
    DOCKER_CONFIG: join(tmp, 'docker-config'),
    REGISTRY_AUTH_FILE: '',
  };
}

/** `skopeo` with arguments, returning stdout; throws with its stderr on failure. */
export function skopeo(args: string[]): string {
  try {
    return execFileSync('skopeo', args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`skopeo ${args.join(' ')} failed: ${(err.stderr || err.message).trim()}`);
  }
}

export function hasSkopeo(): boolean {
  return hasProgram('skopeo');
}

/**
 * Pushes the image tagged `tag` in an OCI layout, and the attachments waybill wrote next to it
 * (index.json entries marked `vnd.waybill.referrer`), to `ref` with waybill's own client: blobs,
 * the image manifest under the tag of `ref`, then each attachment as a referrer. (`waybill copy` and
 * `publish` do this properly; tests need it before they exist.) Returns the attachments' digests.
 */
export async function pushLayout(
  layoutDir: string,
  tag: string,
  ref: string,
  options: ClientOptions,
): Promise<string[]> {
  const repo = openRepository(ref, options);
  const blob = (d: Descriptor) => join(layoutDir, 'blobs', 'sha256', d.digest.slice(7));
  const pushManifestBlobs = async (d: Descriptor) => {
    const bytes = await readFile(blob(d));
    const manifest = parseImageManifest(bytes, d.digest);
    for (const part of [manifest.config, ...manifest.layers])
      await repo.pushBlob(fileSource(blob(part), part.digest, part.size));
    return bytes;
  };
  const index = parseImageIndex(await readFile(join(layoutDir, 'index.json')), 'index.json');
  const image = index.manifests.find((d) => d.annotations?.[OCI_ANNOTATION.refName] === tag);
  if (!image) throw new Error(`no ${tag} in ${layoutDir}`);
  await repo.putManifest(repo.reference.tag ?? tag, await pushManifestBlobs(image), image.mediaType);
  const attached: string[] = [];
  for (const d of index.manifests) {
    if (d.annotations?.[WAYBILL_REFERRER_ANNOTATION] !== image.digest) continue;
    attached.push((await repo.pushReferrer(await pushManifestBlobs(d), d.mediaType)).descriptor.digest);
  }
  return attached;
}

/**
 * Pushes `record` as the newest record attachment (created 2999) of the image `ref` names, beside
 * what is there: what someone who can push to the repository, but not sign, could do.
 */
export async function pushNewerRecord(
  ref: string,
  options: ClientOptions,
  record: ReleaseRecord,
): Promise<void> {
  const repo = openRepository(ref, options);
  const payload = Buffer.from(serializeRecord(record));
  await repo.pushBlob(bufferSource(payload));
  await repo.pushBlob(bufferSource(Buffer.from('{}')));
  const subject = await repo.headManifest();
  if (!subject) throw new Error(`${ref}: no image to attach to`);
  await repo.pushReferrer(
    artifactManifestBytes({
      artifactType: ARTIFACT_TYPE.record,
      layers: [
        { mediaType: 'application/vnd.in-toto+json', digest: sha256Digest(payload), size: payload.length },
      ],
      subject,
      annotations: { [OCI_ANNOTATION.created]: '2999-01-01T00:00:00Z' },
    }),
  );
}
