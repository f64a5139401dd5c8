/**
 * Registry authentication: anonymous until the registry says otherwise (401 with a challenge), then
 * Basic, or the token flow of the distribution auth spec (docs/spec/auth/token.md): ask the `realm`
 * for a token for `service` and the scopes the operation needs (`repository:NAME:pull`,
 * `repository:NAME:pull,push`), present it as `Bearer`. Tokens are cached per scope set until they
 * expire; the challenge is remembered so later requests are authorized up front.
 *
 * Credentials are looked up only when a challenge asks for them, and never leave this module except
 * as an Authorization header to the registry or to a token service `origin-policy.ts` allows.
 */
import { WaybillError } from '../errors.ts';
import type { Credential, CredentialStore } from './credentials.ts';
import { drainResponse, type HttpResponse, readBody, sendOnce } from './http.ts';
import { AUTH_HOSTS_ENV, checkTransport, mayReceiveCredentials } from './origin-policy.ts';
import { type RetryPolicy, withRetries } from './retry.ts';
import { type Challenge, parseWwwAuthenticate } from './www-authenticate.ts';

const MAX_TOKEN_RESPONSE = 1024 * 1024;
const HOW_TO_LOG_IN = 'use --username with --password-stdin, --authfile, or docker login';
/** distribution token spec: tokens without expires_in last 60 s. */
const DEFAULT_TOKEN_SECONDS = 60;
/** Renew a little early so a token does not expire in flight. */
const EXPIRY_MARGIN_MS = 10_000;

export interface AuthOptions {
  /** The canonical registry name (credential lookup) and the API host (`host[:port]`). */
  registry: string;
  apiHost: string;
  credentials: CredentialStore;
  /** Extra token-service hosts trusted with credentials. */
  trustedAuthHosts: readonly string[];
  retry: RetryPolicy;
  timeoutMs: number;
  userAgent: string;
}

interface CachedToken {
  value: string;
  expiresAt: number;
}

function basicHeader(c: Credential): string {
  return `Basic ${Buffer.from(`${c.username ?? ''}:${c.password ?? ''}`).toString('base64')}`;
}

function hasBasic(c: Credential | undefined): c is Credential & { password: string } {
  return Boolean(c && c.password !== undefined && (c.username !== undefined || c.password !== ''));
}

/** `scope` values, merged and sorted so equal sets share a cache entry. */
function scopeKey(scopes: readonly string[]): string {
  return [...new Set(scopes)].sort().join(' ');
}

export class Authenticator {
  private readonly options: AuthOptions;
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, CachedToken>();
  private credential: Promise<Credential | undefined> | undefined;
  /** Set when credentials were withheld from a token service on another site (for the error). */
  private withheldFrom: string | undefined;

  constructor(options: AuthOptions) {
    this.options = options;
  }

  private lookupCredential(): Promise<Credential | undefined> {
    this.credential ??= this.options.credentials.lookup(this.options.registry);
    return this.credential;
  }

  /** The Authorization header for a request needing `scopes`, once a challenge is known. */
  async authorization(scopes: readonly string[], input: string): Promise<string | undefined> {
    const challenge = this.challenge;
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') {
      const credential = await this.lookupCredential();
      return hasBasic(credential) ? basicHeader(credential) : undefined;
    }
    const key = scopeKey([...scopes, ...(challenge.params.scope ? challenge.params.scope.split(' ') : [])]);
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > Date.now()) return `Bearer ${cached.value}`;
    const token = await this.fetchToken(challenge, key, input);
    this.tokens.set(key, token);
    return `Bearer ${token.value}`;
  }

  /**
   * Learns from a 401. Returns true when a retry with new authorization can succeed; false when the
   * credentials in hand were already tried for this challenge (the caller reports the refusal).
   */
  async onUnauthorized(response: HttpResponse, sentAuthorization: boolean, input: string): Promise<boolean> {
    const header = response.headers['www-authenticate'];
    const text = Array.isArray(header) ? header.join(', ') : header;
    if (!text)
      throw new WaybillError('AUTH', input, 'the registry answered 401 without a WWW-Authenticate challenge');
    const challenges = parseWwwAuthenticate(text);
    const chosen =
      challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
    if (!chosen) {
      const schemes = challenges.map((c) => c.scheme).join(', ') || 'none';
      throw new WaybillError(
        'UNSUPPORTED',
        input,
        `the registry asks for an unsupported authentication scheme (${schemes})`,
      );
    }
    const changed =
      !this.challenge ||
      this.challenge.scheme !== chosen.scheme ||
      this.challenge.params.realm !== chosen.params.realm ||
      this.challenge.params.scope !== chosen.params.scope;
    this.challenge = chosen;
    if (chosen.scheme === 'basic') {
      if (!hasBasic(await this.lookupCredential())) throw this.noCredentials(input);
      return !sentAuthorization || changed;
    }
    // The same challenge again after a token was sent: the token will not do, unless it was only
    // stale (RFC 6750 invalid_token: revoked or expired early). Either way one retry at most.
    if (sentAuthorization && !changed && chosen.params.error !== 'invalid_token') return false;
    this.tokens.clear();
    return true;
  }

  /** The one line for a refusal after authorization was tried. */
  async refused(status: number, registryMessage: string, input: string): Promise<WaybillError> {
    const detail = registryMessage ? `: ${registryMessage}` : '';
    // Anonymous access was tried (a token without credentials) and is not enough. Registries answer
    // so for repositories that do not exist too (Docker Hub), so say both.
    if (!this.withheldFrom && this.challenge && !(await this.lookupCredential())) {
      return new WaybillError(
        'AUTH',
        input,
        `the registry refused anonymous access (${status}${detail}); the repository may not exist, or needs credentials: none are configured for ${this.options.registry} (${HOW_TO_LOG_IN})`,
      );
    }
    if (this.withheldFrom) {
      return new WaybillError(
        'AUTH',
        input,
        `the registry refused access (${status}${detail}); its token service ${this.withheldFrom} is on another site, so no credentials were sent there (allow it with ${AUTH_HOSTS_ENV}=${this.withheldFrom})`,
      );
    }
    return new WaybillError('AUTH', input, `the registry refused access (${status}${detail})`);
  }

  private noCredentials(input: string): WaybillError {
    return new WaybillError(
      'AUTH',
      input,
      `the registry asks for credentials and none are configured for ${this.options.registry} (${HOW_TO_LOG_IN})`,
    );
  }

  private async fetchToken(challenge: Challenge, scopes: string, input: string): Promise<CachedToken> {
    const credential = await this.lookupCredential();
    if (credential?.registryToken)
      return { value: credential.registryToken, expiresAt: Number.POSITIVE_INFINITY };
    const realmText = challenge.params.realm;
    if (!realmText)
      throw new WaybillError('AUTH', input, 'the registry sent a Bearer challenge without a realm');
    let realm: URL;
    try {
      realm = new URL(realmText);
    } catch {
      throw new WaybillError('AUTH', input, 'the registry named a token service that is not a URL');
    }
    checkTransport(realm, input, 'the token service');
    const trusted = mayReceiveCredentials(this.options.apiHost, realm, this.options.trustedAuthHosts);
    const send = trusted ? credential : undefined;
    if (credential && !trusted) this.withheldFrom = realm.host;

    const query = new URLSearchParams();
    if (challenge.params.service) query.set('service', challenge.params.service);
    for (const scope of scopes.split(' ').filter((s) => s !== '')) query.append('scope', scope);
    const headers: Record<string, string> = {
      'user-agent': this.options.userAgent,
      accept: 'application/json',
    };
    let request: Parameters<typeof sendOnce>[0];
    if (send?.identityToken) {
      // OAuth2 refresh-token grant (distribution docs/spec/auth/oauth.md).
      query.set('grant_type', 'refresh_token');
      query.set('refresh_token', send.identityToken);
      query.set('client_id', 'waybill');
      headers['content-type'] = 'application/x-www-form-urlencoded';
      request = { method: 'POST', url: realm, headers, body: Buffer.from(query.toString()) };
    } else {
      const url = new URL(realm);
      for (const [k, v] of query) url.searchParams.append(k, v);
      if (hasBasic(send)) headers.authorization = basicHeader(send);
      request = { method: 'GET', url, headers };
    }
    const { response } = await withRetries(
      () => sendOnce(request, { timeoutMs: this.options.timeoutMs }),
      this.options.retry,
      input,
    );
    if (response.status !== 200) {
      drainResponse(response);
      if (response.status === 401 || response.status === 403) {
        throw new WaybillError(
          'AUTH',
          input,
          send
            ? `the token service refused the credentials for ${this.options.registry} (${response.status})`
            : `the token service refused anonymous access (${response.status})`,
        );
      }
      throw new WaybillError('NETWORK', input, `the token service answered ${response.status}`);
    }
    const body = await readBody(response, MAX_TOKEN_RESPONSE, input, 'token response');
    return parseTokenResponse(body, input);
  }
}

/** `{"token": …}` or `{"access_token": …}`, with `expires_in` seconds. */
export function parseTokenResponse(body: Buffer, input: string): CachedToken {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    throw new WaybillError('AUTH', input, 'the token service answered something that is not JSON');
  }
  const obj = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
  const token = typeof obj.token === 'string' && obj.token !== '' ? obj.token : obj.access_token;
  // A token goes into a header: anything outside visible ASCII could split it.
  if (typeof token !== 'string' || !/^[\x21-\x7e]+$/.test(token))
    throw new WaybillError('AUTH', input, 'the token service answered without a usable token');
  const seconds =
    typeof obj.expires_in === 'number' && Number.isFinite(obj.expires_in) && obj.expires_in > 0
      ? obj.expires_in
      : DEFAULT_TOKEN_SECONDS;
  return { value: token, expiresAt: Date.now() + Math.max(0, seconds * 1000 - EXPIRY_MARGIN_MS) };
}
