import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { jsonKind } from './json-kind.ts';

test('jsonKind: every JSON kind with its article, never the value itself', () => {
  assert.deepEqual([null, [], {}, 'x', 1, true, undefined].map(jsonKind), [
    'null',
    'an array',
    'an object',
    'a string',
    'a number',
    'a boolean',
    'an undefined',
  ]);
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      const kind = jsonKind(v);
      assert.match(kind, /^(null|an array|an object|a string|a number|a boolean)$/);
    }),
  );
});
