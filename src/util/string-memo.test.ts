import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { memoizeString } from './string-memo.ts';

test('memoizeString gives what the function gives, computing each short argument once', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constantFrom('MIT', 'GPL-2+', '', 'x'.repeat(9)), fc.string({ maxLength: 12 }))),
      (texts) => {
        const calls = new Map<string, number>();
        const reverse = (text: string): string | undefined => {
          calls.set(text, (calls.get(text) ?? 0) + 1);
          return text === '' ? undefined : [...text].reverse().join('');
        };
        const memo = memoizeString(reverse, { maxKeyLength: 8 });
        for (const text of texts)
          assert.equal(memo(text), text === '' ? undefined : [...text].reverse().join(''));
        for (const [text, count] of calls) {
          // Remembered when short (undefined included); recomputed every time when longer.
          const expected = text.length <= 8 ? 1 : texts.filter((t) => t === text).length;
          assert.equal(count, expected, JSON.stringify(text));
        }
      },
    ),
  );
});

test('memoizeString stays bounded: past maxEntries it forgets and computes again, with the same results', () => {
  let calls = 0;
  const memo = memoizeString(
    (text) => {
      calls++;
      return text.length % 2 === 0;
    },
    { maxEntries: 3 },
  );
  for (const text of ['a', 'bb', 'ccc', 'a', 'bb', 'ccc']) memo(text);
  assert.equal(calls, 3);
  assert.equal(memo('dddd'), true); // a fourth: the memory is emptied, then holds 'dddd'
  assert.equal(memo('a'), false);
  assert.equal(calls, 5);
});
