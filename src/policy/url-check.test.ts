import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { checkWebUrl, sameWebUrl } from './url-check.ts';

test('https ok; http and credentials weak; others bad', () => {
  assert.equal(checkWebUrl('https://bugs.example.org/x').ok, true);
  const kind = (u: string) => {
    const v = checkWebUrl(u);
    return v.ok ? 'ok' : v.kind;
  };
  assert.equal(kind('http://bugs.example.org'), 'weak');
  assert.equal(kind('https://a:b@bugs.example.org'), 'weak');
  for (const bad of [
    '',
    'ftp://x.org/',
    '/relative',
    'bugs.example.org',
    'mailto:a@b.org',
    'javascript:alert(1)',
    'file:///etc',
  ]) {
    assert.equal(kind(bad), 'bad', bad);
  }
});

test('same URL modulo case, default port, trailing slash', () => {
  assert.ok(sameWebUrl('https://Bugs.Example.org:443/kolla/', 'https://bugs.example.org/kolla'));
  assert.ok(!sameWebUrl('https://bugs.example.org/kolla', 'https://bugs.example.org/nova'));
});

test('never throws', () => {
  fc.assert(
    fc.property(fc.string(), fc.string(), (a, b) => {
      checkWebUrl(a);
      sameWebUrl(a, b);
    }),
  );
});
