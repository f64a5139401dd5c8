/**
 * Reading files from a download site over HTTP(S) (a release directory served by any static web
 * server), with the registry client's transport and rules: node:http / node:https on the shared
 * keep-alive agents (registry/http.ts), https everywhere and plain http only to loopback hosts
 * (origin-policy.ts), redirects followed under the origin policy (registry/redirects.ts: a download
 * site that hands files to a CDN works, a hop to http or to a URL with credentials does not), bounded
 * retries with backoff on 5xx, 429 and broken connections (registry/retry.ts), and size limits on
 * everything read into memory. No credentials are ever sent: release directories are public.
 */
import { WaybillError } from '../errors.ts';
import {
  DEFAULT_TIMEOUT_MS,
  describeUrl,
  drainResponse,
  type HttpResponse,
  header,
  NetworkFailure,
  readBody,
} from '../registry/http.ts';
import { checkTransport } from '../registry/origin-policy.ts';
import { sendFollowingRedirects } from '../registry/redirects.ts';
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  isRetryableFailure,
  type RetryPolicy,
  withRetries,
} from '../registry/retry.ts';
import { toolVersion } from '../version.ts';

export interface SiteOptions {
  retry?: Partial<RetryPolicy>;
  /** Longest silence on a connection. Default 60 s. */
  timeoutMs?: number;
}

/**
 * GETs `url`: the 200 answer (its body to be read or drained by the caller), or undefined when the
 * site says the file is not there (404, 410). Anything else is one line naming `input`.
 */
export async function siteGet(
  url: URL,
  input: string,
  what: string,
  options: SiteOptions = {},
): Promise<HttpResponse | undefined> {
  checkTransport(url, input, 'the release URL');
  const policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const { response, attempts } = await withRetries(
    () =>
      sendFollowingRedirects(
        {
          method: 'GET',
          url,
          // identity: the bytes on the wire are the bytes SHA256SUMS names (no transparent gzip).
          headers: { 'user-agent': `waybill/${toolVersion()}`, 'accept-encoding': 'identity' },
        },
        { timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS },
        { follow: true, input, what },
      ),
    policy,
    input,
  );
  const { status } = response;
  if (status === 200) {
    const encoding = header(response, 'content-encoding');
    if (encoding && encoding.toLowerCase() !== 'identity') {
      drainResponse(response);
      throw new WaybillError(
        'UNSUPPORTED',
        input,
        `the server sent ${what} with Content-Encoding ${encoding.slice(0, 40)}, not the file itself`,
      );
    }
    return response;
  }
  drainResponse(response);
  if (status === 404 || status === 410) return undefined;
  const where = describeUrl(response.url);
  const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
  if (status === 401 || status === 403)
    throw new WaybillError(
      'AUTH',
      input,
      `${where} answered ${status} for ${what}: release directories are read without credentials`,
    );
  if (status === 429 || status >= 500)
    throw new WaybillError('NETWORK', input, `${where} answered ${status} for ${what}${tries}`);
  throw new WaybillError('MALFORMED', input, `${where} answered ${status} for ${what}`);
}

/**
 * A whole small file (an index, a checksum list, a sidecar), at most `maxBytes`; undefined when
 * absent. A connection broken while the body arrives is retried like a failed request.
 */
export async function siteRead(
  url: URL,
  input: string,
  what: string,
  maxBytes: number,
  options: SiteOptions = {},
): Promise<Buffer | undefined> {
  const policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  for (let attempt = 1; ; attempt++) {
    const response = await siteGet(url, input, what, options);
    if (!response) return undefined;
    try {
      return await readBody(response, maxBytes, input, what);
    } catch (e) {
      if (isRetryableFailure(e) && attempt < policy.attempts) {
        await (policy.sleep ?? delay)(backoffDelay(attempt, policy, policy.random));
        continue;
      }
      if (e instanceof NetworkFailure) throw new WaybillError('NETWORK', input, e.message, { cause: e });
      throw e;
    }
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
