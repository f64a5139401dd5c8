/**
 * Output helpers shared by the commands: the --format option, JSON rendering, stdout that drains.
 */
import { WaybillError } from '../errors.ts';

export type OutputFormat = 'text' | 'json' | 'sarif';

export function parseFormat(value: string | undefined, allowed: readonly string[]): string {
  const format = value ?? allowed[0] ?? 'text';
  if (!allowed.includes(format)) {
    throw new WaybillError('USAGE', '--format', `expected one of ${allowed.join(', ')}, got '${format}'`);
  }
  return format;
}

export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Writes to stdout and waits for it to drain, so a piped reader gets everything before we exit. */
export function out(text: string): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(text)) resolve();
    else process.stdout.once('drain', () => resolve());
  });
}
