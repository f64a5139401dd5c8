/**
 * SLSA provenance v0.2 and v1 as the public builders write them, and the slsa-verifier style policy
 * (`--source-uri`, `--source-tag`, `--builder-id`). The v1 case is a real GitHub Actions provenance
 * (the sigstore-conformance in-toto bundle); the v0.2 one has slsa-github-generator's field layout.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  checkProvenancePolicy,
  normalizeSourceUri,
  splitGitUri,
  summarizeProvenance,
} from './slsa-provenance.ts';
import { CONFORMANCE, needsFixtures } from './test-support.ts';

const V02 = {
  builder: {
    id: 'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v1.9.0',
  },
  buildType: 'https://github.com/slsa-framework/slsa-github-generator/generic@v1',
  invocation: {
    configSource: {
      uri: 'git+https://github.com/example/hello@refs/tags/v1.2.3',
      digest: { sha1: '0123456789abcdef0123456789abcdef01234567' },
      entryPoint: '.github/workflows/release.yml',
    },
  },
  materials: [
    {
      uri: 'git+https://github.com/example/hello@refs/tags/v1.2.3',
      digest: { sha1: '0123456789abcdef0123456789abcdef01234567' },
    },
  ],
};

test('v0.2: builder, source, ref, commit and entry point', () => {
  const s = summarizeProvenance('https://slsa.dev/provenance/v0.2', V02);
  assert.deepEqual(s, {
    predicateVersion: 'v0.2',
    builderId: V02.builder.id,
    buildType: V02.buildType,
    repository: 'https://github.com/example/hello',
    ref: 'refs/tags/v1.2.3',
    commit: '0123456789abcdef0123456789abcdef01234567',
    entryPoint: '.github/workflows/release.yml',
  });
  const pass = checkProvenancePolicy(s!, {
    sourceUri: 'github.com/example/hello',
    sourceTag: 'v1.2.3',
    builderId:
      'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml',
  });
  assert.deepEqual(
    pass.map((c) => c.passed),
    [true, true, true],
  );
  // A passed check says what it matched, not only what the provenance claims (shown again below it).
  assert.deepEqual(
    pass.map((c) => c.detail),
    [
      'source https://github.com/example/hello matches --source-uri github.com/example/hello',
      'ref refs/tags/v1.2.3 matches --source-tag v1.2.3',
      `builder ${V02.builder.id} matches --builder-id https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml`,
    ],
  );
  const fail = checkProvenancePolicy(s!, {
    sourceUri: 'https://github.com/example/other',
    sourceTag: 'v1.2.4',
    builderId: 'https://example.com/builder',
  });
  assert.deepEqual(
    fail.map((c) => [c.id, c.passed]),
    [
      ['source-uri', false],
      ['source-tag', false],
      ['builder-id', false],
    ],
  );
  assert.match(fail[0]!.detail, /provenance source https:\/\/github.com\/example\/hello is not/);
  // The certificate's own source repository must agree as well.
  const certMismatch = checkProvenancePolicy(
    s!,
    { sourceUri: 'github.com/example/hello' },
    'https://github.com/attacker/fork',
  );
  assert.equal(certMismatch[0]?.passed, false);
  assert.match(certMismatch[0]!.detail, /signing certificate's source repository/);
});

test('v1 from a real GitHub Actions provenance', { skip: needsFixtures(CONFORMANCE) }, () => {
  const bundle = JSON.parse(
    readFileSync(join(CONFORMANCE, 'happy-path-intoto-in-dsse-v3', 'bundle.sigstore.json'), 'utf8'),
  );
  const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString());
  const s = summarizeProvenance(statement.predicateType, statement.predicate);
  assert.equal(s?.predicateVersion, 'v1');
  assert.equal(
    s?.builderId,
    'https://github.com/loosebazooka/aa-test/.github/workflows/provenance.yaml@refs/heads/main',
  );
  assert.equal(s?.repository, 'https://github.com/loosebazooka/aa-test');
  assert.equal(s?.ref, 'refs/heads/main');
  assert.equal(s?.commit, 'ebff8dfbd609b7b22237c7719ce07f2dc7934f5f');
  assert.equal(s?.entryPoint, '.github/workflows/provenance.yaml');
  assert.equal(checkProvenancePolicy(s!, { sourceTag: 'v1' })[0]?.passed, false);
});

test('v1 without a workflow parameter falls back to resolvedDependencies', () => {
  const s = summarizeProvenance('https://slsa.dev/provenance/v1', {
    buildDefinition: {
      buildType: 'https://example.com/build',
      externalParameters: { source: 'x' },
      resolvedDependencies: [
        { uri: 'git+https://gitlab.com/g/p@refs/tags/v2', digest: { gitCommit: 'a'.repeat(40) } },
      ],
    },
    runDetails: { builder: { id: 'https://gitlab.com/runner' } },
  });
  assert.equal(s?.repository, 'https://gitlab.com/g/p');
  assert.equal(s?.ref, 'refs/tags/v2');
  assert.equal(s?.commit, 'a'.repeat(40));
  assert.equal(summarizeProvenance('https://cyclonedx.org/bom', {}), undefined);
  assert.equal(summarizeProvenance('https://slsa.dev/provenance/v1', 'not an object'), undefined);
});

test('source URIs compare in every spelling slsa-verifier and builders use', () => {
  for (const spelling of [
    'github.com/o/r',
    'https://github.com/o/r',
    'git+https://github.com/o/r@refs/tags/v1',
    'https://github.com/o/r.git',
    'https://github.com/o/r/',
  ]) {
    assert.equal(normalizeSourceUri(spelling), 'github.com/o/r', spelling);
  }
  assert.deepEqual(splitGitUri('git+ssh://git@github.com/o/r'), { repository: 'ssh://git@github.com/o/r' });
});

test('property: summarizing any JSON never throws and splitGitUri keeps the repository', () => {
  fc.assert(
    fc.property(
      fc.jsonValue(),
      fc.constantFrom('https://slsa.dev/provenance/v1', 'https://slsa.dev/provenance/v0.2'),
      (value, type) => {
        summarizeProvenance(type, value);
      },
    ),
  );
  fc.assert(
    // A repository URL always has a path (`host/owner/repo`); without one `x@y` is user info.
    fc.property(
      fc.domain(),
      fc.stringMatching(/^[a-z0-9-]{1,8}\/[a-z0-9._-]{1,12}$/),
      fc.stringMatching(/^refs\/tags\/[a-z0-9.@]{1,10}$/),
      (host, path, ref) => {
        const url = `https://${host}/${path}`;
        const { repository, ref: got } = splitGitUri(`git+${url}@${ref}`);
        assert.equal(repository, url);
        assert.equal(got, ref);
      },
    ),
  );
});
