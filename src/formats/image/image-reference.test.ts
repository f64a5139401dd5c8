import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseImageReference } from './image-reference.ts';

test('full references give the repository, its last component as the name, and a version-like tag', () => {
  assert.deepEqual(parseImageReference('ghcr.io/acme/hello:1.2.3'), {
    repository: 'ghcr.io/acme/hello',
    name: 'hello',
    tag: '1.2.3',
    version: '1.2.3',
  });
  assert.deepEqual(parseImageReference('localhost:5000/team/app:v2.0.1'), {
    repository: 'localhost:5000/team/app',
    name: 'app',
    tag: 'v2.0.1',
    version: '2.0.1',
  });
  assert.equal(parseImageReference('nginx:1.25-alpine')?.version, '1.25-alpine');
  assert.equal(parseImageReference('docker.io/library/debian:20240501')?.version, '20240501');
  assert.deepEqual(parseImageReference('library/debian'), { repository: 'library/debian', name: 'debian' });
  const digest = `sha256:${'a'.repeat(64)}`;
  assert.equal(parseImageReference(`quay.io/x/y@${digest}`)?.name, 'y');
});

test('tags that are not versions give no version; bare tags and malformed text give nothing', () => {
  for (const tag of ['latest', 'stable', 'main', 'sha-3f9a2c1', '3f9a2c1', 'v', 'bookworm-slim'])
    assert.equal(parseImageReference(`hello:${tag}`)?.version, undefined, tag);
  for (const text of ['1.4.2', 'latest', '', 'Hello/World:1', 'a//b:1', 'x:bad tag', 'ghcr.io/:1'])
    assert.equal(parseImageReference(text), undefined, JSON.stringify(text));
});

test('property: any string either parses to a name that is a path component of it, or to nothing', () => {
  fc.assert(
    fc.property(fc.string(), (text) => {
      const parsed = parseImageReference(text);
      if (parsed === undefined) return;
      assert.ok(parsed.repository.split('/').includes(parsed.name));
      assert.ok(text.startsWith(parsed.repository));
      if (parsed.version !== undefined) assert.ok(parsed.tag?.endsWith(parsed.version));
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(
      fc.stringMatching(/^[a-z0-9]+(?:[_-][a-z0-9]+)*(?:\/[a-z0-9]+)*$/),
      fc.stringMatching(/^[0-9]{1,3}(?:\.[0-9]{1,3}){0,2}$/),
      (repo, version) => {
        assert.equal(parseImageReference(`${repo}:${version}`)?.version, version);
        assert.equal(parseImageReference(`${repo}:v${version}`)?.version, version);
      },
    ),
  );
});
