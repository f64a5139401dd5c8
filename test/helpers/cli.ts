/** Runs the real `waybill` executable as a user would, for end-to-end tests. */
import { spawn } from 'node:child_process';
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

export function waybill(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WAYBILL_BIN, ...args], {
      cwd: opts.cwd,
      env: { ...process.env, NO_COLOR: '1', ...ISOLATED_POLICY_ENV, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Runs waybill and parses its JSON output; fails with the whole output when it is not JSON. */
export async function waybillJson<T = unknown>(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
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
