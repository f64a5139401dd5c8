/**
 * The minimum transfer rate of a response body. The silence timeout (http.ts) stops a server that
 * says nothing; it does not stop one that says one byte a second, which keeps a download of a
 * megabyte running for days. So, after a first window of grace, a body whose average rate over the
 * last window falls below a floor is aborted.
 *
 * The rate counted is the server's, not ours: whenever the body holds bytes we have not read yet (a
 * slow disk, a layer scan taking its time: backpressure), the window starts again.
 *
 * `WAYBILL_HTTP_MIN_RATE=BYTES[/SECONDS]`: the floor in bytes per second and the window in seconds
 * (default 1024/30); `0` turns the rule off.
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { WaybillError } from '../errors.ts';

export interface MinRate {
  bytesPerSecond: number;
  windowMs: number;
}

export const DEFAULT_MIN_RATE: MinRate = { bytesPerSecond: 1024, windowMs: 30_000 };

export const MIN_RATE_VARIABLE = 'WAYBILL_HTTP_MIN_RATE';

/** The rule `WAYBILL_HTTP_MIN_RATE` sets (undefined: off), the default when it is unset or empty. */
export function minRateFromEnv(env: NodeJS.ProcessEnv = process.env): MinRate | undefined {
  const raw = env[MIN_RATE_VARIABLE];
  if (raw === undefined || raw === '') return DEFAULT_MIN_RATE;
  const m = /^(\d{1,12})(?:\/(\d{1,6}(?:\.\d{1,3})?))?$/.exec(raw);
  const seconds = m?.[2] === undefined ? DEFAULT_MIN_RATE.windowMs / 1000 : Number(m[2]);
  if (!m || seconds <= 0)
    throw new WaybillError(
      'USAGE',
      MIN_RATE_VARIABLE,
      `not BYTES_PER_SECOND[/WINDOW_SECONDS] (e.g. 1024/30, or 0 for no minimum): ${JSON.stringify(raw.slice(0, 40))}`,
    );
  const bytesPerSecond = Number(m[1]);
  if (bytesPerSecond === 0) return undefined;
  return { bytesPerSecond, windowMs: Math.round(seconds * 1000) };
}

interface Sample {
  at: number;
  bytes: number;
}

/**
 * Watches `body` (arriving on `socket`) until it ends, and calls `onSlow` with the bytes the server
 * sent over the last window when that is below the floor (the caller destroys the body). The bytes
 * are counted on the socket, so the watch never puts the body into flowing mode.
 */
export function watchTransferRate(
  body: Readable,
  socket: Socket,
  rule: MinRate,
  onSlow: (received: number, seconds: number) => void,
  now: () => number = Date.now,
): void {
  const start = (): Sample[] => [{ at: now(), bytes: socket.bytesRead }];
  let samples = start();
  const tick = () => {
    if (body.readableLength > 0) {
      samples = start();
      return;
    }
    const sample = { at: now(), bytes: socket.bytesRead };
    samples.push(sample);
    // Keep the newest sample that is at least a window old: the window's start.
    while (samples.length > 1 && sample.at - (samples[1] as Sample).at >= rule.windowMs) samples.shift();
    const first = samples[0] as Sample;
    const elapsed = sample.at - first.at;
    const received = sample.bytes - first.bytes;
    if (elapsed >= rule.windowMs && received < (rule.bytesPerSecond * elapsed) / 1000) {
      stop();
      onSlow(received, elapsed / 1000);
    }
  };
  const timer = setInterval(tick, Math.min(1000, Math.max(25, rule.windowMs / 8)));
  // A timer alone never keeps the process alive: the socket does while the body is open.
  timer.unref();
  const stop = () => clearInterval(timer);
  body.once('end', stop);
  body.once('close', stop);
  body.once('error', stop);
}
