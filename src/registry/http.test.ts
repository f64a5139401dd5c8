import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { NetworkFailure, sendOnce } from './http.ts';

let server: Server;
let port: number;
const sockets = new Set<Socket>();

before(async () => {
  // Answers every request with a status line and headers dripped one byte every 20 ms, forever.
  server = createServer((socket) => {
    sockets.add(socket);
    const head = `HTTP/1.1 200 OK\r\n${'x-padding: a\r\n'.repeat(1000)}`;
    let sent = 0;
    const timer = setInterval(() => socket.write(head.charAt(sent++ % head.length)), 20);
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      sockets.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => server.close(resolve));
});

test('headers dripped a byte at a time never keep the connection "active" past the timeout', async () => {
  const started = Date.now();
  const error = await sendOnce(
    { method: 'GET', url: new URL(`http://127.0.0.1:${port}/v2/`) },
    { timeoutMs: 400, minRate: null },
  ).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof NetworkFailure, String(error));
  assert.equal(error.code, 'ETIMEDOUT');
  assert.equal(error.message, `127.0.0.1:${port} did not finish the headers of its answer within 0.4 s`);
  assert.ok(Date.now() - started < 3000);
});
