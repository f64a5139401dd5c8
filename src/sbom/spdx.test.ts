import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { readSbom } from './read.ts';
import { spdxDocument, writeSpdx } from './spdx.ts';
import { documentUuid } from './subject.ts';
import { arbitraryComponents, component, haveSchemas, SAMPLE, SCHEMAS, sampleInput } from './test-support.ts';
import { validateSpdx } from './validate.ts';

// biome-ignore lint/suspicious/noExplicitAny: the tests walk arbitrary JSON documents
type Json = Record<string, any>;

test('SPDX 2.3 document: header, root package, component packages, relationships', () => {
  const input = sampleInput(SAMPLE, {
    distro: { id: 'debian', versionId: '12' },
    warnings: [{ path: 'p', reason: 'r' }],
  });
  const doc = spdxDocument(input) as Json;
  assert.equal(doc.spdxVersion, 'SPDX-2.3');
  assert.equal(doc.dataLicense, 'CC0-1.0');
  assert.equal(doc.SPDXID, 'SPDXRef-DOCUMENT');
  assert.equal(doc.name, 'registry.example/app-1.2.3');
  assert.equal(
    doc.documentNamespace,
    `https://waybill.dev/spdx/registry.example-app-1.2.3-${documentUuid(input)}`,
  );
  assert.deepEqual(doc.creationInfo, {
    created: '2024-05-06T07:08:09Z',
    creators: ['Tool: waybill-0.1.0'],
    comment: 'waybill:warning p: r',
  });
  const ids = (doc.packages as Json[]).map((p) => p.SPDXID);
  assert.deepEqual(ids, [...ids].sort());
  assert.equal(new Set(ids).size, SAMPLE.length + 2);
  const root = (doc.packages as Json[]).find((p) => p.SPDXID === 'SPDXRef-Artifact')!;
  assert.equal(root.primaryPackagePurpose, 'CONTAINER');
  assert.deepEqual(root.checksums, [{ algorithm: 'SHA256', checksumValue: 'ab'.repeat(32) }]);

  const pkg = (name: string) => (doc.packages as Json[]).find((p) => p.name === name)!;
  const chalk = pkg('chalk');
  assert.equal(chalk.versionInfo, '4.1.2');
  assert.equal(chalk.downloadLocation, 'NOASSERTION');
  assert.equal(chalk.filesAnalyzed, false);
  assert.equal(chalk.licenseDeclared, 'MIT OR Apache-2.0');
  assert.equal(chalk.supplier, 'Organization: Sindre Sorhus');
  assert.deepEqual(chalk.externalRefs, [
    { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: 'pkg:npm/chalk@4.1.2' },
  ]);
  assert.deepEqual(chalk.checksums, [{ algorithm: 'SHA512', checksumValue: 'ab'.repeat(64) }]);
  assert.equal(pkg('none').licenseDeclared, 'NOASSERTION');
  assert.equal(pkg('none').supplier, 'NOASSERTION');
  assert.equal(pkg('libc6').licenseDeclared, 'LGPL-2.1-or-later AND GPL-2.0-or-later WITH GCC-exception-2.0');
  assert.equal(pkg('libc6').primaryPackagePurpose, 'OPERATING_SYSTEM');
  // Text that is no SPDX expression becomes a LicenseRef with its text in hasExtractedLicensingInfos.
  const weird = pkg('weird').licenseDeclared as string;
  const [ref, mit] = weird.split(' AND ');
  assert.match(ref!, /^LicenseRef-SEE-LICENSE-IN-LICENSE.md-[0-9a-f]{8}$/);
  assert.equal(mit, 'MIT');
  assert.deepEqual(doc.hasExtractedLicensingInfos, [
    { licenseId: ref, extractedText: 'SEE LICENSE IN LICENSE.md', name: 'SEE LICENSE IN LICENSE.md' },
  ]);

  const rels = doc.relationships as Json[];
  assert.deepEqual(rels[0], {
    spdxElementId: 'SPDXRef-DOCUMENT',
    relationshipType: 'DESCRIBES',
    relatedSpdxElement: 'SPDXRef-Artifact',
  });
  assert.deepEqual(
    rels.slice(1).map((r) => [r.spdxElementId, r.relationshipType]),
    ids.filter((i) => i !== 'SPDXRef-Artifact').map(() => ['SPDXRef-Artifact', 'CONTAINS']),
  );
});

test('SPDXIDs stay unique when names sanitize to the same id', () => {
  const doc = spdxDocument(
    sampleInput([
      component('a.b', '1'),
      component('a_b', '1'),
      component('@a/b', '1'),
      component('a-b', '1'),
    ]),
  ) as Json;
  const ids = (doc.packages as Json[]).map((p) => p.SPDXID);
  assert.equal(new Set(ids).size, 5);
  for (const id of ids) assert.match(id, /^SPDXRef-[A-Za-z0-9.-]+$/);
});

test('without SOURCE_DATE_EPOCH or an artifact date the time is the epoch, never the clock', () => {
  const input = sampleInput([]);
  delete input.subject.created;
  assert.equal((spdxDocument(input) as Json).creationInfo.created, '1970-01-01T00:00:00Z');
  assert.equal(
    (spdxDocument(sampleInput([], { sourceDateEpoch: '1700000000' })) as Json).creationInfo.created,
    '2023-11-14T22:13:20Z',
  );
});

test('determinism: shuffled components give byte-identical output', () => {
  fc.assert(
    fc.property(
      arbitraryComponents.chain((cs) =>
        fc.tuple(fc.constant(cs), fc.shuffledSubarray(cs, { minLength: cs.length, maxLength: cs.length })),
      ),
      ([components, shuffled]) => {
        assert.equal(writeSpdx(sampleInput(shuffled)), writeSpdx(sampleInput(components)));
      },
    ),
    { numRuns: 50 },
  );
});

test('round trip: readSbom lists the components, not the described artifact', () => {
  const read = readSbom(writeSpdx(sampleInput(SAMPLE)), 'mine.spdx.json');
  assert.equal(read.format, 'spdx-json');
  assert.equal(read.specVersion, '2.3');
  assert.deepEqual(read.components.map((c) => c.purl).sort(), SAMPLE.map((c) => c.purl).sort());
});

test('schema: every document written validates against spdx-schema.json 2.3', {
  skip: !haveSchemas && 'shared fixtures absent',
}, () => {
  assert.deepEqual(
    validateSpdx(spdxDocument(sampleInput(SAMPLE, { distro: { id: 'alpine' } })), SCHEMAS),
    [],
  );
  fc.assert(
    fc.property(arbitraryComponents, (components) => {
      assert.deepEqual(validateSpdx(spdxDocument(sampleInput(components)), SCHEMAS), []);
    }),
    { numRuns: 100 },
  );
});
