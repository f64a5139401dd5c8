/** The embedded public-good trusted root and trusted-root files given by the consumer. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { WaybillError } from '../errors.ts';
import { CONFORMANCE, needsFixtures, SIGSTORE_JS } from './test-support.ts';
import { loadEmbeddedTrustedRoot, parseTrustedRoot } from './trusted-root.ts';

test('the embedded root is the public-good root @sigstore/tuf ships, with its date shown', {
  skip: needsFixtures(SIGSTORE_JS),
}, async () => {
  const { root, info } = await loadEmbeddedTrustedRoot();
  const published = parseTrustedRoot(
    readFileSync(join(SIGSTORE_JS, 'tuf-seeds', 'trusted_root.json'), 'utf8'),
    'fixture',
  );
  assert.deepEqual(root, published.root);
  assert.equal(info.source, 'embedded');
  assert.match(info.newestKeyDate ?? '', /^\d{4}-\d{2}-\d{2}$/);
  assert.match(
    info.description,
    /public-good Sigstore trusted root from @sigstore\/tuf \d+\.\d+\.\d+, newest key from \d{4}-/,
  );
  assert.ok(root.tlogs.some((t) => t.baseUrl === 'https://rekor.sigstore.dev'));
});

test('a validity range without a start is refused, not read as "since forever"', {
  skip: needsFixtures(CONFORMANCE),
}, () => {
  const text = readFileSync(
    join(CONFORMANCE, 'trust-root-tlog-missing-validity-start_fail', 'trusted_root.json'),
    'utf8',
  );
  assert.throws(
    () => parseTrustedRoot(text, 'root.json'),
    /root.json: tlogs\[1\]: the validity range has no start time/,
  );
});

test('what is not a trusted root is MALFORMED', () => {
  for (const [text, message] of [
    ['{', /not valid JSON/],
    ['[]', /must be a JSON object/],
    ['{"mediaType": "application/json"}', /not a Sigstore trusted root/],
    [
      '{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1"}',
      /names no transparency log and no CA/,
    ],
  ] as const) {
    assert.throws(
      () => parseTrustedRoot(text, 'r'),
      (e) => e instanceof WaybillError && e.code === 'MALFORMED' && message.test(e.message),
    );
  }
});
