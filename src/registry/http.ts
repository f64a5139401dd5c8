/**
 * One HTTP exchange with a registry over node:http / node:https, on keep-alive agents shared by every
 * client in the process (a pull of many blobs reuses a few connections instead of a TLS handshake per
 * blob). No retries, redirects or auth here: see retry.ts, redirect.ts and client.ts.
 *
 * Bodies are bytes or a function that opens a fresh stream, so that a retried request can send the
 * same body again without holding it in memory.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { WaybillError } from '../errors.ts';
import { describeUrl } from './server-text.ts';
import { MIN_RATE_VARIABLE, type MinRate, minRateFromEnv, watchTransferRate } from './transfer-rate.ts';

// Kept here too for the modules that send requests; release-location.ts imports it from
// server-text.ts, so that opening a local artifact does not load node:http (whose module facade
// loads Node's whole fetch implementation: ~50 ms of start-up).
export { describeUrl };

export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface StreamBody {
  length: number;
  open(): Readable;
}

export interface HttpRequest {
  method: HttpMethod;
  url: URL;
  headers?: Record<string, string>;
  body?: Buffer | StreamBody;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The URL that answered (after redirects). */
  url: URL;
  /** Must be read to the end or destroyed (drainResponse) so the connection can be reused. */
  body: IncomingMessage;
}

export interface SendOptions {
  /** Longest silence on the connection (connect, headers, or between body chunks). */
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * The least a response body must average over a window (transfer-rate.ts); null for none.
   * Default: `WAYBILL_HTTP_MIN_RATE`, else 1 KiB/s over 30 s.
   */
  minRate?: MinRate | null;
}

export const DEFAULT_TIMEOUT_MS = 60_000;

/** Cap per origin: enough for parallel blob transfers, few enough to be polite. */
const MAX_SOCKETS = 8;
const httpAgent = new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });

/** A network failure (no HTTP answer): retryable when its code says so (see retry.ts). */
export class NetworkFailure extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NetworkFailure';
    this.code = code;
  }
}

export function sendOnce(request: HttpRequest, options: SendOptions): Promise<HttpResponse> {
  const { url } = request;
  const isHttps = url.protocol === 'https:';
  if (!isHttps && url.protocol !== 'http:') {
    return Promise.reject(
      new WaybillError('USAGE', describeUrl(url), `unsupported protocol ${url.protocol}`),
    );
  }
  const headers: Record<string, string> = { ...request.headers };
  const body = request.body;
  if (body !== undefined)
    headers['content-length'] = String(Buffer.isBuffer(body) ? body.length : body.length);
  else if (request.method === 'PUT' || request.method === 'POST' || request.method === 'PATCH')
    headers['content-length'] = '0';

  let minRate: MinRate | undefined;
  try {
    minRate = options.minRate === undefined ? minRateFromEnv() : (options.minRate ?? undefined);
  } catch (e) {
    return Promise.reject(e);
  }

  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      reject(e);
    };
    const req = (isHttps ? https : http).request(
      url,
      { method: request.method, headers, agent: isHttps ? httpsAgent : httpAgent, signal: options.signal },
      (res) => {
        if (settled) {
          res.destroy();
          return;
        }
        settled = true;
        clearTimeout(headersDue);
        if (minRate) {
          const rule = minRate;
          watchTransferRate(res, res.socket, rule, (received, seconds) =>
            res.destroy(
              new NetworkFailure(
                'ESLOWTRANSFER',
                `${describeUrl(url)} sent ${received} bytes in ${seconds.toFixed(1)} s, below the minimum of ${rule.bytesPerSecond} bytes/s (${MIN_RATE_VARIABLE})`,
              ),
            ),
          );
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, url, body: res });
      },
    );
    // The silence timeout does not stop a server that drips its status line and headers a byte at a
    // time (Node reads up to 16 KiB of them: hours). The answer's headers must be whole within the
    // same time once the request is sent; the body has the minimum rate (transfer-rate.ts).
    let headersDue: NodeJS.Timeout | undefined;
    req.on('finish', () => {
      if (settled) return;
      headersDue = setTimeout(() => {
        req.destroy(
          new NetworkFailure(
            'ETIMEDOUT',
            `${url.host} did not finish the headers of its answer within ${options.timeoutMs / 1000} s`,
          ),
        );
      }, options.timeoutMs);
    });
    req.on('close', () => clearTimeout(headersDue));
    req.setTimeout(options.timeoutMs, () => {
      req.destroy(
        new NetworkFailure('ETIMEDOUT', `no answer from ${url.host} for ${options.timeoutMs / 1000} s`),
      );
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e instanceof NetworkFailure || e.name === 'AbortError') {
        fail(e);
        return;
      }
      fail(new NetworkFailure(e.code ?? 'ECONNRESET', networkReason(e, url), { cause: e }));
    });
    if (body === undefined) {
      req.end();
    } else if (Buffer.isBuffer(body)) {
      req.end(body);
    } else {
      const source = body.open();
      source.on('error', (e) => req.destroy(e));
      source.pipe(req);
    }
  });
}

/** Node's codes for certificates that do not chain to a trusted root or do not name the host. */
const TLS_TRUST_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function networkReason(e: NodeJS.ErrnoException, url: URL): string {
  switch (e.code) {
    case 'ECONNREFUSED':
      return `cannot connect to ${url.host} (connection refused)`;
    case 'ECONNRESET':
      return `${url.host} closed the connection`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve ${url.hostname}`;
    case 'EPIPE':
      return `${url.host} stopped reading the request`;
    default:
      if (
        e.code === 'EPROTO' ||
        e.code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
        /wrong version number/.test(e.message)
      )
        return `${url.host} does not answer https (a plain http registry on this machine needs --insecure)`;
      if (e.code && TLS_TRUST_CODES.has(e.code))
        return `the TLS certificate of ${url.host} is not trusted (${e.code}); add its CA with NODE_EXTRA_CA_CERTS`;
      return `${url.host}: ${(e.message.split('\n')[0] ?? '').slice(0, 200) || e.code || 'network error'}`;
  }
}

/** Discards a response body so the connection returns to the pool. */
export function drainResponse(response: HttpResponse): void {
  response.body.resume();
  response.body.on('error', () => {});
}

/**
 * Reads a whole response body, refusing more than `maxBytes` (before reading when Content-Length
 * already says so, else as soon as the count passes it).
 */
export async function readBody(
  response: HttpResponse,
  maxBytes: number,
  input: string,
  what: string,
): Promise<Buffer> {
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.body.destroy();
    throw new WaybillError(
      'LIMIT',
      input,
      `${what} of ${declared} bytes is larger than the ${maxBytes}-byte limit`,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        response.body.destroy();
        throw new WaybillError('LIMIT', input, `${what} is larger than the ${maxBytes}-byte limit`);
      }
      chunks.push(chunk);
    }
  } catch (e) {
    // Ours already say what happened (a transfer below the minimum rate).
    if (e instanceof WaybillError || e instanceof NetworkFailure) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? 'ECONNRESET';
    throw new NetworkFailure(code, `${response.url.host} broke off the ${what}`, { cause: e });
  }
  return Buffer.concat(chunks, size);
}

/** A response header as one string (the first value of a repeated one). */
export function header(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
