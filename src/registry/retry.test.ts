import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import fc from 'fast-check';
import { backoffDelay, DEFAULT_RETRY_POLICY, parseRetryAfter } from './retry.ts';

test('Retry-After: delay-seconds and HTTP-dates; anything else is ignored', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('120', now), 120_000);
  assert.equal(parseRetryAfter(' 0 ', now), 0);
  assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now), 0);
  for (const bad of [undefined, '', '-1', '1.5', 'soon', '99999999999', '2025-01-01T00:00:30Z'])
    assert.equal(parseRetryAfter(bad, now), undefined, String(bad));
});

test('property: backoff grows exponentially, stays within [half, full] of its cap', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 30 }),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      (retry, r) => {
        const cap = Math.min(
          DEFAULT_RETRY_POLICY.maxDelayMs,
          DEFAULT_RETRY_POLICY.baseDelayMs * 2 ** (retry - 1),
        );
        const delay = backoffDelay(retry, DEFAULT_RETRY_POLICY, () => r);
        assert.ok(delay >= Math.floor(cap / 2) && delay <= cap, `${retry}: ${delay} of ${cap}`);
      },
    ),
  );
});

test('the real backoff sleep keeps the process alive: a refused connection ends in one NETWORK error', () => {
  // An unref'd timer let Node exit mid-backoff (exit 13, "unsettled top-level await") when nothing
  // else was pending, as in `waybill inspect docker://` against a registry that is down. The test
  // runner keeps its own loop alive, so this runs in a process of its own.
  const script = `
    import { NetworkFailure } from ${JSON.stringify(new URL('./http.ts', import.meta.url).href)};
    import { withRetries } from ${JSON.stringify(new URL('./retry.ts', import.meta.url).href)};
    let calls = 0;
    const refused = () => {
      calls++;
      return Promise.reject(new NetworkFailure('ECONNREFUSED', 'cannot connect (connection refused)'));
    };
    try {
      await withRetries(refused, { attempts: 3, baseDelayMs: 20, maxDelayMs: 100, maxRetryAfterMs: 0 }, 'x');
    } catch (e) {
      console.log(calls, e.message);
    }`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  assert.match(child.stdout, /^3 .*connection refused\) \(after 3 attempts\)$/m);
});
