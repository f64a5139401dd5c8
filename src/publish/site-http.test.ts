/**
 * Download-site faults a real static server will not produce on demand — 503s, a connection cut in
 * the middle of a file, compressed answers, a refusal, a redirect carrying credentials — scripted by
 * the TEST ONLY server of src/registry/test-server.ts (not a download site: every answer is written by
 * the test). Reading a healthy release directory is tested against a real static server
 * (release-read.test.ts, test/e2e/release-directory.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isWaybillError } from '../errors.ts';
import { reply, startTestServer, type TestServer } from '../registry/test-server.ts';
import { publishToReleaseDirectory } from './release-dir.ts';
import { openRelease } from './release-read.ts';
import { siteRead } from './site-http.ts';
import { sampleReleaseBundle } from './testing.ts';

const FAST = { retry: { attempts: 3, sleep: async () => {} } };
let tmp: string;
let root: string;
let server: TestServer;
/** Per path: how the next requests are to fail (consumed in order), then served from `root`. */
const faults = new Map<string, Array<'503' | 'cut' | 'gzip' | '403' | 'cred-redirect'>>();

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'waybill-site-http-'));
  root = join(tmp, 'releases');
  mkdirSync(root);
  mkdirSync(join(tmp, 'work'));
  await publishToReleaseDirectory(
    root,
    sampleReleaseBundle(join(tmp, 'work'), { content: 'x'.repeat(200_000) }),
  );
  server = await startTestServer((req, res) => {
    const fault = faults.get(req.url)?.shift();
    if (fault === '503') return reply(res, 503, 'busy', { 'retry-after': '0' });
    if (fault === '403') return reply(res, 403, 'no');
    if (fault === 'cred-redirect') return reply(res, 302, '', { location: 'http://user:pw@127.0.0.1:1/x' });
    let body: Buffer;
    try {
      body = readFileSync(join(root, ...req.url.split('/')));
    } catch {
      return reply(res, 404, 'not found');
    }
    if (fault === 'gzip') return reply(res, 200, body, { 'content-encoding': 'gzip' });
    if (fault === 'cut') {
      // Half the file, then the connection is dropped.
      res.writeHead(200, { 'content-length': String(body.length) });
      res.write(body.subarray(0, body.length >> 1), () => res.destroy());
      return;
    }
    reply(res, 200, body);
  });
});
after(async () => {
  await server.close();
  rmSync(tmp, { recursive: true, force: true });
});

const sums = () => new URL(`${server.origin}/hello/1.2.3/SHA256SUMS`);

test('503 and a body cut midway are retried; the file arrives whole', async () => {
  faults.set('/hello/1.2.3/SHA256SUMS', ['503', 'cut']);
  const bytes = await siteRead(sums(), 'sums', 'SHA256SUMS', 1 << 20, FAST);
  assert.deepEqual(bytes, readFileSync(join(root, 'hello', '1.2.3', 'SHA256SUMS')));
  faults.set('/hello/1.2.3/SHA256SUMS', ['503', '503', '503']);
  await assert.rejects(
    siteRead(sums(), 'sums', 'SHA256SUMS', 1 << 20, FAST),
    (e) =>
      isWaybillError(e) &&
      e.code === 'NETWORK' &&
      /answered 503 for SHA256SUMS after 3 attempts/.test(e.message),
  );
});

test('an artifact download cut midway starts again and is checked whole', async () => {
  faults.set('/hello/1.2.3/hello-1.2.3.tar', ['cut']);
  const opened = await openRelease(`${server.origin}/hello/1.2.3/hello-1.2.3.tar`, {
    cacheDir: join(tmp, 'cache'),
    site: FAST,
  });
  assert.equal(readFileSync(opened.artifactPath, 'utf8'), 'x'.repeat(200_000));
  assert.equal(server.requests.filter((r) => r.url === '/hello/1.2.3/hello-1.2.3.tar').length, 2);
});

test('refusals, encodings, limits and redirects carrying credentials are one line each', async () => {
  const cases: Array<[string, string, RegExp]> = [
    ['403', 'AUTH', /answered 403 for SHA256SUMS: release directories are read without credentials/],
    ['gzip', 'UNSUPPORTED', /sent SHA256SUMS with Content-Encoding gzip, not the file itself/],
    ['cred-redirect', 'AUTH', /the redirect target carries credentials in its URL; refused/],
  ];
  for (const [fault, code, message] of cases) {
    faults.set('/hello/1.2.3/SHA256SUMS', [fault as '403']);
    await assert.rejects(
      siteRead(sums(), 'sums', 'SHA256SUMS', 1 << 20, FAST),
      (e) => isWaybillError(e) && e.code === code && message.test(e.message) && !e.message.includes('pw@'),
      fault,
    );
  }
  await assert.rejects(
    siteRead(sums(), 'sums', 'SHA256SUMS', 10, FAST),
    (e) => isWaybillError(e) && e.code === 'LIMIT' && /larger than the 10-byte limit/.test(e.message),
  );
});
