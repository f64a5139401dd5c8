/**
 * The client against faults scripted by an in-process test server (test-server.ts, labelled TEST
 * ONLY): retries and backoff, Retry-After, lying registries, size limits, redirects and token
 * services on other hosts, and that credentials never appear anywhere they should not.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { isWaybillError } from '../errors.ts';
import { MEDIA_TYPE } from '../oci/types.ts';
import { sha256Digest } from '../util/digest.ts';
import { BlobCache } from './blob-cache.ts';
import { bufferSource } from './blobs.ts';
import type { RegistryOptions } from './client.ts';
import { type CredentialStore, explicitCredentials } from './credentials.ts';
import { MAX_MANIFEST_BYTES } from './manifests.ts';
import { openRepository, type Repository } from './repository.ts';
import { registryError, reply, startTestServer, type TestServer, testManifest } from './test-server.ts';

const PASSWORD = 'hunter2-Pa55';
const servers: TestServer[] = [];
let sleeps: number[] = [];
let cacheDir: string;

before(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'waybill-client-'));
});
after(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  sleeps = [];
});

async function serve(
  handler: Parameters<typeof startTestServer>[0],
  address?: string,
  tls?: Parameters<typeof startTestServer>[2],
): Promise<TestServer> {
  const server = await startTestServer(handler, address, tls);
  servers.push(server);
  return server;
}

function repoOn(server: TestServer, options: RegistryOptions = {}, tag = '1'): Repository {
  return openRepository(
    { registry: server.host, repository: 'app', tag },
    {
      insecure: true,
      credentials: options.credentials ?? { lookup: async () => undefined },
      retry: {
        sleep: async (ms) => {
          sleeps.push(ms);
        },
        random: () => 0.5,
        ...options.retry,
      },
      ...(options.trustedAuthHosts ? { trustedAuthHosts: options.trustedAuthHosts } : {}),
    },
  );
}

function creds(server: TestServer): CredentialStore {
  return explicitCredentials(server.host, { username: 'alice', password: PASSWORD });
}

const MANIFEST = testManifest();

function serveManifest(
  res: Parameters<typeof reply>[0],
  bytes = MANIFEST,
  type: string = MEDIA_TYPE.ociManifest,
) {
  reply(res, 200, bytes, { 'content-type': type, 'docker-content-digest': sha256Digest(bytes) });
}

/** Asserts `promise` rejects with one WaybillError line of `code` matching `pattern`, with no secret in it. */
async function rejectsWith(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(isWaybillError(e), String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    assert.doesNotMatch(e.message, /\n/);
    assert.ok(
      !e.message.includes(PASSWORD) &&
        !e.message.includes(Buffer.from(`alice:${PASSWORD}`).toString('base64')),
    );
    return true;
  });
}

test('retries: 5xx and a reset connection, then success; the backoff grows', async () => {
  let calls = 0;
  const server = await serve((_req, res) => {
    calls++;
    if (calls === 1) return reply(res, 503, registryError('UNAVAILABLE', 'busy'));
    if (calls === 2) return void res.socket?.destroy();
    if (calls === 3) return reply(res, 502, 'bad gateway');
    serveManifest(res);
  });
  const fetched = await repoOn(server).getManifest();
  assert.equal(fetched.digest, sha256Digest(MANIFEST));
  assert.equal(server.requests.length, 4);
  assert.deepEqual(sleeps, [188, 375, 750]);
});

test('retries: 429 with Retry-After is honoured; too long a wait is one line', async () => {
  let calls = 0;
  const server = await serve((_req, res) => {
    calls++;
    if (calls === 1)
      return reply(res, 429, registryError('TOOMANYREQUESTS', 'slow down'), { 'retry-after': '2' });
    serveManifest(res);
  });
  await repoOn(server).getManifest();
  assert.deepEqual(sleeps, [2000]);

  const patient = await serve((_req, res) => reply(res, 429, '', { 'retry-after': '3600' }));
  await rejectsWith(
    repoOn(patient).getManifest(),
    'NETWORK',
    /answered 429 and asks to retry after 3600 s \(waiting at most 60 s\)/,
  );
  assert.equal(patient.requests.length, 1);
});

test('retries are bounded: a registry that keeps failing is one line after 5 attempts', async () => {
  const server = await serve((_req, res) =>
    reply(res, 500, registryError('UNKNOWN', 'storage\u001b[2J down')),
  );
  await rejectsWith(
    repoOn(server).getManifest(),
    'NETWORK',
    /^docker:\/\/127\.0\.0\.1:\d+\/app:1: the registry answered 500 for manifest 1 after 5 attempts: UNKNOWN: storage \[2J down$/,
  );
  assert.equal(server.requests.length, 5);
  const closed = await serve((_req, res) => void res.socket?.destroy());
  await rejectsWith(repoOn(closed).getManifest(), 'NETWORK', /closed the connection \(after 5 attempts\)/);
  // Nothing listens: connection refused, retried, then one line.
  const port = closed.host.split(':')[1];
  await closed.close();
  const gone = openRepository(`docker://127.0.0.1:${port}/app:1`, {
    insecure: true,
    retry: { attempts: 2, sleep: async () => {} },
  });
  await rejectsWith(
    gone.getManifest(),
    'NETWORK',
    /cannot connect to 127\.0\.0\.1:\d+ \(connection refused\) \(after 2 attempts\)/,
  );
});

test('a blob whose bytes do not match its digest never reaches the cache', async () => {
  const good = Buffer.from('the real layer');
  const evil = Buffer.from('another layer!');
  const server = await serve((_req, res) => reply(res, 200, evil));
  const repo = repoOn(server);
  const cache = new BlobCache(cacheDir);
  const descriptor = { mediaType: MEDIA_TYPE.ociLayer, digest: sha256Digest(good), size: good.length };
  await rejectsWith(
    cache.fetch(descriptor, () => repo.openBlob(descriptor)),
    'DIGEST_MISMATCH',
    /digest is sha256:[0-9a-f]{64}, expected/,
  );
  await rejectsWith(repo.readBlob(descriptor, 1024), 'DIGEST_MISMATCH', /digest is/);
  // Declared size differs: refused before reading.
  const longer = { ...descriptor, size: good.length + 1 };
  await rejectsWith(repo.openBlob(longer), 'DIGEST_MISMATCH', /sends 14 bytes, the descriptor says 15/);
  assert.deepEqual(await readdir(join(cacheDir, 'blobs', 'sha256')), []);
});

test('manifests: the 4 MiB limit, digests stated by the registry, Content-Type against mediaType', async () => {
  const big = Buffer.alloc(MAX_MANIFEST_BYTES + 1, 0x20);
  const declared = await serve((_req, res) =>
    reply(res, 200, big, { 'content-type': MEDIA_TYPE.ociManifest }),
  );
  await rejectsWith(
    repoOn(declared).getManifest(),
    'LIMIT',
    /manifest 1 of 4194305 bytes is larger than the 4194304-byte limit/,
  );
  const chunked = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': MEDIA_TYPE.ociManifest });
    res.end(big);
  });
  await rejectsWith(repoOn(chunked).getManifest(), 'LIMIT', /larger than the 4194304-byte limit/);

  const lying = await serve((_req, res) =>
    reply(res, 200, MANIFEST, {
      'content-type': MEDIA_TYPE.ociManifest,
      'docker-content-digest': sha256Digest('x'),
    }),
  );
  await rejectsWith(repoOn(lying).getManifest(), 'DIGEST_MISMATCH', /sent content whose digest is/);
  const byDigest = await serve((_req, res) => serveManifest(res));
  await rejectsWith(repoOn(byDigest).getManifest(sha256Digest('other')), 'DIGEST_MISMATCH', /not sha256:/);

  const confused = await serve((_req, res) => serveManifest(res, MANIFEST, MEDIA_TYPE.ociIndex));
  await rejectsWith(
    repoOn(confused).getManifest(),
    'MALFORMED',
    /serves a .*index.* whose mediaType says .*manifest/,
  );
  const schema1 = await serve((_req, res) =>
    serveManifest(res, Buffer.from('{"schemaVersion":1}'), 'application/json'),
  );
  await rejectsWith(repoOn(schema1).getManifest(), 'UNSUPPORTED', /schema 1/);
  await rejectsWith(repoOn(byDigest).putManifest('1', big, MEDIA_TYPE.ociManifest), 'LIMIT', /larger than/);
});

test('redirects: the blob is fetched from another host without the credentials', async () => {
  const blob = Buffer.from('layer bytes served by a CDN');
  const cdn = await serve((_req, res) => reply(res, 200, blob), '127.0.0.2');
  const registry = await serve((req, res) => {
    if (!req.authorization) return reply(res, 401, '', { 'www-authenticate': 'Basic realm="test"' });
    reply(res, 307, '', { location: `${cdn.origin}/blob?X-Signature=abc` });
  });
  const repo = repoOn(registry, { credentials: creds(registry) });
  const descriptor = { mediaType: MEDIA_TYPE.ociLayer, digest: sha256Digest(blob), size: blob.length };
  assert.deepEqual(await repo.readBlob(descriptor, 1024), blob);
  assert.equal(
    registry.requests.at(-1)?.authorization,
    `Basic ${Buffer.from(`alice:${PASSWORD}`).toString('base64')}`,
  );
  assert.equal(cdn.requests.length, 1);
  assert.equal(cdn.requests[0]?.authorization, undefined);

  const sneaky = await serve((_req, res) =>
    reply(res, 302, '', { location: `http://alice:${PASSWORD}@127.0.0.2:1/x` }),
  );
  await rejectsWith(
    repoOn(sneaky).readBlob(descriptor, 1024),
    'AUTH',
    /the redirect target carries credentials in its URL; refused/,
  );
  const loop = await serve((_req, res) => reply(res, 302, '', { location: '/again' }));
  await rejectsWith(repoOn(loop).readBlob(descriptor, 1024), 'NETWORK', /more than 5 redirects/);
  // Manifests are not fetched through redirects: an unexpected one is an error that hides the query.
  const moved = await serve((_req, res) => reply(res, 301, '', { location: `${cdn.origin}/m?token=SECRET` }));
  await rejectsWith(
    repoOn(moved).getManifest(),
    'NETWORK',
    /unexpected redirect \(301\) for manifest 1 to http:\/\/127\.0\.0\.2:\d+\/m$/,
  );
});

/** A registry asking for Bearer tokens from `tokenServer`, accepting the token it issues. */
async function bearerRegistry(
  tokenOrigin: () => string,
  accept: (auth: string | undefined) => boolean = (auth) => auth === 'Bearer tok-1',
) {
  return serve((req, res) => {
    if (!accept(req.authorization))
      return reply(res, 401, registryError('UNAUTHORIZED', 'authentication required'), {
        'www-authenticate': `Bearer realm="${tokenOrigin()}/token",service="test-registry",scope="repository:app:pull"`,
      });
    serveManifest(res);
  });
}

test('bearer: the token flow with scopes, credentials sent to a token service on the same host', async () => {
  const tokens = await serve((_req, res) =>
    reply(res, 200, JSON.stringify({ token: 'tok-1', expires_in: 300 })),
  );
  const registry = await bearerRegistry(() => tokens.origin);
  const repo = repoOn(registry, { credentials: creds(registry) });
  await repo.getManifest();
  await repo.getManifest('1');
  // One token for both requests (cached), asked with service and scope, with the credentials.
  assert.equal(tokens.requests.length, 1);
  const asked = new URL(tokens.requests[0]?.url ?? '', tokens.origin);
  assert.equal(asked.searchParams.get('service'), 'test-registry');
  assert.deepEqual(asked.searchParams.getAll('scope'), ['repository:app:pull']);
  assert.equal(
    tokens.requests[0]?.authorization,
    `Basic ${Buffer.from(`alice:${PASSWORD}`).toString('base64')}`,
  );
  // The second request was authorized up front.
  assert.deepEqual(
    registry.requests.map((r) => r.authorization ?? '-'),
    ['-', 'Bearer tok-1', 'Bearer tok-1'],
  );
});

test('bearer: an identity token is exchanged with a POST (OAuth2 refresh grant); a registry token is used as it is', async () => {
  const tokens = await serve((req, res) => {
    const form = new URLSearchParams(req.body.toString());
    if (
      req.method !== 'POST' ||
      form.get('grant_type') !== 'refresh_token' ||
      form.get('refresh_token') !== 'refresh-me'
    )
      return reply(res, 401, '{}');
    reply(res, 200, JSON.stringify({ access_token: 'tok-1', expires_in: 60 }));
  });
  const registry = await bearerRegistry(() => tokens.origin);
  await repoOn(registry, {
    credentials: explicitCredentials(registry.host, { identityToken: 'refresh-me' }),
  }).getManifest();
  const form = new URLSearchParams(tokens.requests[0]?.body.toString());
  assert.equal(tokens.requests[0]?.headers['content-type'], 'application/x-www-form-urlencoded');
  assert.deepEqual(
    [form.get('service'), form.get('scope'), form.get('client_id'), tokens.requests[0]?.authorization],
    ['test-registry', 'repository:app:pull', 'waybill', undefined],
  );
  const direct = await bearerRegistry(() => tokens.origin);
  await repoOn(direct, {
    credentials: explicitCredentials(direct.host, { registryToken: 'tok-1' }),
  }).getManifest();
  assert.equal(tokens.requests.length, 1, 'no token request for a registry token');
});

test('bearer: a token service on another host gets no credentials; the refusal says why and how', async () => {
  const elsewhere = await serve(
    (_req, res) => reply(res, 200, JSON.stringify({ access_token: 'anon' })),
    '127.0.0.2',
  );
  const registry = await bearerRegistry(() => elsewhere.origin);
  await rejectsWith(
    repoOn(registry, { credentials: creds(registry) }).getManifest(),
    'AUTH',
    /refused access \(401: UNAUTHORIZED: authentication required\); its token service 127\.0\.0\.2:\d+ is on another site, so no credentials were sent there \(allow it with WAYBILL_REGISTRY_AUTH_HOSTS=127\.0\.0\.2:\d+\)/,
  );
  assert.ok(elsewhere.requests.length >= 1);
  for (const r of elsewhere.requests) assert.equal(r.authorization, undefined);
  // Public images still work: the anonymous token is accepted.
  const open = await bearerRegistry(
    () => elsewhere.origin,
    (auth) => auth === 'Bearer anon',
  );
  await repoOn(open, { credentials: creds(open) }).getManifest();
  // The user may trust that host explicitly.
  const before = elsewhere.requests.length;
  const trusted = await bearerRegistry(
    () => elsewhere.origin,
    (auth) => auth === 'Bearer anon',
  );
  await repoOn(trusted, { credentials: creds(trusted), trustedAuthHosts: ['127.0.0.2'] }).getManifest();
  assert.ok(elsewhere.requests.slice(before).some((r) => r.authorization?.startsWith('Basic ')));
});

test('auth failures are one line without the password', async () => {
  const basic = await serve((_req, res) =>
    reply(res, 401, registryError('UNAUTHORIZED', 'bad login'), { 'www-authenticate': 'Basic realm="x"' }),
  );
  await rejectsWith(
    repoOn(basic, { credentials: creds(basic) }).getManifest(),
    'AUTH',
    /the registry refused access \(401: UNAUTHORIZED: bad login\)/,
  );
  await rejectsWith(
    repoOn(basic).getManifest(),
    'AUTH',
    /asks for credentials and none are configured for 127\.0\.0\.1:\d+/,
  );
  const denied = await serve((_req, res) =>
    reply(res, 403, registryError('DENIED', 'requested access to the resource is denied')),
  );
  await rejectsWith(repoOn(denied).getManifest(), 'AUTH', /refused access \(403: DENIED/);
  const tokenRefused = await serve((_req, res) => reply(res, 401, '{}'));
  const registry = await bearerRegistry(() => tokenRefused.origin);
  await rejectsWith(
    repoOn(registry, { credentials: creds(registry) }).getManifest(),
    'AUTH',
    /token service refused the credentials for 127\.0\.0\.1:\d+ \(401\)/,
  );
  const anonymousTokens = await serve((_req, res) => reply(res, 200, JSON.stringify({ token: 'anonymous' })));
  const privateRepo = await bearerRegistry(() => anonymousTokens.origin);
  await rejectsWith(
    repoOn(privateRepo).getManifest(),
    'AUTH',
    /refused anonymous access \(401: UNAUTHORIZED: authentication required\); the repository may not exist, or needs credentials: none are configured for 127\.0\.0\.1:\d+/,
  );
  const noChallenge = await serve((_req, res) => reply(res, 401, ''));
  await rejectsWith(repoOn(noChallenge).getManifest(), 'AUTH', /401 without a WWW-Authenticate challenge/);
  const weird = await serve((_req, res) => reply(res, 401, '', { 'www-authenticate': 'Negotiate abc' }));
  await rejectsWith(
    repoOn(weird).getManifest(),
    'UNSUPPORTED',
    /unsupported authentication scheme \(negotiate\)/,
  );
  const badToken = await serve((_req, res) =>
    reply(res, 200, JSON.stringify({ token: 'has space\r\nX-Injected: 1' })),
  );
  const r2 = await bearerRegistry(() => badToken.origin);
  await rejectsWith(repoOn(r2).getManifest(), 'AUTH', /without a usable token/);
});

test('--insecure only for loopback registries', () => {
  assert.throws(
    () => openRepository('docker://registry.example/app:1', { insecure: true }),
    /--insecure \(plain http\) is allowed only for loopback registries/,
  );
});

test('transport: a plain http registry without --insecure, and an untrusted certificate, are one line', async () => {
  const plain = await serve((_req, res) => serveManifest(res));
  const noInsecure = openRepository(`docker://${plain.host}/app:1`, {
    credentials: { lookup: async () => undefined },
  });
  await rejectsWith(
    noInsecure.getManifest(),
    'NETWORK',
    /127\.0\.0\.1:\d+ does not answer https \(a plain http registry on this machine needs --insecure\)$/,
  );

  const dir = await mkdtemp(join(tmpdir(), 'waybill-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const tls = { key: await readFile(join(dir, 'key.pem')), cert: await readFile(join(dir, 'cert.pem')) };
    const selfSigned = await serve((_req, res) => serveManifest(res), '127.0.0.1', tls);
    const repo = openRepository(`docker://${selfSigned.host}/app:1`, {
      credentials: { lookup: async () => undefined },
    });
    await rejectsWith(
      repo.getManifest(),
      'NETWORK',
      /the TLS certificate of 127\.0\.0\.1:\d+ is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\); add its CA with NODE_EXTRA_CA_CERTS$/,
    );
    assert.equal(selfSigned.requests.length, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('chunked upload: a chunk lost in a reset resumes from the offset the registry reports', async () => {
  const blob = Buffer.alloc(10_000);
  for (let i = 0; i < blob.length; i++) blob[i] = (i * 7) % 251;
  let received = Buffer.alloc(0);
  let patches = 0;
  let stored: Buffer | undefined;
  const server = await serve((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (req.method === 'HEAD')
      return reply(res, stored ? 200 : 404, '', stored ? { 'content-length': String(stored.length) } : {});
    if (req.method === 'POST') return reply(res, 202, '', { location: '/v2/app/blobs/uploads/s1?state=a' });
    if (req.method === 'GET') return reply(res, 204, '', { range: `0-${Math.max(0, received.length - 1)}` });
    if (req.method === 'PATCH') {
      const start = Number(String(req.headers['content-range']).split('-')[0]);
      if (start !== received.length) return reply(res, 416);
      received = Buffer.concat([received, req.body]);
      // The second chunk is stored, but the answer is lost: the client cannot know it landed.
      if (++patches === 2) return void res.socket?.destroy();
      return reply(res, 202, '', {
        location: `/v2/app/blobs/uploads/s1?state=${patches}`,
        range: `0-${received.length - 1}`,
      });
    }
    if (req.method === 'PUT') {
      if (url.searchParams.get('digest') !== sha256Digest(received))
        return reply(res, 400, registryError('DIGEST_INVALID', 'bad'));
      stored = received;
      return reply(res, 201, '', { 'docker-content-digest': sha256Digest(received) });
    }
    reply(res, 405);
  });
  const result = await repoOn(server).pushBlob(bufferSource(blob), { chunkedAbove: 1000, chunkSize: 3000 });
  assert.equal(result, 'uploaded');
  assert.deepEqual(stored, blob);
  // 4 chunks, the lost one not sent again: the client asked where the upload stood.
  assert.equal(patches, 4);
  assert.equal(server.requests.filter((r) => r.method === 'GET').length, 1);
});
