import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { isWaybillError } from '../errors.ts';
import { sha256Digest } from '../util/digest.ts';
import { compareNames, formatSha256Sums, parseSha256Sums } from './sha256sums.ts';

const HEX = 'ab'.repeat(32);

test('reads GNU text and binary lines, escaped names, the BSD tag form and CR LF endings', () => {
  const text = [
    `${HEX}  hello.tar.gz`,
    `${HEX.toUpperCase()} *hello.tar.gz.cdx.json`,
    `\\${HEX}  back\\\\slash\\nnewline`,
    `SHA256 (tagged name) = ${HEX}\r`,
    '',
  ].join('\n');
  assert.deepEqual(parseSha256Sums(text, 'SUMS'), [
    { name: 'hello.tar.gz', digest: `sha256:${HEX}` },
    { name: 'hello.tar.gz.cdx.json', digest: `sha256:${HEX}` },
    { name: 'back\\slash\nnewline', digest: `sha256:${HEX}` },
    { name: 'tagged name', digest: `sha256:${HEX}` },
  ]);
});

test('refuses other algorithms, short digests, bad escapes and names listed twice, naming the line', () => {
  const cases: Array<[string, RegExp]> = [
    [`${'a'.repeat(32)}  md5-sized`, /SUMS: line 1: not a SHA-256 checksum line/],
    [`${HEX} x`, /line 1: not a SHA-256/],
    [`ok\n${HEX}  a`, /line 1/],
    [`${HEX}  a\n${HEX}  b\n${HEX}  a`, /line 3: "a" is listed twice/],
    [`\\${HEX}  bad\\escape`, /line 1: bad escape/],
    [`SHA512 (x) = ${HEX}`, /not a SHA-256/],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseSha256Sums(text, 'SUMS'),
      (e) => isWaybillError(e) && e.code === 'MALFORMED' && message.test(e.message),
      text,
    );
  }
});

test('writes sorted by the bytes of the name (C locale), text mode, lowercase', () => {
  const text = formatSha256Sums([
    { name: 'b', digest: `sha256:${HEX}` },
    { name: 'B', digest: `sha256:${HEX}` },
    { name: 'é', digest: `sha256:${HEX}` },
    { name: 'a.txt', digest: `sha256:${HEX}` },
  ]);
  assert.equal(text, `${HEX}  B\n${HEX}  a.txt\n${HEX}  b\n${HEX}  é\n`);
  assert.throws(() => formatSha256Sums([{ name: 'x', digest: 'sha256:AB' }]));
});

test('property: whatever names, the written list reads back the same, sorted', () => {
  // Printable ASCII plus what the format must escape or could confuse (fc's 'binary' unit is slow to build).
  const unit = fc.oneof(
    fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    fc.constantFrom('\\', '\n', '\r', '\t', '*', '(', ') = ', 'é', '😀', '\u202e'),
  );
  const name = fc.string({ minLength: 1, maxLength: 24, unit });
  const digest = fc
    .uint8Array({ minLength: 32, maxLength: 32 })
    .map((b) => `sha256:${Buffer.from(b).toString('hex')}`);
  fc.assert(
    fc.property(
      fc.uniqueArray(
        fc.record({ name, digest }).map((l) => ({ name: l.name, digest: l.digest })),
        { selector: (l) => l.name, maxLength: 12 },
      ),
      (lines) => {
        const parsed = parseSha256Sums(formatSha256Sums(lines), 'SUMS');
        const sorted = [...lines].sort((a, b) => compareNames(a.name, b.name));
        assert.deepEqual(parsed, sorted);
      },
    ),
    { numRuns: 300 },
  );
});

test('property: arbitrary text either parses or fails with one MALFORMED line', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (text) => {
      try {
        parseSha256Sums(text, 'SUMS');
      } catch (e) {
        assert.ok(isWaybillError(e) && e.code === 'MALFORMED' && !e.message.includes('\n'), String(e));
      }
    }),
    { numRuns: 500 },
  );
});

test('real coreutils: `sha256sum -c` accepts what is written, and waybill reads what sha256sum writes', (t) => {
  try {
    execFileSync('sha256sum', ['--version'], { stdio: 'ignore' });
  } catch {
    t.skip('sha256sum (coreutils) is not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'waybill-sums-'));
  try {
    const files: Record<string, string> = {
      'hello.tar.gz': 'tarball bytes',
      'hello.tar.gz.waybill.json': '{}',
      'with space': 'x',
      'back\\slash': 'y',
      ünïcode: 'z',
    };
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    const lines = Object.entries(files).map(([name, content]) => ({ name, digest: sha256Digest(content) }));
    writeFileSync(join(dir, 'SHA256SUMS'), formatSha256Sums(lines));
    const checked = execFileSync('sha256sum', ['-c', '--strict', 'SHA256SUMS'], {
      cwd: dir,
      encoding: 'utf8',
    });
    assert.equal(checked.trim().split('\n').length, 5);
    const theirs = execFileSync('sha256sum', Object.keys(files), { cwd: dir });
    const parsed = parseSha256Sums(theirs.toString('utf8'), 'sha256sum output');
    assert.deepEqual(
      parsed.sort((a, b) => compareNames(a.name, b.name)),
      lines.sort((a, b) => compareNames(a.name, b.name)),
    );
    const tagged = execFileSync('sha256sum', ['--tag', 'with space'], { cwd: dir, encoding: 'utf8' });
    assert.deepEqual(parseSha256Sums(tagged, 'tagged'), [{ name: 'with space', digest: sha256Digest('x') }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
