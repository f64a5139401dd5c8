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
