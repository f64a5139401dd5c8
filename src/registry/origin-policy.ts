/**
 * Where waybill may connect, and where it may send credentials. One module so the rules are in one
 * place and tested together (docs/registry.md "Security").
 *
 * - Plain http only to loopback hosts (127.0.0.0/8, ::1, localhost): nothing crosses a network.
 * - Redirects (blob downloads to a CDN or object store) may go to any https host, but the
 *   `Authorization` header is dropped unless the target is the same origin, a URL carrying user
 *   info is refused, and https → http is refused.
 * - A token service (`realm` of a Bearer challenge) must be https (or loopback). Credentials go to
 *   it only when it is the registry's own host or site (see `mayReceiveCredentials`), or a host the
 *   user listed; otherwise the token is requested anonymously, which is enough for public images.
 */
import { WaybillError } from '../errors.ts';
import { describeUrl } from './http.ts';
import { hostName, isLoopbackHost } from './reference.ts';

/** Environment variable listing extra token-service hosts trusted with credentials (comma-separated). */
export const AUTH_HOSTS_ENV = 'WAYBILL_REGISTRY_AUTH_HOSTS';

export function parseTrustedHosts(text: string | undefined): string[] {
  if (!text) return [];
  return text
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
}

function isIpAddress(host: string): boolean {
  return /^\d{1,3}(?:\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

/** Is `url` a transport waybill may use: https, or http to a loopback host? */
export function checkTransport(url: URL, input: string, what: string): void {
  if (url.username !== '' || url.password !== '') {
    // Never show the URL: it is the credentials.
    throw new WaybillError('AUTH', input, `${what} carries credentials in its URL; refused`);
  }
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && isLoopbackHost(url.host)) return;
  if (url.protocol === 'http:') {
    throw new WaybillError(
      'AUTH',
      input,
      `${what} ${describeUrl(url)} is plain http to a host that is not loopback; refused`,
    );
  }
  throw new WaybillError('UNSUPPORTED', input, `${what} uses ${url.protocol}, not https`);
}

/**
 * May credentials for `registryHost` (host[:port]) be sent to a token service at `realm`? Yes when
 * the realm's host name is the registry's, or shares the registry's parent domain (the registry
 * `registry-1.docker.io` and its token service `auth.docker.io`; `registry.gitlab.com` and
 * `gitlab.com`), or is listed in `trusted`. Ports are not compared (as cookies do not).
 *
 * Why not any realm, as docker and go-containerregistry do: the registry could only redirect
 * credentials elsewhere, never gain anything it would not get by asking for Basic auth itself; but a
 * misconfigured or compromised token service setting on the registry side should not hand a user's
 * password to an unrelated host. The parent-domain rule has no public-suffix list, so a registry
 * directly under a two-label public suffix (`reg.co.uk`) would trust its siblings (`x.co.uk`): that
 * is no worse than the docker behaviour it replaces.
 */
export function mayReceiveCredentials(
  registryHost: string,
  realm: URL,
  trusted: readonly string[] = [],
): boolean {
  const registry = hostName(registryHost).toLowerCase();
  const target = realm.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (target === registry) return true;
  if (trusted.includes(target) || trusted.includes(realm.host.toLowerCase())) return true;
  if (isIpAddress(registry) || isIpAddress(target)) return false;
  const labels = registry.split('.');
  if (labels.length < 3) return false;
  const parent = labels.slice(1).join('.');
  return target === parent || target.endsWith(`.${parent}`);
}

/**
 * Follows one redirect: the next URL, and whether the Authorization header may go with it (same
 * origin only). Refuses user info in the target and a downgrade from https to http.
 */
export function redirectTarget(
  from: URL,
  location: string,
  input: string,
): { url: URL; keepAuthorization: boolean } {
  let url: URL;
  try {
    url = new URL(location, from);
  } catch {
    throw new WaybillError('MALFORMED', input, `the registry redirected to an invalid URL`);
  }
  checkTransport(url, input, 'the redirect target');
  if (from.protocol === 'https:' && url.protocol !== 'https:')
    throw new WaybillError(
      'AUTH',
      input,
      `the registry redirected from https to ${describeUrl(url)}; refused`,
    );
  return { url, keepAuthorization: url.origin === from.origin };
}
