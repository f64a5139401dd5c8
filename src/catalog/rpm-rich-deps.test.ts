import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { richDependencyNames } from './rpm-rich-deps.ts';

test('rich dependencies: the names that may satisfy them, never a condition', () => {
  assert.deepEqual(richDependencyNames('(foo or bar)'), ['foo', 'bar']);
  assert.deepEqual(richDependencyNames('(foo >= 1.2 and (bar or /usr/bin/baz))'), [
    'foo',
    'bar',
    '/usr/bin/baz',
  ]);
  assert.deepEqual(richDependencyNames('(foo if bar)'), ['foo']);
  assert.deepEqual(richDependencyNames('(foo if bar else baz)'), ['foo', 'baz']);
  assert.deepEqual(richDependencyNames('(foo unless bar else baz)'), ['foo', 'baz']);
  assert.deepEqual(richDependencyNames('(foo-libs(x86-64) = 1:2-3 with foo-libs(x86-64) < 1:3)'), [
    'foo-libs(x86-64)',
  ]);
  assert.deepEqual(richDependencyNames('(kernel without kernel-rt)'), ['kernel']);
  // Plain capabilities and broken expressions are not rich dependencies.
  assert.equal(richDependencyNames('foo'), undefined);
  assert.equal(richDependencyNames('libc.so.6()(64bit)'), undefined);
  assert.equal(richDependencyNames('(foo or'), undefined);
  assert.equal(richDependencyNames('(foo bar)'), undefined);
  assert.equal(richDependencyNames('(foo else bar)'), undefined);
  assert.equal(richDependencyNames('(foo) extra'), undefined);
  assert.equal(richDependencyNames(`${'('.repeat(100)}foo${')'.repeat(100)}`), undefined);
});

test('property: any string gives names or undefined, never a throw', () => {
  const part = fc.constantFrom(...'( ) and or if else with without unless foo >= 1 perl(X)'.split(' '));
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.array(part, { maxLength: 40 }).map((a) => a.join(' ')),
      ),
      (text) => {
        const names = richDependencyNames(text);
        assert.ok(names === undefined || (Array.isArray(names) && names.length > 0));
      },
    ),
  );
});
