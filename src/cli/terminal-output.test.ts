/**
 * Lint-style: text reaches the terminal through few, known doors, and each is guarded.
 * - Only src/cli/output.ts, src/cli/main.ts (the error line) and src/cli/progress.ts (its bar) write
 *   to stdout/stderr; the library never prints (no console.*, no process.std*.write).
 * - Commands print text with `outText` / `errText` (which neutralize any stray control sequence),
 *   and use the raw `out` only for JSON (`toJson`) or the SBOM's bytes.
 * - Every module that lays values out as text for people imports the escaper.
 * The end-to-end battery (test/e2e/terminal-injection.test.ts) checks the bytes that come out.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && entry.name !== 'testing.ts')
      out.push(full);
  }
  return out;
}

/** Source text without comments, so a comment that mentions a call does not count. */
function code(file: string): string {
  return readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

const WRITERS = new Set(['cli/output.ts', 'cli/main.ts', 'cli/progress.ts']);

test('only the CLI output helpers write to stdout or stderr', () => {
  const offenders: string[] = [];
  for (const file of sources(SRC)) {
    const rel = relative(SRC, file);
    const text = code(file);
    if (/\bconsole\.(log|error|warn|info|debug)\b/.test(text)) offenders.push(`${rel}: console.*`);
    if (/process\.(stdout|stderr)\.write\b/.test(text) && !WRITERS.has(rel))
      offenders.push(`${rel}: process.std*.write`);
  }
  assert.deepEqual(offenders, []);
});

test('commands print text through outText/errText; raw out() only for JSON or SBOM bytes', () => {
  const dir = join(SRC, 'cli', 'commands');
  const offenders: string[] = [];
  for (const file of sources(dir)) {
    const text = code(file);
    for (const m of text.matchAll(/\bout\(\s*([^\n]*)/g)) {
      const arg = m[1] as string;
      if (!/^(toJson\(|sbom\.bytes)/.test(arg))
        offenders.push(`${relative(SRC, file)}: out(${arg.slice(0, 40)}`);
    }
  }
  assert.deepEqual(offenders, []);
});

test('every module that lays values out as text imports the terminal escaper', () => {
  // A module that prints (or renders for printing) and interpolates into template literals is a
  // renderer; one that only passes along what another renderer built (check.ts) is not.
  const candidates = [
    'policy/render-text.ts',
    'cli/main.ts',
    ...sources(join(SRC, 'cli')).map((f) => relative(SRC, f)),
  ];
  const missing = candidates.filter((rel) => {
    const text = code(join(SRC, rel));
    const prints = /\b(outText|errText|out|renderText)\(|process\.std(out|err)\.write/.test(text);
    const interpolates = /`[^`]*\$\{/.test(text);
    return prints && interpolates && !/from '(\.\.\/)+util\/terminal-escape\.ts'/.test(text);
  });
  assert.deepEqual(missing, []);
  assert.ok(candidates.includes('cli/commands/inspect.ts'));
});
