import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isWaybillError } from '../errors.ts';
import {
  type Challenge,
  MAX_CHALLENGE_HEADER,
  parseWwwAuthenticate,
  quoteParam,
} from './www-authenticate.ts';

test('WWW-Authenticate: the challenges registries send', () => {
  // Docker Hub.
  assert.deepEqual(
    parseWwwAuthenticate(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
    ),
    [
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/alpine:pull',
        },
      },
    ],
  );
  // distribution's htpasswd.
  assert.deepEqual(parseWwwAuthenticate('Basic realm="waybill-test"'), [
    { scheme: 'basic', params: { realm: 'waybill-test' } },
  ]);
  // RFC 6750 error on an insufficient scope, spaces around "=", token values, upper-case names.
  assert.deepEqual(
    parseWwwAuthenticate('Bearer REALM = "https://r/t" , error=insufficient_scope, scope="a:b:pull,push"'),
    [
      {
        scheme: 'bearer',
        params: { realm: 'https://r/t', error: 'insufficient_scope', scope: 'a:b:pull,push' },
      },
    ],
  );
});

test('WWW-Authenticate: several challenges, token68, escapes, empty elements', () => {
  assert.deepEqual(
    parseWwwAuthenticate('Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"'),
    [
      { scheme: 'newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
      { scheme: 'basic', params: { realm: 'simple' } },
    ],
  );
  assert.deepEqual(parseWwwAuthenticate('Negotiate abc+/def==, Basic'), [
    { scheme: 'negotiate', params: {}, token68: 'abc+/def==' },
    { scheme: 'basic', params: {} },
  ]);
  assert.deepEqual(parseWwwAuthenticate(' , Basic realm="x",, '), [
    { scheme: 'basic', params: { realm: 'x' } },
  ]);
  assert.deepEqual(parseWwwAuthenticate(''), []);
  // The first of a repeated parameter wins; a parameter named __proto__ is only data.
  const [first] = parseWwwAuthenticate('Bearer realm="a", realm="b", __proto__="x"');
  assert.equal(first?.params.realm, 'a');
  assert.equal(Object.getPrototypeOf(first?.params), Object.prototype);
  assert.deepEqual(Object.entries(first?.params ?? {}), [
    ['realm', 'a'],
    ['__proto__', 'x'],
  ]);
});

test('WWW-Authenticate: malformed headers are one MALFORMED line', () => {
  for (const text of [
    'Bearer realm="unterminated',
    'Bearer realm="a" junk',
    '"quoted-scheme"',
    'Bearer realm="bad\u0001control"',
    'Basic abc def',
    'x'.repeat(MAX_CHALLENGE_HEADER + 1),
  ]) {
    assert.throws(
      () => parseWwwAuthenticate(text),
      (e: unknown) => isWaybillError(e) && e.code === 'MALFORMED' && !e.message.includes('\n'),
      JSON.stringify(text.slice(0, 40)),
    );
  }
});

const token = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,12}$/);
const paramValue = fc.string({
  unit: fc.constantFrom(...' !#$%&()*+,-./:;<=>?@[]^_`{|}~azAZ09"\\\t'.split('')),
  maxLength: 20,
});
const challenge = fc.record({
  scheme: token,
  params: fc.dictionary(
    token.map((t) => t.toLowerCase()),
    paramValue,
    { maxKeys: 4 },
  ),
});

function serialize(c: { scheme: string; params: Record<string, string> }): string {
  const params = Object.entries(c.params).map(([k, v]) => `${k}=${quoteParam(v)}`);
  return params.length ? `${c.scheme} ${params.join(', ')}` : c.scheme;
}

test('property: serialized challenges parse back to the same schemes and parameters', () => {
  fc.assert(
    fc.property(fc.array(challenge, { minLength: 1, maxLength: 4 }), (challenges) => {
      const parsed = parseWwwAuthenticate(challenges.map(serialize).join(', '));
      const expected: Challenge[] = challenges.map((c) => ({
        scheme: c.scheme.toLowerCase(),
        params: { ...c.params },
      }));
      assert.deepEqual(parsed, expected);
    }),
  );
});

test('property: any header text parses or throws MALFORMED, in bounded time', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (text) => {
      try {
        for (const c of parseWwwAuthenticate(text)) assert.equal(c.scheme, c.scheme.toLowerCase());
      } catch (e) {
        assert.ok(isWaybillError(e) && e.code === 'MALFORMED', String(e));
      }
    }),
    { numRuns: 3000 },
  );
});
