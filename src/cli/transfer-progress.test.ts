/**
 * The per-blob progress of copy and publish: nothing at all off a terminal or with --quiet, nothing
 * during the first second, then one line per blob in flight plus a summary, redrawn in place (cursor
 * up, line cleared), and cleared at the end. Blob names are digests: no artifact text reaches it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Descriptor } from '../oci/types.ts';
import { createTransferProgress } from './transfer-progress.ts';

const MiB = 1024 * 1024;
const blob = (n: number): Descriptor => ({
  mediaType: 'application/vnd.oci.image.layer.v1.tar',
  digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
  size: 10 * MiB,
});

function terminal(isTTY: boolean) {
  let text = '';
  let now = 0;
  return {
    stream: { isTTY, write: (t: string) => (text += t) },
    clock: () => now,
    advance: (ms: number) => (now += ms),
    text: () => text,
  };
}

test('one bar per blob in flight and a summary line, after the first second, cleared at the end', () => {
  const t = terminal(true);
  const progress = createTransferProgress({ stream: t.stream, clock: t.clock });
  const [a, b] = [blob(1), blob(2)];
  progress.blobStart?.(a);
  progress.blobStart?.(b);
  progress.blobBytes?.(a, 5 * MiB);
  assert.equal(t.text(), '', 'nothing in the first second');
  t.advance(1500);
  progress.blobBytes?.(b, 2 * MiB);
  const frame = t.text();
  assert.match(frame, /111111111111 █+░+ {2}50% 5\.0 MiB\/10\.0 MiB\n/);
  assert.match(frame, /222222222222 █+░+ {2}20% 2\.0 MiB\/10\.0 MiB\n/);
  assert.match(frame, /0\/2 blobs, 7\.0 MiB moved\n/);
  t.advance(200);
  progress.blobDone?.(a, 'uploaded');
  // Redrawn in place: back up the three lines, each cleared and drawn again.
  const redraw = t.text().slice(frame.length);
  assert.ok(redraw.startsWith('\x1b[3F'), JSON.stringify(redraw));
  assert.match(redraw, /1\/2 blobs/);
  assert.doesNotMatch(redraw, /111111111111 /);
  progress.done();
  assert.ok(t.text().endsWith('\x1b[3F'));
});

test('silent off a terminal and with --quiet', () => {
  for (const [isTTY, quiet] of [
    [false, false],
    [true, true],
  ] as const) {
    const t = terminal(isTTY);
    const progress = createTransferProgress({ stream: t.stream, clock: t.clock, quiet });
    progress.blobStart?.(blob(3));
    t.advance(5000);
    progress.blobBytes?.(blob(3), MiB);
    progress.done();
    assert.equal(t.text(), '');
  }
});
