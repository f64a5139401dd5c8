import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { isWaybillError } from '../../errors.ts';
import { OciLayout, resolveRef } from '../../oci/layout.ts';
import { parseImageConfig as parseConfig, parseImageManifest as parseManifest } from '../../oci/parse.ts';
import { stampImage } from '../../oci/stamp.ts';
import { haveTools, tempDir, umociImage } from '../../oci/testing.ts';
import { imageFacts, type OciImageInput } from './oci-facts.ts';

const V = 'org.opencontainers.image.version';

test('annotation beats label, conflicts are listed, fields say where each fact came from', () => {
  const facts = imageFacts({
    platforms: [
      {
        manifestAnnotations: {
          [V]: '1.2.0',
          'org.opencontainers.image.title': 'hello',
          'org.opencontainers.image.url': 'https://github.com/x/hello/issues',
        },
        config: {
          created: '2024-01-01T00:00:00Z',
          architecture: 'arm',
          variant: 'v7',
          config: {
            Labels: {
              [V]: '1.1.0',
              'org.opencontainers.image.vendor': 'ACME Platform Team',
              'org.opencontainers.image.licenses': 'MIT',
              maintainer: 'Community volunteers',
            },
          },
        },
      },
    ],
  });
  assert.equal(facts.format, 'oci-image');
  assert.equal(facts.hasIdentityFields, true);
  assert.deepEqual(facts.version, { value: '1.2.0', field: `OCI annotation ${V}` });
  assert.deepEqual(facts.team, {
    value: 'ACME Platform Team',
    field: 'OCI label org.opencontainers.image.vendor',
  });
  assert.deepEqual(facts.name, { value: 'hello', field: 'OCI annotation org.opencontainers.image.title' });
  assert.equal(facts.bugTracker?.value, 'https://github.com/x/hello/issues');
  assert.equal(facts.license?.value, 'MIT');
  assert.deepEqual(facts.created, { value: '2024-01-01T00:00:00Z', field: 'image config created' });
  assert.deepEqual(facts.architectures, [{ value: 'arm/v7', field: 'image config architecture' }]);
  assert.deepEqual(facts.conflicts, [
    {
      key: V,
      chosen: { value: '1.2.0', field: `OCI annotation ${V}` },
      others: [{ value: '1.1.0', field: `OCI label ${V}` }],
    },
  ]);
  assert.deepEqual(facts.texts[0], {
    value: 'ACME Platform Team',
    field: 'OCI label org.opencontainers.image.vendor',
  });
  assert.ok(
    facts.texts.some((t) => t.value === 'Community volunteers' && t.field === 'OCI label maintainer'),
  );
});

test('labels only → docker-image; index annotation wins; one architecture per platform', () => {
  const docker = imageFacts({
    platforms: [{ config: { architecture: 'amd64', config: { Labels: { [V]: '3' } } } }],
  });
  assert.equal(docker.format, 'docker-image');
  assert.equal(docker.version?.field, `OCI label ${V}`);
  const empty = imageFacts({ platforms: [{ config: { architecture: 'amd64', config: null } }] });
  assert.equal(empty.format, 'docker-image');
  assert.equal(empty.version, undefined);

  const multi = imageFacts({
    indexAnnotations: { [V]: '2.0' },
    platforms: [
      { manifestAnnotations: { [V]: '2.0' }, config: { architecture: 'arm64', variant: 'v8' } },
      { manifestAnnotations: { [V]: '2.0' }, config: { architecture: 'amd64' } },
      { platform: { architecture: 's390x' } },
    ],
  });
  assert.equal(multi.version?.field, `OCI index annotation ${V}`);
  assert.deepEqual(multi.conflicts, []);
  assert.deepEqual(
    multi.architectures.map((a) => a.value),
    ['amd64', 'arm64/v8', 's390x'],
  );
});

test('reads back what stampImage wrote to a real umoci image', { skip: haveTools('umoci') }, async () => {
  using tmp = tempDir();
  const layout = join(tmp.dir, 'img');
  await umociImage(layout, 't', { architecture: 'arm64' });
  await stampImage(layout, 't', {
    name: 'hello',
    version: '9.9.9',
    created: '2025-03-01T12:00:00Z',
    team: 'Core Team',
    source: 'https://github.com/x/hello',
    revision: 'abc',
  });
  const store = await OciLayout.open(layout);
  const { descriptor } = await resolveRef(store, 't');
  const manifest = parseManifest(await store.readBlob(descriptor.digest), 'm');
  const config = parseConfig(await store.readBlob(manifest.config.digest), 'c');
  const facts = imageFacts({ platforms: [{ manifestAnnotations: manifest.annotations, config }] });
  assert.equal(facts.format, 'oci-image');
  assert.equal(facts.version?.value, '9.9.9');
  assert.equal(facts.name?.value, 'hello');
  assert.equal(facts.team?.value, 'Core Team');
  assert.equal(facts.created?.value, '2025-03-01T12:00:00Z', 'annotation beats config.created');
  assert.equal(facts.sourceRepository?.value, 'https://github.com/x/hello');
  assert.equal(facts.revision?.field, 'OCI annotation org.opencontainers.image.revision');
  assert.deepEqual(facts.architectures, [{ value: 'arm64', field: 'image config architecture' }]);
  assert.deepEqual(facts.conflicts, [], 'labels and annotations agree');
});

test('property: any parsed config and annotation maps give facts without throwing', () => {
  const keys = fc.constantFrom(
    V,
    'org.opencontainers.image.title',
    'org.opencontainers.image.created',
    'x',
    '__proto__',
  );
  const annotations = fc.option(fc.dictionary(keys, fc.string({ maxLength: 20 })), { nil: undefined });
  fc.assert(
    fc.property(fc.jsonValue(), annotations, annotations, (inner, manifest, index) => {
      let config: ReturnType<typeof parseConfig>;
      try {
        config = parseConfig(
          Buffer.from(JSON.stringify({ architecture: 'x', os: 'linux', config: inner })),
          'c',
        );
      } catch (e) {
        if (isWaybillError(e)) return;
        throw e;
      }
      const input: OciImageInput = {
        indexAnnotations: index,
        platforms: [{ config, manifestAnnotations: manifest }],
      };
      const facts = imageFacts(input);
      assert.equal(facts.architectures[0]?.value, 'x');
      if (manifest?.[V]?.trim())
        assert.equal(facts.version?.value, index?.[V]?.trim() ? index[V] : manifest[V]);
    }),
    { numRuns: 300 },
  );
});
