/**
 * Test support for the SBOM writers: sample inputs, a fast-check arbitrary of components, and where
 * the shared fixtures live. Imported by tests only.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { npmPurl } from '../catalog/npm.ts';
import type { Component } from '../catalog/types.ts';
import type { SbomInput } from './subject.ts';

export const FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/', import.meta.url));
export const SCHEMAS = `${FIXTURES}schemas`;
export const haveSchemas =
  existsSync(`${SCHEMAS}/cyclonedx-1.6/bom-1.6.schema.json`) &&
  existsSync(`${SCHEMAS}/spdx-2.3/spdx-schema.json`);

export function component(name: string, version: string, extra: Partial<Component> = {}): Component {
  return {
    type: 'library',
    ecosystem: 'npm',
    name,
    version,
    purl: npmPurl(name, version),
    licenses: [],
    foundAt: [`node_modules/${name}/package.json`],
    properties: {},
    ...extra,
  };
}

export function sampleInput(components: Component[], extra: Partial<SbomInput> = {}): SbomInput {
  return {
    subject: {
      digest: `sha256:${'ab'.repeat(32)}`,
      kind: 'oci',
      name: 'registry.example/app',
      version: '1.2.3',
      created: '2024-05-06T07:08:09.123Z',
    },
    components,
    toolVersion: '0.1.0',
    sourceDateEpoch: '',
    ...extra,
  };
}

export const SAMPLE: Component[] = [
  component('@types/node', '20.11.0', {
    licenses: ['MIT'],
    layer: 'sha256:11',
    properties: { 'waybill:npm:dev': 'true' },
  }),
  component('chalk', '4.1.2', {
    licenses: ['MIT OR Apache-2.0'],
    hashes: [{ alg: 'SHA-512', content: 'ab'.repeat(64) }],
    supplier: 'Sindre Sorhus',
    description: 'Terminal string styling',
    foundAt: ['package-lock.json', 'node_modules/chalk/package.json'],
  }),
  component('weird', '0.0.1', { licenses: ['SEE LICENSE IN LICENSE.md', 'mit'] }),
  component('none', '1.0.0'),
  {
    type: 'operating-system',
    ecosystem: 'deb',
    name: 'libc6',
    version: '2.36-9+deb12u4',
    purl: 'pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12',
    licenses: ['LGPL-2.1-or-later AND GPL-2.0-or-later WITH GCC-exception-2.0'],
    foundAt: ['var/lib/dpkg/status'],
    properties: { 'waybill:source-package': 'glibc' },
  },
];

const licenseText = fc.oneof(
  fc.constantFrom(
    'MIT',
    'Apache-2.0',
    'GPL-2.0-only OR MIT',
    'BSD-3-Clause AND ISC',
    'LicenseRef-x',
    'GPL-2.0+',
    'mit',
  ),
  fc.string({ maxLength: 20 }),
);

/** Components with hostile-but-possible text in every field the writers put in the document. */
export const arbitraryComponent: fc.Arbitrary<Component> = fc
  .record({
    scope: fc.option(fc.stringMatching(/^@[a-z0-9][a-z0-9-]{0,8}$/), { nil: undefined }),
    name: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,15}$/),
    version: fc.string({ minLength: 1, maxLength: 12 }).filter((v) => v.trim() !== ''),
    licenses: fc.array(licenseText, { maxLength: 3 }),
    foundAt: fc.array(fc.string({ minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 3 }),
    properties: fc.dictionary(fc.stringMatching(/^waybill:[a-z:-]{1,12}$/), fc.string({ maxLength: 20 })),
    layer: fc.option(fc.constantFrom('sha256:11', 'sha256:22'), { nil: undefined }),
    supplier: fc.option(fc.string({ minLength: 1, maxLength: 20 }), { nil: undefined }),
    description: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
  })
  .map(({ scope, name, version, ...rest }) => {
    const full = scope ? `${scope}/${name}` : name;
    return {
      type: 'library' as const,
      ecosystem: 'npm' as const,
      name: full,
      version,
      purl: npmPurl(full, version),
      ...rest,
      supplier: rest.supplier?.trim() ? rest.supplier : undefined,
      description: rest.description || undefined,
    };
  });

/** A list of components with unique purls (the engine's output guarantees that). */
export const arbitraryComponents = fc.uniqueArray(arbitraryComponent, {
  selector: (c) => c.purl,
  maxLength: 12,
});
