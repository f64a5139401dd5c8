import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { localRepositoryUrl, redactRemoteUrl } from './remote-url.ts';

test('strips credentials from http(s) remotes, user names too (tokens live there)', () => {
  assert.equal(
    redactRemoteUrl('https://x-access-token:ghs_abc@github.com/acme/w.git'),
    'https://github.com/acme/w.git',
  );
  assert.equal(redactRemoteUrl('https://ghp_token@github.com/acme/w.git'), 'https://github.com/acme/w.git');
  assert.equal(redactRemoteUrl('http://u:p@ss@host:8080/r?x=1'), 'http://host:8080/r?x=1');
  assert.equal(redactRemoteUrl(' https://github.com/acme/w.git\n'), 'https://github.com/acme/w.git');
});

test('keeps ssh user names but drops passwords; scp-like and local paths unchanged', () => {
  assert.equal(redactRemoteUrl('ssh://git@github.com/acme/w.git'), 'ssh://git@github.com/acme/w.git');
  assert.equal(redactRemoteUrl('ssh://git:pw@host/r'), 'ssh://git@host/r');
  assert.equal(redactRemoteUrl('ssh://:pw@host/r'), 'ssh://host/r');
  assert.equal(redactRemoteUrl('git@github.com:acme/w.git'), 'git@github.com:acme/w.git');
  assert.equal(redactRemoteUrl('/srv/git/w.git'), '/srv/git/w.git');
  assert.equal(redactRemoteUrl('https://github.com/user@example/x'), 'https://github.com/user@example/x');
});

test('local repositories become file:// URLs with percent-encoding', () => {
  assert.equal(localRepositoryUrl('/tmp/my repo'), 'file:///tmp/my%20repo');
});

test('property: a password never survives, redaction is idempotent', () => {
  const word = fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/);
  fc.assert(
    fc.property(
      fc.constantFrom('https', 'http', 'ssh', 'git+ssh', 'ftp'),
      word,
      word.map((w) => `SECRET${w}`),
      word,
      (scheme, user, password, host) => {
        const out = redactRemoteUrl(`${scheme}://${user}:${password}@${host}.example/repo.git`);
        assert.ok(!out.includes(password), out);
        assert.equal(redactRemoteUrl(out), out);
      },
    ),
  );
  fc.assert(
    fc.property(fc.string(), (s) => {
      assert.equal(typeof redactRemoteUrl(s), 'string');
    }),
  );
});
