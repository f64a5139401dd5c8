/**
 * A progress bar on stderr for long work. It appears only after the work has run for a second, only
 * when stderr is a terminal, and never with --quiet, so scripted runs and CI logs stay clean.
 */

export interface Progress {
  update(done: number, total: number): void;
  done(): void;
}

const SILENT: Progress = { update() {}, done() {} };

export function createProgress(label: string, opts: { quiet?: boolean } = {}): Progress {
  const stream = process.stderr;
  if (opts.quiet || !stream.isTTY) return SILENT;
  const started = Date.now();
  let lastDraw = 0;
  let drawn = false;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - started < 1000 || now - lastDraw < 100) return;
      lastDraw = now;
      drawn = true;
      const width = 30;
      const ratio = total > 0 ? Math.min(1, done / total) : 0;
      const filled = Math.round(ratio * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      const pct = `${Math.floor(ratio * 100)}`.padStart(3);
      stream.write(`\r${label} ${bar} ${pct}% ${formatBytes(done)}/${formatBytes(total)}`);
    },
    done() {
      if (drawn) stream.write('\r\x1b[2K');
    },
  };
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} ${units[unit]}` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Runs `work` with a progress bar for a download it may start (a release URL fetches its file first). */
export async function withDownloadProgress<T>(
  work: (onDownload: (done: number, total: number) => void) => Promise<T>,
  opts: { quiet?: boolean } = {},
): Promise<T> {
  const progress = createProgress('downloading', opts);
  return work((done, total) => progress.update(done, total)).finally(() => progress.done());
}
