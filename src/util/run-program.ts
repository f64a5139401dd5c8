/**
 * Runs a helper program (git, ssh-keygen) with a fixed argument vector, never through a shell, with
 * a deadline and bounded output. Untrusted input can make a helper block forever — a config include
 * naming a FIFO, a signature file on a stalled mount — so every run has a timeout after which the
 * child is killed (SIGKILL: a process stuck in open(2) on a FIFO ignores nothing else reliably).
 */

import { spawn } from 'node:child_process';
import { type ErrorCode, WaybillError } from '../errors.ts';

export interface ProgramResult {
  /** Exit status; 0 on success. */
  code: number;
  stdout: Buffer;
  stderr: string;
}

export interface RunProgramOptions {
  cwd?: string;
  env: NodeJS.ProcessEnv;
  /** Bytes for the child's stdin; without it stdin is /dev/null. */
  stdin?: Buffer | string;
  timeoutMs: number;
  /** Largest stdout accepted; the child is killed past it. */
  maxStdoutBytes: number;
  /** What the failure messages name as the input (a repository, a signature). */
  input: string;
  /** A short name for the command in messages, e.g. `git ls-tree`. */
  label: string;
  /** Error code for "could not start" failures. */
  spawnErrorCode: ErrorCode;
}

/** stderr is only read for diagnostics; keep its first part. */
const MAX_STDERR_BYTES = 1024 * 1024;

export function runProgram(
  command: string,
  args: readonly string[],
  opts: RunProgramOptions,
): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let failure: WaybillError | null = null;
    const fail = (e: WaybillError): void => {
      if (failure) return;
      failure = e;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => {
      const seconds = Math.round(opts.timeoutMs / 100) / 10;
      fail(
        new WaybillError(
          'LIMIT',
          opts.input,
          `${opts.label} did not finish within ${seconds} s and was stopped (a config include naming a FIFO or device, or a very large repository; see WAYBILL_GIT_TIMEOUT)`,
        ),
      );
    }, opts.timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > opts.maxStdoutBytes) {
        const mib = Math.round(opts.maxStdoutBytes / 1024 / 1024);
        fail(new WaybillError('LIMIT', opts.input, `${opts.label} printed more than ${mib} MiB`));
        return;
      }
      out.push(chunk);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      if (errBytes < MAX_STDERR_BYTES) err.push(chunk);
      errBytes += chunk.length;
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why =
        e.code === 'ENOENT'
          ? `${command} executable not found on PATH`
          : `cannot run ${command}: ${e.message}`;
      failure ??= new WaybillError(opts.spawnErrorCode, opts.input, why, { cause: e });
      reject(failure);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (failure) {
        reject(failure);
        return;
      }
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    if (child.stdin) {
      // A child that exits without reading all its input must not fail the run with EPIPE.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.stdin);
    }
  });
}
