/**
 * Lint: every `git` process is started by the hardened runner (git-exec.ts). A repository's config
 * names programs git runs; a plain `execFile('git', …)` anywhere else undoes the runner's pins (the
 * commit date used to be read that way, and `log.showSignature` + `gpg.program` ran a program).
 *
 * Scans src/, scripts/ and bin/ for a call whose first argument names git — a literal (`'git'`,
 * `'/usr/bin/git'`, `` `git log …` ``) or a variable initialised with one — whatever the function:
 * child_process, runProgram, or a local wrapper around them.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCANNED = ['src', 'scripts', 'bin'];
const RUNNER = path.join('src', 'provenance', 'git-exec.ts');
const SOURCE_FILE = /\.(?:[cm]?js|ts)$/;

/** A string literal's text names the git program, maybe by a file path (not a URL). */
const GIT_PROGRAM = /^(?:\.{0,2}\/[^\s:]*\/)?git$/;
/** A shell command line starting git, as `exec` takes it. */
const GIT_COMMAND_LINE = /^(?:\S*\/)?git\s/;
/** Functions that take a shell command line. */
const SHELL_LAUNCHERS = new Set(['exec', 'execSync', 'spawn', 'spawnSync']);

interface Literal {
  start: number;
  end: number;
  text: string;
}

/**
 * Blanks comments and collects string literals (template literals without `${…}` only), so that
 * calls can be found with regular expressions on the remaining code. Offsets and line breaks are
 * kept, so positions in `code` are positions in `source`.
 */
function scan(source: string): { code: string; literals: Literal[] } {
  const parts: string[] = [];
  const literals: Literal[] = [];
  // Not spaces: long blank runs would make `\s*` in the call patterns backtrack quadratically.
  const blank = (text: string) => text.replace(/[^\n]/g, '#');
  let i = 0;
  let copied = 0;
  while (i < source.length) {
    const ch = source[i]!;
    const next = source[i + 1];
    let stop = -1;
    let replacement = '';
    if (ch === '/' && (next === '/' || next === '*')) {
      const end = next === '/' ? source.indexOf('\n', i) : source.indexOf('*/', i + 2);
      stop = end === -1 ? source.length : next === '/' ? end : end + 2;
      replacement = blank(source.slice(i, stop));
    } else if (ch === "'" || ch === '"' || ch === '`') {
      let j = i + 1;
      let text = '';
      let interpolated = false;
      while (j < source.length && source[j] !== ch) {
        if (source[j] === '\\') {
          text += source[j + 1] ?? '';
          j += 2;
          continue;
        }
        if (ch === '`' && source[j] === '$' && source[j + 1] === '{') interpolated = true;
        text += source[j];
        j += 1;
      }
      stop = Math.min(j + 1, source.length);
      if (!interpolated) literals.push({ start: i, end: stop, text });
      // The quotes stay, so call patterns still see "a literal starts here".
      replacement = ch + blank(source.slice(i + 1, stop - 1)) + (stop - i >= 2 ? ch : '');
    }
    if (stop === -1) {
      i += 1;
      continue;
    }
    parts.push(source.slice(copied, i), replacement);
    i = stop;
    copied = stop;
  }
  parts.push(source.slice(copied));
  return { code: parts.join(''), literals };
}

/** `line:column: …` for every call that starts git outside the runner. */
export function rawGitCalls(source: string): string[] {
  const { code, literals } = scan(source);
  const literalAt = new Map(literals.map((l) => [l.start, l]));
  const names = (l: Literal | undefined, callee = '') =>
    l !== undefined &&
    (GIT_PROGRAM.test(l.text.trim()) ||
      (SHELL_LAUNCHERS.has(callee) && GIT_COMMAND_LINE.test(l.text.trim())));
  // Identifiers bound to a git literal: `const cmd = 'git'`.
  const gitVariables = new Set<string>();
  for (const m of code.matchAll(/\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=\s*(?=['"`])/g)) {
    if (names(literalAt.get(m.index + m[0].length))) gitVariables.add(m[1]!);
  }
  const found: string[] = [];
  const where = (index: number) => {
    const before = code.slice(0, index);
    const line = before.split('\n').length;
    return `${line}:${index - before.lastIndexOf('\n')}`;
  };
  for (const m of code.matchAll(/([\w$]+)\s*\(\s*(?=['"`])/g)) {
    if (names(literalAt.get(m.index + m[0].length), m[1])) {
      found.push(`${where(m.index)}: git named as a command`);
    }
  }
  for (const m of code.matchAll(/[\w$\])]\s*\(\s*([A-Za-z_$][\w$]*)\s*[,)]/g)) {
    if (gitVariables.has(m[1]!)) found.push(`${where(m.index)}: git named as a command (via ${m[1]})`);
  }
  return found;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(rel));
    else if (SOURCE_FILE.test(entry.name)) out.push(rel);
  }
  return out;
}

test('no module starts git outside the hardened runner (src/, scripts/, bin/)', () => {
  const files = SCANNED.flatMap(sourceFiles).filter((f) => f !== RUNNER);
  assert.ok(files.length > 50, `scanned only ${files.length} files`);
  const offences = files.flatMap((f) =>
    rawGitCalls(readFileSync(path.join(ROOT, f), 'utf8')).map((o) => `${f}:${o}`),
  );
  assert.deepEqual(offences, [], 'use gitRunner() from src/provenance/git-exec.ts');
});

test('the runner itself is where git is started', () => {
  assert.ok(rawGitCalls(readFileSync(path.join(ROOT, RUNNER), 'utf8')).length > 0);
});

test('the lint catches the ways git gets started', () => {
  const caught = [
    `import { execFileSync } from 'node:child_process';\nexecFileSync('git', ['-C', d, 'log']);`,
    `const { spawn } = require("child_process");\nspawn("/usr/bin/git", ["status"]);`,
    `import { runProgram } from '../util/run-program.ts';\nawait runProgram('git', args, o);`,
    'exec(`git log -1 --format=%cI`, cb);',
    `const cmd = 'git';\nspawnSync(cmd, ['status']);`,
    `const exe: string = "git";\nexecFile(exe);`,
    `function run(c, a) { return execFileSync(c, a); }\nrun('git', ['tag', '-v', 'v1']);`,
    `child_process.execFile( 'git' , [])`,
  ];
  for (const source of caught) assert.equal(rawGitCalls(source).length, 1, source);
  const fine = [
    `// execFileSync('git', ['log'])\nconst x = 1;`,
    `/* spawn('git') */`,
    `const NAMESPACE = 'git';\nrunProgram('ssh-keygen', ['-Y', 'verify', '-n', NAMESPACE]);`,
    `execFile('github-cli', ['x']);`,
    `const url = 'https://github.com/git/git';\nfetch(url);`,
    `gitRunner(dir).run(['log']);`,
    `describe('git tags', () => {});`,
  ];
  for (const source of fine) assert.deepEqual(rawGitCalls(source), [], source);
});
