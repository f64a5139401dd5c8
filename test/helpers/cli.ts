/** Runs the real `waybill` executable as a user would, for end-to-end tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const WAYBILL_BIN = fileURLToPath(new URL('../../bin/waybill.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The consumer's own policy comes from $WAYBILL_POLICY or the user's config directory; runs are
 * isolated from the developer's (an empty, absent config directory) unless a test sets them.
 */
const ISOLATED_POLICY_ENV: NodeJS.ProcessEnv = {
  XDG_CONFIG_HOME: '/nonexistent/waybill-test-config',
  WAYBILL_POLICY: '',
};

export interface CliOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Kill the run (SIGKILL) after this long; it then ends with code -1 and `[timed out]` on stderr. */
  timeoutMs?: number;
  /** A file descriptor for stdout (`/dev/full`…) instead of a pipe read into `stdout`. */
  stdout?: number;
  /** Written to stdin (otherwise stdin is empty: a closed pipe). */
  input?: string;
}

export interface RunningCli {
  child: ChildProcess;
  /** Settles when the process has exited and its output is read. */
  result: Promise<CliResult>;
}

/** Starts the real `waybill` and returns at once: for tests that act on it while it runs. */
export function startWaybill(args: string[], opts: CliOptions = {}): RunningCli {
  const child = spawn(process.execPath, [WAYBILL_BIN, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: '1', ...ISOLATED_POLICY_ENV, ...opts.env },
    stdio: ['pipe', opts.stdout ?? 'pipe', 'pipe'],
  });
  child.stdin?.on('error', () => {});
  child.stdin?.end(opts.input ?? '');
  const result = new Promise<CliResult>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, opts.timeoutMs);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code: timedOut ? -1 : (code ?? -1),
        stdout,
        stderr: timedOut ? `${stderr}\n[timed out]` : stderr,
      });
    });
  });
  return { child, result };
}

export function waybill(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return startWaybill(args, opts).result;
}

/** Runs waybill and parses its JSON output; fails with the whole output when it is not JSON. */
export async function waybillJson<T = unknown>(
  args: string[],
  opts: CliOptions = {},
): Promise<{ code: number; json: T; stderr: string }> {
  const result = await waybill([...args, '--format', 'json'], opts);
  try {
    return { code: result.code, json: JSON.parse(result.stdout) as T, stderr: result.stderr };
  } catch {
    throw new Error(
      `waybill ${args.join(' ')} exited ${result.code} without JSON:\n${result.stdout}\n${result.stderr}`,
    );
  }
}
