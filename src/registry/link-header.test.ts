import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { nextLink, parseLinkHeader } from './link-header.ts';

test('Link: the next page of a tag or referrers list', () => {
  assert.equal(nextLink('</v2/a/tags/list?last=b&n=2>; rel="next"'), '/v2/a/tags/list?last=b&n=2');
  assert.equal(nextLink('<https://r/x?a=1,2>; rel=next'), 'https://r/x?a=1,2');
  assert.equal(nextLink('</p1>; rel="prev", </p3>; title="a, b"; rel="last next"'), '/p3');
  assert.equal(nextLink('</p1>; rel="prev"'), undefined);
  assert.equal(nextLink(undefined), undefined);
  assert.equal(nextLink('garbage'), undefined);
  assert.deepEqual(parseLinkHeader('<a>; REL="Next Prev"'), [{ target: 'a', rel: ['next', 'prev'] }]);
});

test('property: links written as RFC 8288 read back', () => {
  const target = fc.string({ unit: fc.constantFrom(...'abc/?&=;,:.-_019'.split('')), maxLength: 30 });
  const rel = fc.constantFrom('next', 'prev', 'last');
  fc.assert(
    fc.property(fc.array(fc.tuple(target, rel), { maxLength: 4 }), (links) => {
      const text = links.map(([t, r]) => `<${t}>; rel="${r}"`).join(', ');
      assert.deepEqual(
        parseLinkHeader(text),
        links.map(([t, r]) => ({ target: t, rel: [r] })),
      );
    }),
  );
  fc.assert(fc.property(fc.string({ maxLength: 100 }), (text) => void parseLinkHeader(text)));
});
