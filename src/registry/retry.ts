/**
 * Bounded retries with exponential backoff and jitter, for what is worth trying again: connection
 * failures (reset, refused, timed out), 5xx gateway and server errors, 408 and 429. A `Retry-After`
 * (RFC 9110 section 10.2.3; distribution-spec asks registries to send it with 429) is honoured up to
 * a limit; a registry asking for a longer wait ends the operation at once with one line, rather than
 * a command that hangs for an hour.
 */
import { WaybillError } from '../errors.ts';
import { drainResponse, type HttpResponse, header, NetworkFailure } from './http.ts';

export interface RetryPolicy {
  /** Total attempts, the first included. */
  attempts: number;
  /** Backoff before the n-th retry: baseDelayMs * 2^(n-1), at most maxDelayMs, then jittered. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** The longest Retry-After waited for. */
  maxRetryAfterMs: number;
  /** Injected by tests to observe delays without waiting. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 60_000,
};

const RETRYABLE_STATUS: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);
const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUS.has(status);
}

export function isRetryableFailure(e: unknown): e is NetworkFailure {
  return e instanceof NetworkFailure && RETRYABLE_CODES.has(e.code);
}

/**
 * `Retry-After` in milliseconds: delay-seconds or an HTTP-date (relative to `now`). Undefined when
 * absent or unreadable (then the backoff applies).
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** "Equal jitter": half the exponential delay fixed, half random, so retries spread but always wait. */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

// A referenced timer: the backoff is what the command is waiting for, so it must keep Node alive (an
// unref'd one let the process exit mid-retry with nothing else pending: exit 13, no message).
const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface RetryOutcome {
  response: HttpResponse;
  /** Attempts made (1 = no retry). */
  attempts: number;
}

/**
 * Runs `send` until it gives a response that is not worth retrying, or attempts run out; the last
 * response is returned whatever its status (the caller turns it into an error). A network failure
 * on the last attempt, or a Retry-After past the limit, throws NETWORK naming `input`.
 */
export async function withRetries(
  send: () => Promise<HttpResponse>,
  policy: RetryPolicy,
  input: string,
  canRetry = true,
): Promise<RetryOutcome> {
  const sleep = policy.sleep ?? realSleep;
  const attempts = canRetry ? Math.max(1, policy.attempts) : 1;
  for (let attempt = 1; ; attempt++) {
    let response: HttpResponse;
    try {
      response = await send();
    } catch (e) {
      if (!isRetryableFailure(e) || attempt >= attempts) {
        if (e instanceof NetworkFailure) {
          const tries = attempt > 1 ? ` (after ${attempt} attempts)` : '';
          throw new WaybillError('NETWORK', input, `${e.message}${tries}`, { cause: e });
        }
        throw e;
      }
      await sleep(backoffDelay(attempt, policy, policy.random));
      continue;
    }
    if (!isRetryableStatus(response.status) || attempt >= attempts) return { response, attempts: attempt };
    const retryAfter = parseRetryAfter(header(response, 'retry-after'));
    if (retryAfter !== undefined && retryAfter > policy.maxRetryAfterMs) {
      drainResponse(response);
      throw new WaybillError(
        'NETWORK',
        input,
        `the registry answered ${response.status} and asks to retry after ${Math.ceil(retryAfter / 1000)} s (waiting at most ${policy.maxRetryAfterMs / 1000} s); try again later`,
      );
    }
    drainResponse(response);
    await sleep(retryAfter ?? backoffDelay(attempt, policy, policy.random));
  }
}
