/**
 * The tools a recipe declares (`build.tools`): where each resolves on the recipe's PATH, the SHA-256
 * of that file (after following symlinks, so `/usr/bin/cc → gcc-12` records gcc-12's bytes) and the
 * first line its version command prints. They become `resolvedDependencies` in the provenance and
 * are compared on rebuild, where a different compiler is the usual first suspect.
 */
import { execFile } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { sha256File } from '../../util/digest.ts';
import { parseToolSpec } from './recipe.ts';

export interface ToolRecord {
  /** The entry as written in `build.tools` (`go version`). */
  spec: string;
  /** Program name looked up on PATH. */
  name: string;
  /** Where it resolved (before following symlinks); null when not found. */
  path: string | null;
  /** SHA-256 (hex) of the resolved file's bytes; null when not found. */
  sha256: string | null;
  /** First non-empty line of its version command's output; null when it printed nothing or failed. */
  version: string | null;
}

const VERSION_TIMEOUT_MS = 20_000;
const MAX_VERSION_LINE = 300;

/** PATH with relative entries (and the empty entry, which means the current directory) removed. */
export function absolutePath(path: string | undefined): string {
  return (path ?? '')
    .split(':')
    .filter((dir) => dir !== '' && isAbsolute(dir))
    .join(':');
}

/** The first executable regular file named `name` on `path`. */
export async function whichProgram(name: string, path: string): Promise<string | undefined> {
  for (const dir of path.split(':')) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      if (!(await stat(candidate)).isFile()) continue;
      await access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function firstLine(text: string): string | null {
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed) return trimmed.slice(0, MAX_VERSION_LINE);
  }
  return null;
}

function versionOf(
  program: string,
  args: string[],
  env: Readonly<Record<string, string>>,
): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(
      program,
      args,
      {
        env: { ...env },
        timeout: VERSION_TIMEOUT_MS,
        maxBuffer: 1024 * 1024,
        encoding: 'utf8',
        killSignal: 'SIGKILL',
      },
      (_error, stdout, stderr) => resolve(firstLine(stdout) ?? firstLine(stderr)),
    );
  });
}

/** Records each tool as it resolves in `env` (whose PATH is the recipe's). */
export async function recordTools(
  specs: readonly string[],
  env: Readonly<Record<string, string>>,
): Promise<ToolRecord[]> {
  const records: ToolRecord[] = [];
  for (const spec of specs) {
    const { program, args } = parseToolSpec(spec);
    const path = await whichProgram(program, env.PATH ?? '');
    if (path === undefined) {
      records.push({ spec, name: program, path: null, sha256: null, version: null });
      continue;
    }
    const digest = await sha256File(await realpath(path));
    records.push({
      spec,
      name: program,
      path,
      sha256: digest.slice('sha256:'.length),
      version: await versionOf(path, args, env),
    });
  }
  return records;
}
