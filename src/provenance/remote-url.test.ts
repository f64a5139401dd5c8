import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isNetworkRepositoryUrl, localRepositoryUrl, redactRemoteUrl } from './remote-url.ts';

test('strips all user info from URLs, whatever the scheme', () => {
  assert.equal(
    redactRemoteUrl('https://x-access-token:ghs_abc@github.com/acme/w.git'),
    'https://github.com/acme/w.git',
  );
  assert.equal(redactRemoteUrl('https://ghp_token@github.com/acme/w.git'), 'https://github.com/acme/w.git');
  assert.equal(redactRemoteUrl('http://u:p@ss@host:8080/r?x=1'), 'http://host:8080/r');
  assert.equal(redactRemoteUrl(' https://github.com/acme/w.git\n'), 'https://github.com/acme/w.git');
  assert.equal(redactRemoteUrl('ssh://git@github.com/acme/w.git'), 'ssh://github.com/acme/w.git');
  assert.equal(redactRemoteUrl('ssh://git:pw@host/r'), 'ssh://host/r');
  assert.equal(redactRemoteUrl('ssh://:pw@host/r'), 'ssh://host/r');
});

test('a password with a raw / # ? or @ does not survive (user info ends at the last @)', () => {
  assert.equal(redactRemoteUrl('https://user:pa/ss@host.example/repo.git'), 'https://host.example/repo.git');
  assert.equal(redactRemoteUrl('https://user:123/abc@host.example/r'), 'https://host.example/r');
  assert.equal(redactRemoteUrl('https://u:p#x@host.example/r'), 'https://host.example/r');
  assert.equal(redactRemoteUrl('https://u:p?x@host.example/r'), 'https://host.example/r');
  assert.equal(redactRemoteUrl('https://tok/en@host.example/r'), 'https://host.example/r');
});

test('query strings and fragments are dropped', () => {
  assert.equal(
    redactRemoteUrl('https://gitlab.example/acme/w.git?private_token=glpat-XYZ'),
    'https://gitlab.example/acme/w.git',
  );
  assert.equal(redactRemoteUrl('https://host.example/r.git#token=abc'), 'https://host.example/r.git');
  // An @ after the ?: a query holding an @ when what comes before is a plain host and path…
  assert.equal(
    redactRemoteUrl('https://host.example:8443/r?email=a@b.example'),
    'https://host.example:8443/r',
  );
  // …otherwise it may be user info holding a ?, and no reading is safe to publish.
  assert.equal(redactRemoteUrl('https://u:1234?x@host.example/r'), 'https://redacted.invalid');
  assert.equal(redactRemoteUrl('https://tok@host.example/r?e=a@b'), 'https://redacted.invalid');
});

test('scp-like remotes become ssh:// URLs without the user', () => {
  assert.equal(redactRemoteUrl('git@github.com:acme/w.git'), 'ssh://github.com/acme/w.git');
  assert.equal(redactRemoteUrl('github.com:acme/w.git'), 'ssh://github.com/acme/w.git');
  assert.equal(redactRemoteUrl('me@host:/srv/git/w.git'), 'ssh://host/srv/git/w.git');
  assert.equal(redactRemoteUrl('user:secret@host:repo.git'), 'ssh://host/repo.git');
  assert.equal(redactRemoteUrl('git@[::1]:acme/w.git'), 'ssh://[::1]/acme/w.git');
});

test('local paths, remote helpers and unprintable characters', () => {
  assert.equal(redactRemoteUrl('/srv/git/w.git'), 'file:///srv/git/w.git');
  assert.equal(redactRemoteUrl('../upstream.git'), '../upstream.git');
  assert.equal(redactRemoteUrl('https::https://tok@host.example/r?x'), 'https::https://host.example/r');
  assert.equal(
    redactRemoteUrl('https://host.example/a b\u001b[2J\u202e'),
    'https://host.example/a%20b%1B[2J%E2%80%AE',
  );
  assert.equal(
    redactRemoteUrl('https://host.example/r\n  signature verified'),
    'https://host.example/r%0A%20%20signature%20verified',
  );
});

test('local repositories become file:// URLs with percent-encoding', () => {
  assert.equal(localRepositoryUrl('/tmp/my repo'), 'file:///tmp/my%20repo');
  assert.equal(localRepositoryUrl('/home/me@corp/r'), 'file:///home/me%40corp/r');
  assert.equal(redactRemoteUrl(localRepositoryUrl('/home/me@corp/r')), 'file:///home/me%40corp/r');
});

test('only network URLs are worth writing into an artifact', () => {
  assert.equal(isNetworkRepositoryUrl('https://github.com/acme/w.git'), true);
  assert.equal(isNetworkRepositoryUrl('ssh://github.com/acme/w.git'), true);
  assert.equal(isNetworkRepositoryUrl('file:///srv/git/w.git'), false);
  assert.equal(isNetworkRepositoryUrl('../upstream.git'), false);
  assert.equal(isNetworkRepositoryUrl('ext::sh -c evil'), false);
});

// Markers are upper case; hosts, paths and schemes are lower case, so a marker in the output can
// only have come from the user info, query or fragment.
const lower = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,15}$/);
const secretChars = fc.string({
  unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/#?:%@!$&'()*+,;=~ \t\n".split('')),
  maxLength: 20,
});
const marked = (tag: string) => secretChars.map((s) => `${tag}${s}${tag}`);

test('property: the output never contains the user info, query or fragment of the input', () => {
  fc.assert(
    fc.property(
      fc.constantFrom('https', 'http', 'ssh', 'git', 'git+ssh', 'ftp', 'file'),
      fc.option(marked('USERX'), { nil: undefined }),
      fc.option(marked('PASSX'), { nil: undefined }),
      lower,
      fc.array(lower, { maxLength: 4 }),
      fc.option(marked('QUERYX'), { nil: undefined }),
      fc.option(marked('FRAGX'), { nil: undefined }),
      (scheme, user, password, host, segments, query, fragment) => {
        const userinfo =
          user === undefined && password === undefined
            ? ''
            : `${user ?? ''}${password ? `:${password}` : ''}@`;
        const input = `${scheme}://${userinfo}${host}/${segments.join('/')}${query ? `?${query}` : ''}${fragment ? `#${fragment}` : ''}`;
        const out = redactRemoteUrl(input);
        for (const marker of ['USERX', 'PASSX', 'QUERYX', 'FRAGX'])
          assert.ok(!out.includes(marker), `${input} → ${out}`);
        // Exact unless the input was ambiguous (an @ after a ? or #, see redactAfterScheme).
        if (out !== `${scheme}://redacted.invalid`)
          assert.equal(out, `${scheme}://${host}/${segments.join('/')}`);
      },
    ),
    { numRuns: 500 },
  );
});

test('property: scp-like remotes lose their user, keep host and path', () => {
  fc.assert(
    fc.property(
      marked('USERX'),
      lower,
      fc.array(lower, { minLength: 1, maxLength: 4 }),
      (user, host, segments) => {
        // In scp-like syntax git ends the host at the first `:` (so a user holds no `:`), and
        // `NAME::ADDRESS` is a remote-helper URL whose NAME is a program name, not a credential.
        const out = redactRemoteUrl(
          `${user.replaceAll('/', '').replaceAll(':', '')}@${host}:${segments.join('/')}`,
        );
        assert.equal(out, `ssh://${host}/${segments.join('/')}`);
      },
    ),
  );
});

test('property: any input gives printable ASCII, and redaction is idempotent', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (s) => {
      const out = redactRemoteUrl(s);
      assert.match(out, /^[\x21-\x7e]*$/);
      assert.equal(redactRemoteUrl(out), out);
    }),
    { numRuns: 1000 },
  );
});
