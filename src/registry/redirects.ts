/**
 * One HTTP exchange that follows redirects under the origin policy (origin-policy.ts): at most
 * `MAX_REDIRECTS` hops, never to a URL with user info, never from https to http, and the
 * `Authorization` header dropped as soon as a hop leaves the origin. Registry downloads and release
 * directories (download sites, which commonly redirect to a CDN) both go through here.
 */
import { WaybillError } from '../errors.ts';
import {
  drainResponse,
  type HttpRequest,
  type HttpResponse,
  header,
  type SendOptions,
  sendOnce,
} from './http.ts';
import { redirectTarget } from './origin-policy.ts';

export const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

export interface FollowOptions {
  /** Follow redirects at all (only GET and HEAD ever do). */
  follow: boolean;
  /** Names the reference in errors. */
  input: string;
  /** What is asked for, in errors. */
  what: string;
}

/** Sends `request`, following redirects as above; the answer that is not a redirect is returned. */
export async function sendFollowingRedirects(
  request: HttpRequest,
  send: SendOptions,
  options: FollowOptions,
): Promise<HttpResponse> {
  const headers: Record<string, string> = { ...request.headers };
  const follow = options.follow && (request.method === 'GET' || request.method === 'HEAD');
  let url = request.url;
  for (let hops = 0; ; hops++) {
    const response = await sendOnce({ ...request, url, headers }, send);
    const location = header(response, 'location');
    if (!follow || !REDIRECT_STATUSES.has(response.status) || !location) return response;
    drainResponse(response);
    if (hops >= MAX_REDIRECTS)
      throw new WaybillError(
        'NETWORK',
        options.input,
        `more than ${MAX_REDIRECTS} redirects for ${options.what}`,
      );
    const next = redirectTarget(url, location, options.input);
    // Credentials never follow a redirect to another origin (object stores sign their URLs instead).
    if (!next.keepAuthorization) delete headers.authorization;
    url = next.url;
  }
}
