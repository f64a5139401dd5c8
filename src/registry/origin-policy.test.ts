import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWaybillError } from '../errors.ts';
import { checkTransport, mayReceiveCredentials, parseTrustedHosts, redirectTarget } from './origin-policy.ts';

test('credentials go to the registry host, its site, or hosts the user listed', () => {
  const yes: Array<[string, string]> = [
    ['registry-1.docker.io', 'https://auth.docker.io/token'],
    ['registry.gitlab.com', 'https://gitlab.com/jwt/auth'],
    ['ghcr.io', 'https://ghcr.io/token'],
    ['reg.example.com:5000', 'https://reg.example.com/token'],
    ['127.0.0.1:5000', 'http://127.0.0.1:9999/token'],
    ['registry.corp.internal', 'https://auth.corp.internal/t'],
  ];
  for (const [registry, realm] of yes)
    assert.ok(mayReceiveCredentials(registry, new URL(realm)), `${registry} → ${realm}`);
  const no: Array<[string, string]> = [
    ['ghcr.io', 'https://evil.io/token'],
    ['ghcr.io', 'https://auth.ghcr.io.evil.net/t'],
    ['registry.example.com', 'https://example.com.evil.org/t'],
    ['127.0.0.1:5000', 'http://127.0.0.2:5000/token'],
    ['registry-1.docker.io', 'https://auth.docker.com/token'],
  ];
  for (const [registry, realm] of no)
    assert.ok(!mayReceiveCredentials(registry, new URL(realm)), `${registry} → ${realm}`);
  assert.ok(
    mayReceiveCredentials(
      'ghcr.io',
      new URL('https://sso.other.net/t'),
      parseTrustedHosts(' SSO.other.net ,x'),
    ),
  );
});

test('transports: https anywhere, http only on loopback, never user info', () => {
  checkTransport(new URL('https://r.example/v2/'), 'ref', 'x');
  checkTransport(new URL('http://127.0.0.1:5000/v2/'), 'ref', 'x');
  checkTransport(new URL('http://[::1]:5000/v2/'), 'ref', 'x');
  const refuse = (url: string, pattern: RegExp) =>
    assert.throws(
      () => checkTransport(new URL(url), 'ref', 'the token service'),
      (e: unknown) => isWaybillError(e) && pattern.test(e.message) && !e.message.includes('hunter2'),
    );
  refuse('http://r.example/token', /plain http to a host that is not loopback/);
  refuse('https://user:hunter2@r.example/token', /carries credentials in its URL; refused/);
  refuse('ftp://r.example/x', /uses ftp:/);
});

test('redirects: authorization only to the same origin; no downgrade; no user info', () => {
  const from = new URL('https://r.example/v2/a/blobs/sha256:x');
  assert.deepEqual(redirectTarget(from, '/other', 'ref'), {
    url: new URL('https://r.example/other'),
    keepAuthorization: true,
  });
  const cdn = redirectTarget(from, 'https://cdn.example/blob?sig=abc', 'ref');
  assert.equal(cdn.keepAuthorization, false);
  assert.equal(redirectTarget(from, 'https://r.example:8443/x', 'ref').keepAuthorization, false);
  assert.throws(() => redirectTarget(from, 'http://r.example/x', 'ref'), /plain http|https to/);
  assert.throws(
    () => redirectTarget(new URL('http://127.0.0.1:1/x'), 'http://u:hunter2@127.0.0.1:2/x', 'ref'),
    (e: unknown) => isWaybillError(e) && !e.message.includes('hunter2'),
  );
  assert.throws(() => redirectTarget(from, 'http://[', 'ref'), /invalid URL/);
});
