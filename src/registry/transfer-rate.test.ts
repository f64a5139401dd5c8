import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { type ScriptedServer, serveScripted } from '../../test/helpers/scripted-server.ts';
import { isWaybillError } from '../errors.ts';
import { NetworkFailure, sendOnce } from './http.ts';
import { isRetryableFailure } from './retry.ts';
import { DEFAULT_MIN_RATE, minRateFromEnv } from './transfer-rate.ts';

const env = (value: string | undefined) => ({ WAYBILL_HTTP_MIN_RATE: value });

test('WAYBILL_HTTP_MIN_RATE: default, BYTES, BYTES/SECONDS, 0 for off', () => {
  assert.deepEqual(minRateFromEnv(env(undefined)), DEFAULT_MIN_RATE);
  assert.deepEqual(minRateFromEnv(env('')), DEFAULT_MIN_RATE);
  assert.deepEqual(DEFAULT_MIN_RATE, { bytesPerSecond: 1024, windowMs: 30_000 });
  assert.deepEqual(minRateFromEnv(env('4096')), { bytesPerSecond: 4096, windowMs: 30_000 });
  assert.deepEqual(minRateFromEnv(env('100/1.5')), { bytesPerSecond: 100, windowMs: 1500 });
  assert.equal(minRateFromEnv(env('0')), undefined);
  assert.equal(minRateFromEnv(env('0/10')), undefined);
});

test('WAYBILL_HTTP_MIN_RATE: anything else is one USAGE error naming the variable (fast-check)', () => {
  const valid = /^\d{1,12}(?:\/\d{1,6}(?:\.\d{1,3})?)?$/;
  fc.assert(
    fc.property(fc.string({ maxLength: 20 }), (raw) => {
      if (raw === '') return;
      let result: ReturnType<typeof minRateFromEnv>;
      try {
        result = minRateFromEnv(env(raw));
      } catch (e) {
        assert.ok(isWaybillError(e) && e.code === 'USAGE', String(e));
        assert.match(e.message, /^WAYBILL_HTTP_MIN_RATE: not BYTES_PER_SECOND/);
        assert.doesNotMatch(e.message, /\n/);
        return;
      }
      assert.match(raw, valid);
      if (result) {
        assert.ok(result.bytesPerSecond > 0 && result.windowMs > 0);
        assert.equal(result.bytesPerSecond, Number(raw.split('/')[0]));
      }
    }),
  );
  for (const bad of ['1k', '1024/0', '1024/', '/30', '-1', '1024/30/1', '1e3', ' 1024'])
    assert.throws(() => minRateFromEnv(env(bad)), /WAYBILL_HTTP_MIN_RATE/, bad);
});

let server: ScriptedServer;
let base: string;
const BIG = Buffer.alloc(4 * 1024 * 1024, 1);

before(async () => {
  server = await serveScripted((req, res) => {
    if (req.url === '/fast') {
      res.writeHead(200, { 'content-length': String(BIG.length) });
      res.end(BIG);
      return;
    }
    // One byte every 20 ms: 50 bytes/s.
    res.writeHead(200, { 'content-length': '1000000' });
    const timer = setInterval(() => res.write('x'), 20);
    res.on('close', () => clearInterval(timer));
  });
  base = server.origin;
});

after(() => server.close());

const rule = { bytesPerSecond: 1024, windowMs: 300 };

test('a body below the minimum rate is aborted after the window, naming the URL; not retried', async () => {
  const started = Date.now();
  const response = await sendOnce(
    { method: 'GET', url: new URL(`${base}/drip?sig=secret`) },
    { timeoutMs: 60_000, minRate: rule },
  );
  const error = await (async () => {
    for await (const _ of response.body);
  })().then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof NetworkFailure, String(error));
  assert.equal(error.code, 'ESLOWTRANSFER');
  assert.match(
    error.message,
    new RegExp(
      `^${base}/drip sent \\d+ bytes in [\\d.]+ s, below the minimum of 1024 bytes/s \\(WAYBILL_HTTP_MIN_RATE\\)$`,
    ),
  );
  assert.doesNotMatch(error.message, /secret/);
  assert.equal(isRetryableFailure(error), false);
  assert.ok(Date.now() - started < 5000);
});

test('without a rule (0) the same drip is not aborted', async () => {
  const response = await sendOnce(
    { method: 'GET', url: new URL(`${base}/drip`) },
    { timeoutMs: 60_000, minRate: null },
  );
  let bytes = 0;
  const deadline = Date.now() + 800;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (Date.now() > deadline) break;
  }
  assert.ok(bytes > 0);
});

test('a fast server and a reader that stops for several windows (backpressure): not aborted', async () => {
  const response = await sendOnce(
    { method: 'GET', url: new URL(`${base}/fast`) },
    { timeoutMs: 60_000, minRate: rule },
  );
  let bytes = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    // The reader is slow, not the server: the socket is paused with bytes waiting for us.
    if (bytes === chunk.length) await new Promise((resolve) => setTimeout(resolve, 4 * rule.windowMs));
  }
  assert.equal(bytes, BIG.length);
});
