/**
 * TEST ONLY — not a registry. A tiny in-process HTTP server whose every answer a test scripts: for
 * faults a real registry will not produce on demand (5xx then success, resets, 429 with Retry-After,
 * a blob whose digest differs, oversized manifests, redirects to other hosts, token services on
 * other hosts) and for the referrers API, which Debian's docker-registry 2.8 does not have. Every
 * request is recorded (method, path, Authorization) so tests can check what was sent where.
 * Everything else is tested against the real docker-registry (test/helpers/registry.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type Descriptor, MEDIA_TYPE } from '../oci/types.ts';
import { sha256Digest } from '../util/digest.ts';
import { referrerDescriptor } from './referrers.ts';

export interface RecordedRequest {
  method: string;
  /** Path and query. */
  url: string;
  authorization?: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export type Handler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface TestServer {
  /** `http://HOST:PORT` (https with `tls`) */
  origin: string;
  /** `HOST:PORT` */
  host: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startTestServer(
  handler: Handler,
  address = '127.0.0.1',
  tls?: { key: Buffer; cert: Buffer },
): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  const listener = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body: Buffer.concat(chunks),
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    };
    requests.push(recorded);
    try {
      await handler(recorded, res);
    } catch (e) {
      res.statusCode = 500;
      res.end(String(e));
    }
  };
  const server: Server = tls ? createHttpsServer(tls, listener) : createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  const info = server.address();
  const port = typeof info === 'object' && info ? info.port : 0;
  return {
    origin: `${tls ? 'https' : 'http'}://${address}:${port}`,
    host: `${address}:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Sends `body` with a status and headers, as a registry would. */
export function reply(
  res: ServerResponse,
  status: number,
  body: string | Buffer = '',
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

/** A distribution-spec error body. */
export function registryError(code: string, message: string): string {
  return JSON.stringify({ errors: [{ code, message }] });
}

/** A small valid image manifest with no layers (config: the empty JSON blob unless given). */
export function testManifest(
  config: Descriptor = { mediaType: MEDIA_TYPE.ociEmpty, digest: sha256Digest('{}'), size: 2 },
): Buffer {
  return Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest, config, layers: [] }),
  );
}

/**
 * TEST ONLY: an in-memory registry with the referrers API: it stores manifests and blobs (monolithic
 * uploads only), answers `OCI-Subject` on pushes with a subject, and lists referrers two per page
 * with `Link` headers, without applying the artifactType filter (so the client must).
 */
export async function startFakeReferrersRegistry(): Promise<{
  server: TestServer;
  tags: Map<string, string>;
}> {
  const manifests = new Map<string, { bytes: Buffer; type: string }>();
  const blobs = new Map<string, Buffer>();
  const tags = new Map<string, string>();
  const s = await startTestServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const m = /^\/v2\/(.+?)\/(manifests|blobs|referrers)\/([^/]+)$/.exec(url.pathname);
    const uploads = /^\/v2\/(.+?)\/blobs\/uploads\/(.*)$/.exec(url.pathname);
    if (uploads) {
      if (req.method === 'POST')
        return reply(res, 202, '', { location: `/v2/${uploads[1]}/blobs/uploads/session` });
      const digest = url.searchParams.get('digest') ?? '';
      blobs.set(digest, req.body);
      return reply(res, 201, '', { 'docker-content-digest': digest });
    }
    if (!m) return reply(res, 404);
    const [, , kind, ref] = m as unknown as [string, string, string, string];
    if (kind === 'blobs') {
      const blob = blobs.get(ref);
      return blob
        ? reply(res, 200, req.method === 'HEAD' ? '' : blob, { 'content-length': String(blob.length) })
        : reply(res, 404);
    }
    if (kind === 'manifests') {
      if (req.method === 'PUT') {
        const digest = sha256Digest(req.body);
        manifests.set(digest, { bytes: req.body, type: String(req.headers['content-type']) });
        if (!ref.startsWith('sha256:')) tags.set(ref, digest);
        const subject = (JSON.parse(req.body.toString()) as { subject?: { digest: string } }).subject;
        return reply(res, 201, '', {
          'docker-content-digest': digest,
          ...(subject ? { 'oci-subject': subject.digest } : {}),
        });
      }
      const found = manifests.get(tags.get(ref) ?? ref);
      if (!found) return reply(res, 404);
      return reply(res, 200, found.bytes, {
        'content-type': found.type,
        'docker-content-digest': sha256Digest(found.bytes),
      });
    }
    // referrers: every manifest whose subject is `ref`, two per page.
    const all: Descriptor[] = [];
    for (const [digest, { bytes, type }] of manifests) {
      const doc = JSON.parse(bytes.toString()) as { subject?: { digest: string } };
      if (doc.subject?.digest === ref) all.push(referrerDescriptor(bytes, type, digest, 'fake'));
    }
    all.sort((a, b) => (a.digest < b.digest ? -1 : 1));
    const start = Number(url.searchParams.get('page') ?? '0');
    const page = all.slice(start, start + 2);
    const headers: Record<string, string> = { 'content-type': MEDIA_TYPE.ociIndex };
    if (start + 2 < all.length) headers.link = `<${url.pathname}?page=${start + 2}>; rel="next"`;
    reply(
      res,
      200,
      JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests: page }),
      headers,
    );
  });
  return { server: s, tags };
}
