import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { field, parseDeb822 } from '../formats/deb/deb822.ts';
import { readStatusStanzas, type StatusReadOptions } from './dpkg-status.ts';

const FIELDS = new Set(['package', 'version', 'description', 'maintainer']);

function read(text: string | Buffer, options: Partial<StatusReadOptions> = {}) {
  const problems: string[] = [];
  const stanzas = [
    ...readStatusStanzas(Buffer.from(text), {
      fields: FIELDS,
      maxStanzas: 1000,
      maxFieldBytes: 1024,
      onProblem: (r) => problems.push(r),
      ...options,
    }),
  ].map((s): Record<string, string | number> => ({ line: s.line, ...Object.fromEntries(s.fields) }));
  return { stanzas, problems };
}

test('readStatusStanzas: kept fields only, continuation lines, comments, CRLF, first value wins', () => {
  const text =
    '# comment\r\nPackage: a\r\nVERSION: 1\r\nDepends: x,\r\n y\r\nDescription: short\r\n long one\r\n .\r\n two\r\nversion: 2\r\n\r\n \t \r\nPackage: b\nMaintainer:   Zoë <z@example.org>  \n';
  const { stanzas, problems } = read(text, { firstLineOnly: new Set() });
  assert.deepEqual(problems, []);
  assert.deepEqual(stanzas, [
    { line: 2, package: 'a', version: '1', description: 'short\nlong one\n\ntwo' },
    { line: 13, package: 'b', maintainer: 'Zoë <z@example.org>' },
  ]);
  assert.equal(read(text, { firstLineOnly: new Set(['description']) }).stanzas[0]?.description, 'short');
});

test('readStatusStanzas: a broken stanza is reported and skipped, the next one read', () => {
  const { stanzas, problems } = read(
    ' orphan\nPackage: x\n\nPackage: a\nnot a field\nVersion: 1\n\nPackage: b\n',
  );
  assert.deepEqual(stanzas, [{ line: 8, package: 'b' }]);
  assert.deepEqual(problems, [
    'line 1: continuation line with no field before it',
    'line 5: expected "Field: value", got "not a field"',
  ]);
});

test('readStatusStanzas: limits on stanzas and on kept values', () => {
  const many = 'Package: p\n\n'.repeat(5);
  const capped = read(many, { maxStanzas: 3 });
  assert.equal(capped.stanzas.length, 3);
  assert.deepEqual(capped.problems, ['line 7: more than 3 stanzas; the rest is not read']);
  const long = read(`Package: a\nMaintainer: ${'m'.repeat(2000)}\n\nPackage: b\n`);
  assert.deepEqual(long.stanzas, [{ line: 4, package: 'b' }]);
  assert.deepEqual(long.problems, ['line 1: field maintainer is longer than 1024 bytes']);
  const grown = read(`Package: a\nDescription: d\n${' x\n'.repeat(600)}\nPackage: b\n`, {
    firstLineOnly: new Set(),
  });
  assert.deepEqual(grown.problems, ['line 1: field description is longer than 1024 bytes']);
  // An unkept field may be any size: it is skipped, never decoded.
  assert.deepEqual(read(`Package: a\nConffiles: ${'c'.repeat(5000)}\n`).problems, []);
});

test('property: agrees with the general deb822 parser on well-formed stanzas', () => {
  const name = fc.constantFrom('Package', 'Version', 'Description', 'Maintainer', 'Depends', 'X-Other');
  const word = fc.stringMatching(/^[A-Za-z0-9.+~:<>@-][A-Za-z0-9.+~:<> @-]{0,20}[A-Za-z0-9.+~:<>@-]$/);
  const fieldArb = fc.record({ name, value: word, more: fc.array(word, { maxLength: 3 }) });
  const stanzaArb = fc.array(fieldArb, { minLength: 1, maxLength: 6 });
  fc.assert(
    fc.property(fc.array(stanzaArb, { minLength: 1, maxLength: 5 }), (stanzas) => {
      const text = stanzas
        .map((s) => s.map((f) => `${f.name}: ${f.value}\n${f.more.map((m) => ` ${m}\n`).join('')}`).join(''))
        .join('\n');
      const general = parseDeb822(text, 'status').stanzas;
      const lean = read(text, { firstLineOnly: new Set(), maxFieldBytes: 1 << 20 });
      assert.deepEqual(lean.problems, []);
      assert.equal(lean.stanzas.length, general.length);
      general.forEach((g, i) => {
        const mine = lean.stanzas[i] as Record<string, unknown>;
        assert.equal(mine.line, g.line);
        for (const f of FIELDS) assert.equal(mine[f], field(g, f));
      });
    }),
  );
});

/**
 * Memory, not time: the cataloger runs in a child whose V8 heap is capped at 128 MiB on a 30 MB
 * status file of small stanzas (the shape that drove RSS to 3.5 GB from a 2.7 MB layer). Reading
 * it the old way needed over a gigabyte of heap; now what is kept is bounded by the stanza limit.
 */
test('dpkg cataloger: a 30 MB status of small stanzas fits a 128 MiB heap', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'waybill-dpkg-mem-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const real = existsSync('/var/lib/dpkg/status') ? readFileSync('/var/lib/dpkg/status', 'utf8') : '';
  const small = (i: number) =>
    `Package: p${i}\nStatus: install ok installed\nVersion: 1.${i}\nArchitecture: all\n\n`;
  const parts: string[] = [real, '\n'];
  let size = real.length;
  for (let i = 0; size < 30 * 1024 * 1024; i++) {
    const s = small(i);
    parts.push(s);
    size += s.length;
  }
  const status = join(dir, 'status');
  writeFileSync(status, parts.join(''));
  const script = `
    import { readFileSync } from 'node:fs';
    import { dpkgCataloger, dpkgOwnedFiles } from ${JSON.stringify(new URL('./dpkg.ts', import.meta.url).href)};
    const data = readFileSync(process.argv[1]);
    const files = [{ entry: { path: 'var/lib/dpkg/status', type: 'file', size: data.length, mode: 420 }, data, earlier: [] }];
    const warnings = [];
    const components = await dpkgCataloger.catalog(files, { warn: (p, r) => warnings.push(r) });
    dpkgOwnedFiles(files, { warn() {} });
    console.log(JSON.stringify({ components: components.length, warnings }));
  `;
  const r = spawnSync(
    process.execPath,
    ['--max-old-space-size=128', '--input-type=module', '-e', script, status],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  const out = JSON.parse(r.stdout) as { components: number; warnings: string[] };
  // 50 000 stanzas read: this machine's real ones (installed or not) first, then the small ones.
  assert.ok(out.components > 45_000 && out.components <= 50_000, String(out.components));
  assert.deepEqual(out.warnings.filter((w) => /more than 50000 stanzas/.test(w)).length, 1);
});
