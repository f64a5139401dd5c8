/**
 * End to end through the real CLI: a download site that drips its bytes (slow-loris), and a download
 * killed midway. A body that arrives below the minimum rate (WAYBILL_HTTP_MIN_RATE) ends in one line
 * naming the URL, exit 2; the temp file a killed download left in the user cache is removed by the
 * next download, which completes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sha256Digest } from '../../src/util/digest.ts';
import { startWaybill, waybill } from '../helpers/cli.ts';
import { type ScriptedServer, serveScripted } from '../helpers/scripted-server.ts';

const SIZE = 3_000_000;
/** Past the atomic writer's 1 MiB batch: some of it reaches the temp file. */
const PART = 2_000_000;
const artifact = Buffer.alloc(SIZE, 'waybill\n');
const sums = `${sha256Digest(artifact).slice('sha256:'.length)}  hello.txt\n`;

/** How the server sends hello.txt: whole, one byte every 100 ms, or a part of it and then nothing. */
let mode: 'whole' | 'drip' | 'part' = 'whole';
let server: ScriptedServer;
let dir: string;
let base: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'waybill-hostile-http-'));
  server = await serveScripted((req, res) => {
    if (req.url === '/hello/1.0/SHA256SUMS') {
      res.end(sums);
      return;
    }
    if (req.url !== '/hello/1.0/hello.txt') {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.writeHead(200, { 'content-length': String(SIZE) });
    if (mode === 'whole') {
      res.end(artifact);
      return;
    }
    if (mode === 'part') {
      res.write(artifact.subarray(0, PART));
      return;
    }
    let sent = 0;
    const timer = setInterval(() => res.write(artifact.subarray(sent, ++sent)), 100);
    res.on('close', () => clearInterval(timer));
  });
  base = server.origin;
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a body dripped below the minimum rate: one line naming the URL, exit 2', async () => {
  mode = 'drip';
  const url = `${base}/hello/1.0/hello.txt`;
  const r = await waybill(['inspect', url], {
    env: { XDG_CACHE_HOME: join(dir, 'drip-cache'), WAYBILL_HTTP_MIN_RATE: '1024/1' },
    timeoutMs: 15_000,
  });
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `^waybill: ${url.replace(/[.]/g, '\\.')} sent \\d+ bytes in [\\d.]+ s, below the minimum of 1024 bytes/s \\(WAYBILL_HTTP_MIN_RATE\\)$`,
      'm',
    ),
  );
  // Nothing of the partial download stays in the cache.
  const digestDir = join(dir, 'drip-cache', 'waybill', 'releases', 'sha256', sha256Digest(artifact).slice(7));
  assert.deepEqual(readdirSync(digestDir), []);
});

test('a malformed WAYBILL_HTTP_MIN_RATE: one line naming it, exit 2', async () => {
  mode = 'whole';
  const r = await waybill(['inspect', `${base}/hello/1.0/hello.txt`], {
    env: { XDG_CACHE_HOME: join(dir, 'bad-cache'), WAYBILL_HTTP_MIN_RATE: '1k/s' },
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^waybill: WAYBILL_HTTP_MIN_RATE: not BYTES_PER_SECOND\[\/WINDOW_SECONDS\]/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});

test('a download killed midway: the next run removes its temp file and completes', async () => {
  mode = 'part';
  const cache = join(dir, 'killed-cache');
  const digestDir = join(cache, 'waybill', 'releases', 'sha256', sha256Digest(artifact).slice(7));
  const env = { XDG_CACHE_HOME: cache };
  const running = startWaybill(['inspect', `${base}/hello/1.0/hello.txt`], { env, timeoutMs: 30_000 });
  const temps = () =>
    (() => {
      try {
        return readdirSync(digestDir).filter((n) => n.startsWith('.hello.txt.waybill-'));
      } catch {
        return [];
      }
    })();
  // Bytes have reached the temp file: the download is under way.
  for (let i = 0; i < 300; i++) {
    const [name] = temps();
    if (name && statSync(join(digestDir, name)).size > 0) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  running.child.kill('SIGKILL');
  await running.result;
  const left = temps();
  assert.equal(left.length, 1, 'the killed download left its temp file');
  assert.ok(statSync(join(digestDir, left[0] as string)).size > 0, 'it was killed midway');
  assert.match(
    left[0] as string,
    new RegExp(`^\\.hello\\.txt\\.waybill-${running.child.pid}-[0-9a-f]{16}\\.tmp$`),
  );

  mode = 'whole';
  const r = await waybill(['inspect', `${base}/hello/1.0/hello.txt`], { env, timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(digestDir), ['hello.txt']);
  assert.deepEqual(readFileSync(join(digestDir, 'hello.txt')), artifact);
});
