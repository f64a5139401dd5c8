/**
 * Output helpers shared by the commands: the --format option, JSON rendering, stdout that drains,
 * and the last check every text line passes on its way to a terminal.
 */
import { EXIT_BAD_INPUT, WaybillError } from '../errors.ts';
import { escapeForTerminal, neutralizeTerminalText } from '../util/terminal-escape.ts';

export type OutputFormat = 'text' | 'json' | 'sarif';

export function parseFormat(value: string | undefined, allowed: readonly string[]): string {
  const format = value ?? allowed[0] ?? 'text';
  if (!allowed.includes(format)) {
    throw new WaybillError('USAGE', '--format', `expected one of ${allowed.join(', ')}, got '${format}'`);
  }
  return format;
}

/**
 * JSON.stringify escapes C0 controls but writes DEL, the C1 controls (U+009B is a CSI to some
 * terminals), bidi overrides and other invisible characters raw. Spelled as \uXXXX they are the same
 * JSON value, and `--format json` read in a terminal stays inert.
 */
const JSON_RAW_INVISIBLE = /[\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}]/gu;

export function toJson(value: unknown): string {
  // Per UTF-16 code unit, so a character beyond the BMP (a tag character) becomes its surrogate pair.
  const text = JSON.stringify(value, null, 2).replace(JSON_RAW_INVISIBLE, (ch) =>
    Array.from({ length: ch.length }, (_, i) => `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`).join(
      '',
    ),
  );
  return `${text}\n`;
}

/**
 * Writes to stdout and waits until the bytes are handed to the OS, so a piped reader gets everything
 * before we exit. A failed write (EPIPE: the reader closed the pipe, `| head -1`; ENOSPC: `> /dev/full`)
 * rejects with one line (`standard output: cannot write (EPIPE)`), which the command reports with
 * exit code 2 like any unwritable output, never as a stack trace.
 */
export function out(text: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    if (outputFailed) {
      reject(outputError(outputFailed));
      return;
    }
    process.stdout.write(text, (e) => {
      if (!e) resolve();
      else {
        outputFailed ??= e;
        reject(outputError(e));
      }
    });
  });
}

/** The first write error on stdout: later writes fail at once with the same line. */
let outputFailed: Error | undefined;
let guarded = false;

function outputError(e: Error): WaybillError {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'EPIPE' ? 'EPIPE: the reader closed the pipe' : (code ?? e.message);
  return new WaybillError('NOT_FOUND', 'standard output', `cannot write (${why})`, { cause: e });
}

/**
 * Turns write errors on stdout and stderr into exit code 2 instead of an uncaught 'error' event (a
 * Node stack trace and exit code 1, which would mean "a rule failed"). Errors from `out` are reported
 * by the command; one from any other stdout write (commander's help) is reported here, once. stderr
 * has nowhere left to report to: its errors only set the exit code. Call once, at startup.
 */
export function guardOutputStreams(): void {
  if (guarded) return;
  guarded = true;
  process.stdout.on('error', (e: Error) => {
    process.exitCode = EXIT_BAD_INPUT;
    if (outputFailed) return;
    outputFailed = e;
    process.stderr.write(`waybill: ${outputError(e).message}\n`);
  });
  process.stderr.on('error', () => {
    process.exitCode = EXIT_BAD_INPUT;
  });
}

/**
 * A stored JSON document (a record, an SBOM) read from an artifact: to a pipe or file its bytes
 * exactly as stored, so they can be hashed against the digest a record pins; to a terminal the same
 * JSON value re-rendered by `toJson`, whose invisible characters are spelled as \u escapes (the
 * document came from an artifact and may hold anything JSON allows raw).
 */
export function outStoredDocument(bytes: Buffer, value: unknown): Promise<void> {
  return process.stdout.isTTY ? out(toJson(value)) : out(bytes);
}

/**
 * Human-readable output on stdout. Renderers escape every value (util/terminal-escape.ts); this
 * also escapes any control sequence that is not waybill's own colour, in case one forgot.
 */
export function outText(text: string, options: { color: boolean }): Promise<void> {
  return out(neutralizeTerminalText(text, { keepSgr: options.color }));
}

/** One or more lines on stderr (warnings, notes), values already escaped; same safety net. */
export function errText(text: string): void {
  process.stderr.write(neutralizeTerminalText(text, { keepSgr: false }));
}

/** The one-line form of a warning on stderr; its path and reason quote the artifact, so escaped. */
export function warningLine(w: { path: string; reason: string }): string {
  return `waybill: warning: ${escapeForTerminal(w.path)}: ${escapeForTerminal(w.reason)}\n`;
}
