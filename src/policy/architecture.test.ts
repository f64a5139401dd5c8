import assert from 'node:assert/strict';
import { test } from 'node:test';
import { architectureSet, normalizeArchitecture } from './architecture.ts';

test('vocabularies map to one name', () => {
  const groups: string[][] = [
    [
      'amd64',
      'x86_64',
      'X86_64',
      'x86-64',
      'linux/amd64',
      'manylinux_2_17_x86_64',
      'win_amd64',
      'macosx_10_9_x86_64',
    ],
    ['arm64', 'aarch64', 'linux/arm64/v8', 'musllinux_1_1_aarch64', 'macosx_11_0_arm64'],
    ['386', 'i386', 'i686', 'win32'],
    ['arm/v7', 'armhf', 'armv7l', 'armv7hl', 'linux/arm/v7'],
    ['arm/v5', 'armel'],
    ['ppc64le', 'ppc64el'],
    ['noarch', 'all', 'any'],
  ];
  for (const group of groups) {
    const names = new Set(group.map(normalizeArchitecture));
    assert.equal(names.size, 1, `${group.join(',')} → ${[...names].join(',')}`);
  }
  assert.notEqual(normalizeArchitecture('armhf'), normalizeArchitecture('armel'));
  assert.equal(normalizeArchitecture('sparc64'), 'sparc64');
});

test('sets are sorted and deduplicated', () => {
  assert.deepEqual(architectureSet(['x86_64', 'aarch64', 'amd64']), ['amd64', 'arm64']);
});
