import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { WaybillError } from '../errors.ts';
import { checkWebUrl, displayUrl, requirePublishableUrl, sameWebUrl } from './url-check.ts';

const kind = (u: string) => {
  const v = checkWebUrl(u);
  return v.ok ? 'ok' : v.kind;
};

test('https ok; http weak; relative, hostless and other schemes bad', () => {
  assert.equal(kind('https://bugs.example.org/x'), 'ok');
  assert.equal(kind('  https://bugs.example.org/x  '), 'ok');
  assert.equal(kind('http://bugs.example.org'), 'weak');
  for (const bad of [
    '',
    'ftp://x.org/',
    '/relative',
    'bugs.example.org',
    'mailto:a@b.org',
    'https://a b.org/',
  ]) {
    assert.equal(kind(bad), 'bad', bad);
  }
});

test('credentials, control and bidi characters, and script or local schemes are unsafe', () => {
  for (const unsafe of [
    'https://a:b@bugs.example.org',
    'https://token@bugs.example.org/x',
    'http://user:pa/ss@bugs.example.org/x',
    'javascript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'file:///etc/passwd',
    'https://bugs.example.org/\n  signature    verified',
    'https://bugs.example.org/\t',
    'https://bugs.example.org/\u001b[2J',
    'https://bugs.example.org/\u202egnp.exe',
    'https://bugs.example.org/\u0085',
  ]) {
    assert.equal(kind(unsafe), 'unsafe', JSON.stringify(unsafe));
  }
});

test('problems never show the credentials or raw control characters', () => {
  const v = checkWebUrl('https://deploy:s3cr3t@bugs.example.org/x');
  assert.ok(!v.ok);
  assert.equal(v.problem, '"https://***@bugs.example.org/x" embeds credentials (user info)');
  const c = checkWebUrl('https://bugs.example.org/\u001b[2J');
  assert.ok(!c.ok);
  assert.equal(c.problem, '"https://bugs.example.org/\\x1b[2J" contains a control character (U+001B)');
  assert.equal(displayUrl('https://u:pa/ss@host.example/r'), 'https://***@host.example/r');
});

test('stamp refuses what the help rule fails, and takes http', () => {
  requirePublishableUrl('https://bugs.example.org/x', 'bug tracker URL');
  requirePublishableUrl('http://bugs.example.org/x', 'bug tracker URL');
  requirePublishableUrl(null, 'bug tracker URL');
  for (const refused of [
    'https://t@bugs.example.org',
    'javascript:alert(1)',
    'bugs.example.org',
    'https://x.org/\n',
  ]) {
    assert.throws(
      () => requirePublishableUrl(refused, 'bug tracker URL'),
      (e: unknown) => e instanceof WaybillError && e.code === 'USAGE' && !e.message.includes('\n'),
    );
  }
});

test('same URL modulo case, default port, trailing slash', () => {
  assert.ok(sameWebUrl('https://Bugs.Example.org:443/kolla/', 'https://bugs.example.org/kolla'));
  assert.ok(!sameWebUrl('https://bugs.example.org/kolla', 'https://bugs.example.org/nova'));
});

test('property: never throws; a verdict message never carries user info or a control character', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), fc.string(), (a, b) => {
      const v = checkWebUrl(a);
      sameWebUrl(a, b);
      if (!v.ok) assert.doesNotMatch(v.problem, /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/u);
    }),
  );
  const secret = fc.stringMatching(/^[A-Za-z0-9/:#?%]{1,12}$/).map((s) => `SECRETX${s}`);
  fc.assert(
    fc.property(secret, fc.stringMatching(/^[a-z]{1,8}$/), (userinfo, host) => {
      const v = checkWebUrl(`https://${userinfo}@${host}.example/issues`);
      assert.ok(!v.ok);
      assert.ok(!v.problem.includes('SECRETX'), v.problem);
    }),
  );
});
