/**
 * Progress of a copy or publish on a terminal: one bar per blob being moved, and a summary line
 * (blobs done of all, bytes moved). Like progress.ts it draws only on a TTY, only after the work has
 * run for a second, never with --quiet, and clears itself at the end, so logs and pipes stay clean.
 */
import type { Descriptor } from '../oci/types.ts';
import type { TransferEvents, TransferReport } from '../publish/transfer.ts';
import type { PushResult } from '../registry/blobs.ts';
import { formatBytes } from './progress.ts';

export interface TransferProgress extends TransferEvents {
  done(): void;
}

const WIDTH = 24;

function bar(done: number, total: number): string {
  const ratio = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const filled = Math.round(ratio * WIDTH);
  return `${'█'.repeat(filled)}${'░'.repeat(WIDTH - filled)} ${String(Math.floor(ratio * 100)).padStart(3)}%`;
}

export interface TransferProgressOptions {
  quiet?: boolean;
  /** Where to draw (default stderr); nothing is drawn unless it is a terminal. */
  stream?: { isTTY?: boolean; write(text: string): unknown };
  /** Milliseconds now (default Date.now), for tests. */
  clock?: () => number;
}

export function createTransferProgress(opts: TransferProgressOptions = {}): TransferProgress {
  const stream = opts.stream ?? process.stderr;
  const clock = opts.clock ?? Date.now;
  const silent: TransferProgress = { done() {} };
  if (opts.quiet || !stream.isTTY) return silent;
  const started = clock();
  const active = new Map<string, { descriptor: Descriptor; moved: number }>();
  let finished = 0;
  let seen = 0;
  let bytes = 0;
  let drawn = 0;
  let lastDraw = 0;

  const draw = () => {
    const now = clock();
    if (now - started < 1000 || now - lastDraw < 100) return;
    lastDraw = now;
    const lines = [...active.values()].map(
      ({ descriptor, moved }) =>
        `  ${descriptor.digest.slice(7, 19)} ${bar(moved, descriptor.size)} ${formatBytes(moved)}/${formatBytes(descriptor.size)}`,
    );
    lines.push(`  ${finished}/${seen} blobs, ${formatBytes(bytes)} moved`);
    // Back to the first line drawn last time, then every line cleared and drawn again.
    let text = drawn > 0 ? `\x1b[${drawn}F` : '';
    for (const line of lines) text += `\x1b[2K${line}\n`;
    for (let extra = lines.length; extra < drawn; extra++) text += '\x1b[2K\n';
    stream.write(text);
    drawn = Math.max(drawn, lines.length);
  };

  return {
    blobStart(descriptor: Descriptor) {
      seen++;
      active.set(descriptor.digest, { descriptor, moved: 0 });
      draw();
    },
    blobBytes(descriptor: Descriptor, n: number) {
      const entry = active.get(descriptor.digest);
      if (entry) entry.moved += n;
      bytes += n;
      draw();
    },
    blobDone(descriptor: Descriptor, _result: PushResult) {
      active.delete(descriptor.digest);
      finished++;
      draw();
    },
    done() {
      if (drawn === 0) return;
      let text = `\x1b[${drawn}F`;
      for (let i = 0; i < drawn; i++) text += '\x1b[2K\n';
      stream.write(`${text}\x1b[${drawn}F`);
      drawn = 0;
    },
  };
}

/** One line saying what a transfer did (empty when it changed nothing). */
export function transferSummary(t: TransferReport | undefined, verb = 'uploaded'): string {
  if (!t?.changed) return '';
  const { uploaded, mounted, existing } = t.blobs;
  return `  blobs       ${uploaded} ${verb}, ${mounted} mounted, ${existing} already there; ${t.referrers.written.length} attachments written, ${t.referrers.present} already there\n`;
}
