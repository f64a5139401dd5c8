/**
 * Lint: every file waybill writes goes through the one writer (atomic-write.ts: temp file with
 * O_EXCL|O_NOFOLLOW, never through a link, rename last) or the modules built on it (staging.ts for
 * several files published together, lock.ts for the O_EXCL lock file). Any other module that calls a
 * filesystem write directly fails this test, naming the line; the few exceptions are listed with the
 * reason they are safe.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('..', import.meta.url));

/** The writer and the modules built on it. */
const WRITERS = new Set(['util/atomic-write.ts', 'util/staging.ts', 'util/lock.ts']);

/** Modules allowed one kind of direct write, and why it is safe. */
const EXCEPTIONS: Record<string, { calls: RegExp; why: string }> = {
  'formats/rpm/rpmdb-sqlite.ts': {
    calls: /\b(mkdtempSync|writeFileSync)\(/,
    why: 'SQLite reads a file: a copy goes into a fresh private mkdtemp directory (0700), removed after',
  },
  'sources/spill.ts': {
    calls: /\b(mkdtempSync|openSync)\(/,
    why: 'a wanted file too large to hold is written into a fresh private mkdtemp directory (0700), exclusive create (wx+, 0600), condensed from there and removed after',
  },
  'provenance/build/scratch.ts': {
    calls: /\bmkdtemp\(/,
    why: 'the private build root of a recipe: a fresh mkdtemp directory (0700), removed after',
  },
  'provenance/build/isolation.ts': {
    calls: /\bmkdtemp\(/,
    why: 'the namespace probe binds a fresh private mkdtemp directory (0700) onto itself, removed after',
  },
  'provenance/build/extract.ts': {
    calls: /\bsymlink\(/,
    why: 'unpacks a source archive into the fresh private build root only; files are created O_EXCL|O_NOFOLLOW, nothing is written under a link the archive made',
  },
  'provenance/build/publish.ts': {
    calls: /\brename\(/,
    why: 'an OCI layout output is copied file by file through the one writer into a fresh temp directory, which is then renamed into place whole',
  },
  'util/private-temp.ts': {
    calls: /\b(mkdtemp|writeFile)\(/,
    why: 'ssh-keygen -Y and gpg --verify read signatures from files: a fresh private mkdtemp directory (0700), exclusive create, removed after',
  },
};

/** Calls that create, replace or change the content of a file. */
const WRITE_CALLS: readonly RegExp[] = [
  /\b(writeFile|writeFileSync|appendFile|appendFileSync)\(/,
  /\b(createWriteStream)\(/,
  /\b(copyFile|copyFileSync|cp|cpSync)\(/,
  /\b(rename|renameSync|link|linkSync|symlink|symlinkSync)\(/,
  /\b(truncate|truncateSync|ftruncate)\(/,
  /\b(mkdtemp|mkdtempSync)\(/,
  /\bopen(Sync)?\([^)]*(['"](w|wx|a|ax|r\+|w\+|a\+)['"]|O_WRONLY|O_RDWR|O_CREAT)/,
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(SRC, join(e.parentPath, e.name)))
    .filter((p) => !/\.test\.ts$|(^|\/)(testing|test-support)\.ts$|\.d\.ts$/.test(p))
    .sort();
}

/** Code without comments (line comments and block comments), so prose that names a call is no call. */
function code(text: string): string[] {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ''))
    .split('\n')
    .map((line) => line.replace(/(^|[^:'"`])\/\/.*$/, '$1'));
}

test('no module writes a file except through the one writer', () => {
  const offenders: string[] = [];
  for (const file of sources(SRC)) {
    if (WRITERS.has(file)) continue;
    const exception = EXCEPTIONS[file];
    code(readFileSync(join(SRC, file), 'utf8')).forEach((line, i) => {
      for (const pattern of WRITE_CALLS) {
        if (!pattern.test(line) || exception?.calls.test(line)) continue;
        offenders.push(`src/${file}:${i + 1}: ${line.trim()}`);
      }
    });
  }
  assert.deepEqual(offenders, [], `write through util/atomic-write.ts instead:\n${offenders.join('\n')}`);
});

test('the lint sees a direct write', () => {
  const lines = code(
    "await writeFile(path, data);\n// rename(a, b) in a comment\nopen(p, 'w');\nopen(p, 'r');",
  );
  const hits = lines.filter((l) => WRITE_CALLS.some((p) => p.test(l)));
  assert.deepEqual(hits, ['await writeFile(path, data);', "open(p, 'w');"]);
});
