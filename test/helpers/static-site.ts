/**
 * A static download site for tests: node:http on 127.0.0.1 serving the files of a directory, as any
 * plain web server (nginx, Apache, `python3 -m http.server`) serves a release directory — GET and
 * HEAD, 200 with Content-Length, 404 for what is not a regular file inside the root. Nothing is
 * scripted: what a test changes on disk is what clients get. This IS the real component for a
 * download site (a static file server has no behaviour beyond this); registries are tested against
 * Debian's docker-registry instead (registry.ts).
 *
 * `redirect` makes `/PREFIX/…` answer 302 to the same path without the prefix, as sites that hand
 * downloads to a CDN do; `requests` records every path asked for.
 */
import { createReadStream } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join, sep } from 'node:path';

export interface StaticSite {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** Paths requested, in order (`GET /hello/1.0/SHA256SUMS`). */
  requests: string[];
  close(): Promise<void>;
}

export async function serveDirectory(root: string, options: { redirect?: string } = {}): Promise<StaticSite> {
  const requests: string[] = [];
  const realRoot = await realpath(root);
  const server: Server = createServer(async (req, res) => {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] as string;
    requests.push(`${method} ${path}`);
    const notFound = () => {
      res.writeHead(404, { 'content-type': 'text/plain', 'content-length': '10' });
      res.end(method === 'HEAD' ? undefined : 'not found\n');
    };
    if (method !== 'GET' && method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-length': '0' });
      res.end();
      return;
    }
    if (options.redirect && path.startsWith(`/${options.redirect}/`)) {
      res.writeHead(302, { location: path.slice(options.redirect.length + 1), 'content-length': '0' });
      res.end();
      return;
    }
    let file: string;
    try {
      file = join(realRoot, ...decodeURIComponent(path).split('/'));
    } catch {
      notFound();
      return;
    }
    // What a web server refuses: anything outside the root, and anything not a regular file.
    const info = await lstat(file).catch(() => undefined);
    const real = info ? await realpath(file).catch(() => '') : '';
    if (!info?.isFile() || !real.startsWith(realRoot + sep)) {
      notFound();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(info.size) });
    if (method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
