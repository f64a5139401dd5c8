/**
 * The request core of the distribution client: one `RegistryClient` per registry host sends every
 * request with authorization (auth.ts), bounded retries (retry.ts) and, for downloads, redirects
 * under origin-policy.ts; and turns every unwanted answer into one WaybillError line naming the
 * reference. The operations (manifests, blobs, tags, referrers) are built on `request`.
 */
import { WaybillError } from '../errors.ts';
import { toolVersion } from '../version.ts';
import { Authenticator } from './auth.ts';
import { type CredentialStore, defaultCredentials } from './credentials.ts';
import {
  DEFAULT_TIMEOUT_MS,
  describeUrl,
  drainResponse,
  type HttpMethod,
  type HttpResponse,
  header,
  readBody,
  type StreamBody,
} from './http.ts';
import { AUTH_HOSTS_ENV, checkTransport, parseTrustedHosts } from './origin-policy.ts';
import { sendFollowingRedirects } from './redirects.ts';
import { apiHost, isLoopbackHost } from './reference.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, withRetries } from './retry.ts';
import { sanitizeServerText } from './server-text.ts';

export interface RegistryOptions {
  /** Plain http instead of https; allowed only for loopback registries. */
  insecure?: boolean;
  /** Default: flags-less chain of REGISTRY_AUTH_FILE and the Docker configuration. */
  credentials?: CredentialStore;
  /** Token-service hosts trusted with credentials beyond the registry's own site. Default: $WAYBILL_REGISTRY_AUTH_HOSTS. */
  trustedAuthHosts?: string[];
  retry?: Partial<RetryPolicy>;
  /** Longest silence on a connection. Default 60 s. */
  timeoutMs?: number;
}

export interface RegistryRequest {
  method: HttpMethod;
  /** A path on the registry (`/v2/…`), or an absolute URL it gave (an upload Location). */
  path?: string;
  url?: URL;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer | StreamBody;
  /** Token scopes the request needs (`repository:NAME:pull`). */
  scopes: string[];
  /** Retry on 5xx, 429 and connection failures (default true). */
  retry?: boolean;
  /** Follow redirects (blob downloads may be served from another host). */
  redirects?: boolean;
  /** Statuses returned to the caller instead of thrown (2xx always are). */
  accept?: number[];
  /** Names the reference in errors (`docker://host/repo:tag`). */
  input: string;
  /** What is asked for, in errors (`manifest 1.0`, `blob sha256:…`). */
  what: string;
}

const MAX_ERROR_BODY = 64 * 1024;

export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

export function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

/** The first `{"errors":[{"code","message"}]}` entry of an error body (distribution-spec "Error Codes"). */
export function registryErrorMessage(body: Buffer): string {
  try {
    const doc = JSON.parse(body.toString('utf8')) as {
      errors?: Array<{ code?: unknown; message?: unknown }>;
    };
    const first = Array.isArray(doc.errors) ? doc.errors[0] : undefined;
    if (first) {
      const code = typeof first.code === 'string' ? first.code : '';
      const message = typeof first.message === 'string' ? first.message : '';
      return sanitizeServerText([code, message].filter((s) => s !== '').join(': '));
    }
  } catch {
    // Not the JSON error format: a proxy's HTML page, say. Nothing useful to show.
  }
  return '';
}

async function errorMessage(response: HttpResponse): Promise<string> {
  if (response.body.readableEnded || response.body.destroyed) return '';
  try {
    return registryErrorMessage(await readBody(response, MAX_ERROR_BODY, '', 'error body'));
  } catch {
    return '';
  }
}

export class RegistryClient {
  /** Canonical registry name (`docker.io`, `127.0.0.1:5000`). */
  readonly registry: string;
  readonly baseUrl: URL;
  private readonly auth: Authenticator;
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly userAgent = `waybill/${toolVersion()}`;

  constructor(registry: string, options: RegistryOptions = {}) {
    this.registry = registry;
    const host = apiHost(registry);
    if (options.insecure && !isLoopbackHost(host)) {
      throw new WaybillError(
        'USAGE',
        registry,
        '--insecure (plain http) is allowed only for loopback registries (127.0.0.0/8, ::1, localhost)',
      );
    }
    this.baseUrl = new URL(`${options.insecure ? 'http' : 'https'}://${host}`);
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.auth = new Authenticator({
      registry,
      apiHost: host,
      credentials: options.credentials ?? defaultCredentials(),
      trustedAuthHosts: options.trustedAuthHosts ?? parseTrustedHosts(process.env[AUTH_HOSTS_ENV]),
      retry: this.retry,
      timeoutMs: this.timeoutMs,
      userAgent: this.userAgent,
    });
  }

  private urlOf(request: RegistryRequest): URL {
    const url = request.url ? new URL(request.url) : new URL(request.path ?? '/v2/', this.baseUrl);
    // A Location the registry gave must stay on a transport we allow (no http to a remote host).
    if (request.url) checkTransport(url, request.input, 'the upload location');
    for (const [k, v] of Object.entries(request.query ?? {})) url.searchParams.set(k, v);
    return url;
  }

  /**
   * Sends `request` (with authorization, retries and, when asked, redirects). Returns a 2xx response
   * or one whose status is in `accept`; anything else is thrown as one line naming `input`.
   * The caller must consume or drain the returned body.
   */
  async request(request: RegistryRequest): Promise<HttpResponse> {
    const url = this.urlOf(request);
    let authorization = await this.auth.authorization(request.scopes, request.input);
    for (let round = 0; ; round++) {
      const { response, attempts } = await withRetries(
        () => this.sendFollowing(request, url, authorization),
        this.retry,
        request.input,
        request.retry !== false,
      );
      if (response.status === 401 && !request.accept?.includes(401)) {
        const message = await errorMessage(response);
        drainResponse(response);
        if (
          round === 0 &&
          (await this.auth.onUnauthorized(response, authorization !== undefined, request.input))
        ) {
          authorization = await this.auth.authorization(request.scopes, request.input);
          continue;
        }
        throw await this.auth.refused(401, message, request.input);
      }
      if ((response.status >= 200 && response.status < 300) || request.accept?.includes(response.status))
        return response;
      throw await this.statusError(response, request, attempts);
    }
  }

  private sendFollowing(
    request: RegistryRequest,
    url: URL,
    authorization: string | undefined,
  ): Promise<HttpResponse> {
    const headers: Record<string, string> = { 'user-agent': this.userAgent, ...request.headers };
    if (authorization) headers.authorization = authorization;
    return sendFollowingRedirects(
      { method: request.method, url, headers, body: request.body },
      { timeoutMs: this.timeoutMs },
      { follow: request.redirects === true, input: request.input, what: request.what },
    );
  }

  private async statusError(
    response: HttpResponse,
    request: RegistryRequest,
    attempts: number,
  ): Promise<WaybillError> {
    const message = await errorMessage(response);
    drainResponse(response);
    const detail = message ? `: ${message}` : '';
    const { status } = response;
    const { input, what } = request;
    if (status === 403) return this.auth.refused(403, message, input);
    if (status === 404) return new WaybillError('NOT_FOUND', input, `${what} not found${detail}`);
    if (status === 413)
      return new WaybillError('LIMIT', input, `the registry refused ${what} as too large (413)${detail}`);
    if (status >= 300 && status < 400)
      return new WaybillError(
        'NETWORK',
        input,
        `unexpected redirect (${status}) for ${what} to ${describeLocation(response)}`,
      );
    const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
    if (status === 429 || status >= 500)
      return new WaybillError(
        'NETWORK',
        input,
        `the registry answered ${status} for ${what}${tries}${detail}`,
      );
    if (message.startsWith('DIGEST_INVALID') || message.startsWith('SIZE_INVALID'))
      return new WaybillError('DIGEST_MISMATCH', input, `the registry refused ${what}${detail}`);
    return new WaybillError('MALFORMED', input, `the registry refused ${what} (${status})${detail}`);
  }
}

function describeLocation(response: HttpResponse): string {
  const location = header(response, 'location');
  if (!location) return 'nowhere';
  try {
    return describeUrl(new URL(location, response.url));
  } catch {
    return 'an invalid URL';
  }
}

/** One client per registry and option set, so tokens and connections are shared by a command's work. */
export function registryClient(registry: string, options: RegistryOptions = {}): RegistryClient {
  let byRegistry = clients.get(options);
  if (!byRegistry) {
    byRegistry = new Map();
    clients.set(options, byRegistry);
  }
  let client = byRegistry.get(registry);
  if (!client) {
    client = new RegistryClient(registry, options);
    byRegistry.set(registry, client);
  }
  return client;
}

const clients = new WeakMap<RegistryOptions, Map<string, RegistryClient>>();
