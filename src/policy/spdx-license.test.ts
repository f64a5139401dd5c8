import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { canonicalExpression, evaluateAllowed, parseLicenseExpression, sameLicense } from './spdx-license.ts';

test('parses valid expressions, LicenseRef, DocumentRef, case-insensitive identifiers', () => {
  for (const ok of [
    'MIT',
    'LicenseRef-Acme',
    'DocumentRef-x:LicenseRef-y',
    'mit or apache-2.0',
    '(MIT AND BSD-3-Clause) OR Apache-2.0',
    'GPL-2.0+',
    'Apache-2.0 WITH LLVM-exception',
  ]) {
    assert.ok(parseLicenseExpression(ok), ok);
  }
  for (const bad of ['', 'Apache 2', 'ASL 2.0', 'MIT AND', '(MIT', 'GPL-2.0 +', 'Nonexistent-License-1.0']) {
    assert.equal(parseLicenseExpression(bad), undefined, bad);
  }
});

test('canonical form sorts AND/OR operands', () => {
  const c = (s: string) => canonicalExpression(parseLicenseExpression(s)!);
  assert.equal(c('MIT AND Apache-2.0'), 'Apache-2.0 AND MIT');
  assert.equal(c('(MIT OR ISC) AND Apache-2.0'), '(ISC OR MIT) AND Apache-2.0');
  assert.ok(
    sameLicense(parseLicenseExpression('mit AND apache-2.0')!, parseLicenseExpression('Apache-2.0 AND MIT')!),
  );
  assert.ok(
    !sameLicense(parseLicenseExpression('MIT OR Apache-2.0')!, parseLicenseExpression('MIT AND Apache-2.0')!),
  );
});

test('allowed: AND needs all, OR needs one branch, nested', () => {
  const allowed = (s: string, list: string[]) => evaluateAllowed(parseLicenseExpression(s)!, list).allowed;
  assert.equal(allowed('Apache-2.0', ['Apache-2.0']), true);
  assert.equal(allowed('MIT', ['Apache-2.0']), false);
  assert.equal(allowed('Apache-2.0 AND MIT', ['Apache-2.0']), false);
  assert.equal(allowed('Apache-2.0 AND MIT', ['MIT', 'Apache-2.0']), true);
  assert.equal(allowed('GPL-3.0-only OR Apache-2.0', ['Apache-2.0']), true);
  assert.equal(
    allowed('(GPL-3.0-only AND MIT) OR (Apache-2.0 AND BSD-3-Clause)', ['Apache-2.0', 'MIT']),
    false,
  );
  assert.equal(allowed('(GPL-3.0-only AND MIT) OR (Apache-2.0 AND MIT)', ['Apache-2.0', 'MIT']), true);
  assert.equal(allowed('GPL-2.0+', ['GPL-2.0-only']), true);
  assert.equal(allowed('GPL-2.0-only', ['GPL-2.0-or-later']), false, 'only is not or-later');
  assert.equal(allowed('Apache-2.0 WITH LLVM-exception', ['Apache-2.0 WITH LLVM-exception']), true);
  assert.equal(allowed('MIT', []), false);
});

test('random text never throws', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), (s) => {
      const p = parseLicenseExpression(s);
      if (p) evaluateAllowed(p, ['MIT']);
    }),
    { numRuns: 1000 },
  );
});
