/**
 * Runs the real `git` binary against a checkout we do not trust.
 *
 * The repository's own `.git/config` is attacker-controlled when we verify someone else's tag, and
 * several keys in it make git run programs (core.fsmonitor, gpg.program, gpg.ssh.program…). Command
 * line `-c` options win over repository config, so every invocation pins those keys. The environment
 * is rebuilt too: inherited GIT_* variables (GIT_DIR from a hook, GIT_CONFIG_PARAMETERS…) would make
 * git look at a different repository or configuration than the one named by `dir`.
 */

import { execFile } from 'node:child_process';
import { WaybillError } from '../errors.ts';

export interface GitResult {
  /** Exit status; 0 on success. */
  code: number;
  /** Raw stdout bytes (tag objects and ref names need not be UTF-8). */
  stdout: Buffer;
  stderr: string;
}

export interface GitRunOptions {
  /** Bytes written to git's stdin (`cat-file --batch`); stdin is closed empty without it. */
  input?: Uint8Array;
  /** Output cap for this call instead of the default 64 MiB (a large blob read on its own). */
  maxOutputBytes?: number;
}

export interface GitRunner {
  /** The directory git runs in. */
  readonly dir: string;
  run(args: readonly string[], options?: GitRunOptions): Promise<GitResult>;
}

/** Keys that would make git execute a program of the repository's choosing. */
const PINNED_CONFIG: readonly string[] = [
  'core.fsmonitor=false',
  'core.pager=cat',
  'gpg.program=gpg',
  'gpg.openpgp.program=gpg',
  'gpg.x509.program=gpgsm',
  'gpg.ssh.program=ssh-keygen',
  // A hostile repository could point git at its own revocation list; it can only reject, but keep
  // verification independent of the checkout.
  'gpg.ssh.revocationFile=/dev/null',
];

/** Largest output we accept from one git command (tag listings of huge repositories fit easily). */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/** GIT_* variables that are about the user's setup rather than the repository, so we keep them. */
const KEPT_GIT_VARIABLES = new Set(['GIT_CONFIG_GLOBAL']);

export function gitEnvironment(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('GIT_') && !KEPT_GIT_VARIABLES.has(key)) continue;
    env[key] = value;
  }
  Object.assign(env, {
    GIT_CONFIG_NOSYSTEM: '1',
    LC_ALL: 'C',
    LANG: 'C',
    LANGUAGE: 'C',
    GIT_PAGER: 'cat',
    PAGER: 'cat',
    GIT_TERMINAL_PROMPT: '0',
    // `git status` would otherwise refresh and rewrite .git/index: verification must not write.
    GIT_OPTIONAL_LOCKS: '0',
  });
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/**
 * A runner bound to `dir`. `extraConfig` are more `-c key=value` pairs (allowed signers file…);
 * `extraEnv` are environment variables (GNUPGHOME…).
 */
export function gitRunner(
  dir: string,
  extraConfig: readonly string[] = [],
  extraEnv: Record<string, string | undefined> = {},
): GitRunner {
  const env = gitEnvironment(extraEnv);
  const configArgs = [...PINNED_CONFIG, ...extraConfig].flatMap((kv) => ['-c', kv]);
  return {
    dir,
    run(args, options = {}) {
      const maxBuffer = options.maxOutputBytes ?? MAX_OUTPUT_BYTES;
      return new Promise((resolve, reject) => {
        const child = execFile(
          'git',
          ['--no-pager', ...configArgs, ...args],
          { cwd: dir, env, encoding: 'buffer', maxBuffer, windowsHide: true },
          (error, stdout, stderr) => {
            const err = error as (NodeJS.ErrnoException & { code?: unknown }) | null;
            if (err && typeof err.code === 'string') {
              // A spawn failure (no git, cwd gone) or the output limit: the input is unusable.
              if (err.code === 'ENOENT' && err.syscall?.startsWith('spawn')) {
                reject(new WaybillError('SOURCE', dir, 'git executable not found on PATH', { cause: err }));
              } else if (err.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
                const limit = `${Math.round(maxBuffer / 1024 / 1024)} MiB`;
                reject(
                  new WaybillError('LIMIT', dir, `git ${args[0]} printed more than ${limit}`, { cause: err }),
                );
              } else {
                reject(new WaybillError('SOURCE', dir, `cannot run git: ${err.message}`, { cause: err }));
              }
              return;
            }
            const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
            resolve({ code, stdout, stderr: stderr.toString('utf8') });
          },
        );
        // Only `cat-file --batch` reads stdin; for everything else close it so nothing can wait on it.
        // A git that exits before reading all of it must not crash us with EPIPE.
        child.stdin?.on('error', () => undefined);
        child.stdin?.end(options.input);
      });
    },
  };
}

/** Runs and insists on success; a failure here means the repository cannot be used. */
export async function gitOk(
  git: GitRunner,
  args: readonly string[],
  options?: GitRunOptions,
): Promise<Buffer> {
  const result = await git.run(args, options);
  if (result.code !== 0) {
    const why = firstLine(result.stderr) || `exit status ${result.code}`;
    throw new WaybillError('SOURCE', git.dir, `git ${args[0]} failed: ${why}`);
  }
  return result.stdout;
}

export function firstLine(text: string): string {
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed) return trimmed;
  }
  return '';
}
