import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  emptyReleaseIndex,
  parseReleaseIndex,
  serializeReleaseIndex,
  withIndexedArtifact,
} from '../publish/release-index.ts';
import { ageFields, libyear, newerReleases, osFreshness } from './freshness.ts';
import { listingOf } from './release-lister.ts';
import { pep440Scheme } from './versions/pep440.ts';

describe('freshness', () => {
  test('ages in whole days since built and published', () => {
    assert.deepEqual(
      ageFields('2026-01-01T00:00:00Z', '2026-01-11T12:00:00Z', new Date('2026-02-01T00:00:00Z')),
      {
        built: '2026-01-01T00:00:00Z',
        published: '2026-01-11T12:00:00Z',
        daysSinceBuilt: 31,
        daysSincePublished: 20,
      },
    );
  });
  test('end of life from the embedded table, imported rows first; the last day still counts', () => {
    const at = (d: string) => new Date(d);
    assert.equal(
      osFreshness({ id: 'debian', versionId: '12' }, [], at('2026-06-10T23:00:00Z')).status,
      'supported',
    );
    assert.equal(
      osFreshness({ id: 'debian', versionId: '12' }, [], at('2026-06-11T00:00:00Z')).status,
      'extended',
    );
    assert.equal(
      osFreshness({ id: 'debian', versionId: '9' }, [], at('2026-01-01T00:00:00Z')).status,
      'end-of-life',
    );
    assert.equal(
      osFreshness({ id: 'alpine', versionId: '3.18.4' }, [], at('2026-01-01T00:00:00Z')).status,
      'end-of-life',
    );
    assert.deepEqual(osFreshness({ id: 'ubuntu', versionId: '22.04' }, [], at('2026-01-01T00:00:00Z')), {
      distro: 'ubuntu',
      release: '22.04',
      codename: 'jammy',
      eol: '2027-06-01',
      status: 'supported',
      table: 'embedded',
    });
    const imported = [{ distro: 'debian', release: '12', eol: '2025-01-01' }];
    assert.equal(
      osFreshness({ id: 'debian', versionId: '12' }, imported, at('2026-01-01T00:00:00Z')).status,
      'end-of-life',
    );
    assert.equal(
      osFreshness({ id: 'plan9', versionId: '4' }, [], at('2026-01-01T00:00:00Z')).status,
      'unknown',
    );
  });
  test('newer releases in a release-directory index, compared by the version scheme', () => {
    const artifact = (file: string, published: string) => ({
      file,
      digest: `sha256:${'a'.repeat(64)}`,
      size: 1,
      built: null,
      published,
      files: [],
    });
    let index = emptyReleaseIndex('hello');
    for (const version of ['1.9.0', '1.10.0', '1.2.0', '2.0.0-rc.1'])
      index = withIndexedArtifact(index, version, artifact(`hello-${version}.tar`, '2026-01-01T00:00:00Z'));
    index = withIndexedArtifact(index, '1.10.0', artifact('hello-1.10.0-arm64.tar', '2025-12-01T00:00:00Z'));
    const listing = listingOf(parseReleaseIndex(serializeReleaseIndex(index), 'index.json'), 'index.json');
    assert.deepEqual(listing.releases[1], { version: '1.10.0', published: '2025-12-01T00:00:00Z' });
    assert.deepEqual(listing.releases[0]?.digest, `sha256:${'a'.repeat(64)}`);
    assert.deepEqual(newerReleases('1.9.0', listing), {
      source: 'index.json',
      newer: ['2.0.0-rc.1', '1.10.0'],
      scheme: 'semver',
      latest: '2.0.0-rc.1',
    });
    assert.deepEqual(newerReleases('v2.0.0', { source: 'i', releases: [{ version: 'v1.0.0' }] }).newer, []);
    // A release index has one schema: the shapes of other tools are refused by name.
    assert.throws(
      () => parseReleaseIndex('{"versions": {"v1.0.0": {}}}', 'i.json'),
      /i\.json: is not a release index of kind waybill\.dev\/release-index\/v1 \(no kind\)/,
    );
  });
  test('a tag list: only the tags the current version scheme accepts are releases', () => {
    const tags = ['latest', 'main', '1', '1.2', '1.2.3', 'v1.3.0', '1.10.0-rc.1', 'sha256-x'];
    const listing = {
      source: 'docker://r/hello (tags)',
      releases: tags.map((version) => ({ version })),
      mixed: true,
    };
    assert.deepEqual(newerReleases('1.2.3', listing), {
      source: 'docker://r/hello (tags)',
      newer: ['1.10.0-rc.1', 'v1.3.0'],
      scheme: 'semver',
      latest: '1.10.0-rc.1',
    });
    // Without the flag a list with a non-version compares nothing rather than guessing.
    assert.deepEqual(newerReleases('1.2.3', { ...listing, mixed: false }).newer, []);
  });
  test('libyear: newest known release date minus the date of the release in use', () => {
    const dates = new Map([
      ['1.0', '2020-01-01'],
      ['2.0', '2022-01-01'],
      ['1.5', '2021-01-01'],
    ]);
    assert.deepEqual(libyear([{ version: '1.0', scheme: pep440Scheme, dates }]), { years: 2, components: 1 });
    assert.equal(libyear([{ version: '3.0', scheme: pep440Scheme, dates }]), undefined);
  });
});
