/**
 * Finds a recipe's outputs: each `build.outputs` pattern is matched segment by segment from the build
 * directory (`*` and `?` within one path segment, `[abc]` / `[!abc]` classes, `**` for any number of
 * directories), never following a symlink. A match is a regular file or an OCI image layout directory;
 * a symlink, a plain directory or a pattern that matches nothing makes the build fail, because what
 * is published must be exactly what the recipe made.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { WaybillError } from '../../errors.ts';
import { outputPatternProblem } from './recipe.ts';

export interface OutputMatch {
  /** Path relative to the build directory, `/`-separated. */
  path: string;
  kind: 'file' | 'oci-layout';
  /** The pattern that found it first. */
  pattern: string;
}

const GLOB_CHARS = /[*?[]/;

/** One path segment's glob as an anchored regular expression. */
export function segmentRegExp(segment: string): RegExp {
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i] as string;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close === -1) {
        out += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, close);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, (m) => `\\${m}`)}]`;
      i = close;
    } else out += c.replace(/[.+^${}()|\\\]]/g, (m) => `\\${m}`);
  }
  return new RegExp(`^${out}$`, 's');
}

async function kindOf(path: string): Promise<'file' | 'dir' | 'symlink' | 'other' | undefined> {
  try {
    const s = await lstat(path);
    if (s.isSymbolicLink()) return 'symlink';
    if (s.isFile()) return 'file';
    if (s.isDirectory()) return 'dir';
    return 'other';
  } catch {
    return undefined;
  }
}

async function subdirectories(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/** Relative paths under `base` matching `segments`, walking from `rel`. */
async function walk(base: string, rel: string, segments: readonly string[], out: Set<string>): Promise<void> {
  const [segment, ...rest] = segments;
  if (segment === undefined) {
    if (rel !== '') out.add(rel);
    return;
  }
  const here = rel === '' ? base : join(base, rel);
  const child = (name: string) => (rel === '' ? name : `${rel}/${name}`);
  if (segment === '**') {
    await walk(base, rel, rest, out);
    for (const name of await subdirectories(here)) await walk(base, child(name), segments, out);
    return;
  }
  if (!GLOB_CHARS.test(segment)) {
    const kind = await kindOf(join(here, segment));
    if (kind === undefined) return;
    if (rest.length === 0 || kind === 'dir') await walk(base, child(segment), rest, out);
    return;
  }
  const re = segmentRegExp(segment);
  const entries = await readdir(here, { withFileTypes: true }).catch(() => []);
  for (const e of entries.map((x) => x).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!re.test(e.name)) continue;
    if (rest.length === 0 || e.isDirectory()) await walk(base, child(e.name), rest, out);
  }
}

/** Every output the patterns name, sorted by path; throws when one is unusable or a pattern matches nothing. */
export async function matchOutputs(buildDir: string, patterns: readonly string[]): Promise<OutputMatch[]> {
  const found = new Map<string, OutputMatch>();
  for (const pattern of patterns) {
    const problem = outputPatternProblem(pattern);
    if (problem) throw new WaybillError('CONFIG', `build.outputs: ${pattern}`, problem);
    const paths = new Set<string>();
    await walk(buildDir, '', pattern.replace(/\/+$/, '').split('/'), paths);
    if (paths.size === 0) {
      throw new WaybillError(
        'SOURCE',
        `build.outputs: ${pattern}`,
        'the recipe produced nothing matching this pattern',
      );
    }
    for (const path of [...paths].sort()) {
      if (found.has(path)) continue;
      const full = join(buildDir, path);
      const kind = await kindOf(full);
      if (kind === 'file') found.set(path, { path, kind: 'file', pattern });
      else if (kind === 'dir' && (await kindOf(join(full, 'oci-layout'))) === 'file') {
        found.set(path, { path, kind: 'oci-layout', pattern });
      } else {
        const what =
          kind === 'dir'
            ? 'a directory but not an OCI image layout'
            : kind === 'symlink'
              ? 'a symlink'
              : 'not a regular file';
        throw new WaybillError(
          'SOURCE',
          path,
          `output is ${what}; outputs must be files or OCI image layouts`,
        );
      }
    }
  }
  return [...found.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
