import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isWaybillError, WaybillError } from '../errors.ts';
import {
  apiHost,
  formatReference,
  type ImageReference,
  isLoopbackHost,
  manifestReference,
  parseDockerReference,
  parseImageReference,
  redactReference,
} from './reference.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;

test('references: Docker Hub short names, hosts, ports, tags and digests', () => {
  const cases: Array<[string, ImageReference]> = [
    ['alpine', { registry: 'docker.io', repository: 'library/alpine', tag: 'latest' }],
    ['alpine:3.20', { registry: 'docker.io', repository: 'library/alpine', tag: '3.20' }],
    ['library/alpine:3', { registry: 'docker.io', repository: 'library/alpine', tag: '3' }],
    ['bitnami/redis', { registry: 'docker.io', repository: 'bitnami/redis', tag: 'latest' }],
    ['docker.io/alpine', { registry: 'docker.io', repository: 'library/alpine', tag: 'latest' }],
    ['index.docker.io/alpine', { registry: 'docker.io', repository: 'library/alpine', tag: 'latest' }],
    ['registry-1.docker.io/x/y', { registry: 'docker.io', repository: 'x/y', tag: 'latest' }],
    ['ghcr.io/owner/app:v1', { registry: 'ghcr.io', repository: 'owner/app', tag: 'v1' }],
    ['127.0.0.1:5000/hello:1.0', { registry: '127.0.0.1:5000', repository: 'hello', tag: '1.0' }],
    ['localhost/a/b/c', { registry: 'localhost', repository: 'a/b/c', tag: 'latest' }],
    ['localhost:05000/x', { registry: 'localhost:5000', repository: 'x', tag: 'latest' }],
    ['[::1]:5000/x:t', { registry: '[::1]:5000', repository: 'x', tag: 't' }],
    ['Example.COM/x', { registry: 'Example.COM', repository: 'x', tag: 'latest' }],
    ['Registry/x', { registry: 'Registry', repository: 'x', tag: 'latest' }],
    [`q.io/a@${DIGEST}`, { registry: 'q.io', repository: 'a', digest: DIGEST }],
    [`q.io/a:t@${DIGEST}`, { registry: 'q.io', repository: 'a', tag: 't', digest: DIGEST }],
    [`alpine@${DIGEST}`, { registry: 'docker.io', repository: 'library/alpine', digest: DIGEST }],
    ['h.io/a.b_c__d---e/f', { registry: 'h.io', repository: 'a.b_c__d---e/f', tag: 'latest' }],
  ];
  for (const [text, expected] of cases) assert.deepEqual(parseImageReference(text), expected, text);
  assert.equal(apiHost('docker.io'), 'registry-1.docker.io');
  assert.equal(apiHost('q.io:443'), 'q.io:443');
  assert.equal(manifestReference({ registry: 'q.io', repository: 'a', tag: 't', digest: DIGEST }), DIGEST);
  assert.equal(formatReference(parseImageReference('alpine')), 'docker.io/library/alpine:latest');
});

test('references: every grammar violation is one USAGE line naming the part and the character', () => {
  const cases: Array<[string, RegExp]> = [
    ['h.io/Upper', /"U" at position 1 is not allowed/],
    ['h.io/a b', /" " at position 7 is not allowed in an image reference/],
    ['h.io/a\u001b[2J', /"\\u001b" at position 7/],
    ['h.io/a//b', /empty path component/],
    ['h.io/a/', /empty path component/],
    ['h.io/-a', /must start and end with a letter or digit/],
    ['h.io/a..b', /must start and end with a letter or digit/],
    ['h.io/a___b', /must start and end/],
    ['h.io/a:', /the tag after ":" is empty/],
    ['h.io/a:-x', /a tag must start with a letter, digit or "_"/],
    ['h.io/a:t!', /tag: "!" at position 2 is not allowed/],
    [`h.io/a:${'t'.repeat(129)}`, /129 characters long \(at most 128\)/],
    ['h.io/a@sha256:xyz', /not a valid sha256 digest/],
    [`h.io/a@sha512:${'a'.repeat(128)}`, /only sha256 digests are supported/],
    ['-bad.io/a', /registry host "-bad.io": "-bad" is not a valid host name label/],
    ['h_x.io/a', /registry host "h_x.io": "_" at position 2 is not allowed/],
    ['h.io:99999/a', /registry port "99999" is not a port number/],
    ['h.io:/a', /registry port "" is not a port number/],
    ['[zz]:5/a', /not a valid IPv6 address/],
    ['127.0.0.1:5000', /names a registry but no repository/],
    ['localhost', /names a registry but no repository/],
    [`h.io/${'a'.repeat(251)}`, /characters long \(at most 255 with the registry host\)/],
    ['', /names no image/],
  ];
  for (const [text, reason] of cases) {
    assert.throws(
      () => parseImageReference(text, `docker://${text}`),
      (e: unknown) => {
        assert.ok(isWaybillError(e), text);
        assert.equal(e.code === 'USAGE' || e.code === 'MALFORMED' || e.code === 'UNSUPPORTED', true, text);
        assert.match(e.reason, reason, text);
        assert.doesNotMatch(e.message, /\n/);
        return true;
      },
    );
  }
});

test('references: user info is refused and never echoed', () => {
  const ref = 'docker://alice:s3cret-PASS@registry.example/app:1';
  assert.equal(redactReference(ref), 'docker://<credentials removed>@registry.example/app:1');
  assert.throws(
    () => parseDockerReference(ref),
    (e: unknown) => {
      assert.ok(e instanceof WaybillError);
      assert.doesNotMatch(e.message, /s3cret|alice/);
      assert.match(e.message, /cannot carry credentials/);
      return true;
    },
  );
  assert.throws(() => parseDockerReference('oci:x'), /not a docker:\/\/ reference/);
});

test('references: loopback hosts', () => {
  for (const h of ['127.0.0.1:5000', '127.1.2.3', 'localhost:80', '[::1]:5000', 'LOCALHOST'])
    assert.ok(isLoopbackHost(h), h);
  for (const h of ['128.0.0.1', '10.0.0.1:5000', 'example.com', '127.0.0.1.nip.io', '[::2]:5000'])
    assert.ok(!isLoopbackHost(h), h);
});

// Generators for the grammar: valid parts, so every generated reference must parse and round-trip.
const alnum = fc.string({
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'),
  minLength: 1,
  maxLength: 6,
});
const separator = fc.constantFrom('.', '_', '__', '-', '--');
const component = fc
  .tuple(alnum, fc.array(fc.tuple(separator, alnum), { maxLength: 2 }))
  .map(([head, rest]) => head + rest.map(([s, a]) => s + a).join(''));
const path = fc.array(component, { minLength: 2, maxLength: 4 }).map((c) => c.join('/'));
const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?$/);
const host = fc.oneof(
  fc.array(label, { minLength: 2, maxLength: 3 }).map((l) => l.join('.')),
  fc.constant('localhost'),
  fc.tuple(fc.nat(255), fc.nat(255)).map(([a, b]) => `127.0.${a}.${b}`),
);
const port = fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined });
const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,20}$/);
const digest = fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => `sha256:${h}`);

test('property: generated valid references parse, and format back to what they say', () => {
  fc.assert(
    fc.property(
      host,
      port,
      path,
      fc.option(tag, { nil: undefined }),
      fc.option(digest, { nil: undefined }),
      (h, p, repo, t, d) => {
        const registry = p === undefined ? h : `${h}:${p}`;
        const text = `${registry}/${repo}${t !== undefined ? `:${t}` : ''}${d !== undefined ? `@${d}` : ''}`;
        fc.pre(`${registry}/${repo}`.length <= 255 && registry !== 'docker.io');
        const parsed = parseImageReference(text);
        assert.equal(parsed.registry, registry);
        assert.equal(parsed.repository, repo);
        assert.equal(parsed.tag, t ?? (d === undefined ? 'latest' : undefined));
        assert.equal(parsed.digest, d);
        assert.deepEqual(parseImageReference(formatReference(parsed)), parsed);
      },
    ),
  );
});

test('property: arbitrary text either parses or throws one WaybillError line, never anything else', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), (text) => {
      try {
        const parsed = parseImageReference(text);
        // Whatever parses is in canonical form and stable.
        assert.deepEqual(parseImageReference(formatReference(parsed)), parsed);
      } catch (e) {
        assert.ok(isWaybillError(e), String(e));
        assert.doesNotMatch(e.message, /[\n\r]/);
      }
    }),
    { numRuns: 2000 },
  );
});

test('property: a path with any character outside the grammar is refused', () => {
  const bad = fc.constantFrom(...'ABCXYZ!#$%&*+,;<=>?[]^`{|}~ "\'\\'.split(''));
  fc.assert(
    fc.property(path, bad, fc.nat(), (repo, ch, at) => {
      const i = at % (repo.length + 1);
      const broken = repo.slice(0, i) + ch + repo.slice(i);
      assert.throws(() => parseImageReference(`h.io/${broken}`), WaybillError);
    }),
  );
});
