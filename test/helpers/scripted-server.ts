/**
 * A loopback HTTP server whose handler answers as a hostile one does (dripping bytes, stalling
 * midway). Unlike static-site.ts it is scripted on purpose: the behaviours under test are the
 * server's misbehaviour. `close` ends the answers still open (a stalled one never ends by itself).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedServer {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  close(): Promise<void>;
}

export async function serveScripted(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<ScriptedServer> {
  const open = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    open.add(res);
    res.on('close', () => open.delete(res));
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
