import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { shown } from './terminal-text.ts';

test('control characters become visible escapes; other text is unchanged', () => {
  assert.equal(shown('make dist'), 'make dist');
  assert.equal(shown('héllo ✓'), 'héllo ✓');
  assert.equal(shown('rm -rf ~\x1b[2K\rmake dist'), 'rm -rf ~\\x1b[2K\\rmake dist');
  assert.equal(shown('a\nb\tc\x7f\x9b'), 'a\\nb\\tc\\x7f\\x9b');
});

test('fast-check: nothing shown contains a control character', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (s) => {
      assert.doesNotMatch(shown(s), /[\u0000-\u001f\u007f-\u009f]/);
    }),
  );
});
