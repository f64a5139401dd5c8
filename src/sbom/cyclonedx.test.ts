import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { WaybillError } from '../errors.ts';
import { cycloneDxDocument, writeCycloneDx } from './cyclonedx.ts';
import { readSbom } from './read.ts';
import { documentUuid } from './subject.ts';
import { arbitraryComponents, haveSchemas, SAMPLE, SCHEMAS, sampleInput } from './test-support.ts';
import { validateCycloneDx } from './validate.ts';

// biome-ignore lint/suspicious/noExplicitAny: the tests walk arbitrary JSON documents
type Json = Record<string, any>;

function byRef(doc: Json, ref: string): Json {
  return (doc.components as Json[]).find((c) => c['bom-ref'] === ref)!;
}

test('CycloneDX 1.6 document: root, components, licenses, properties, evidence, dependencies', () => {
  const input = sampleInput(SAMPLE, {
    distro: { id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
    warnings: [
      { path: 'z/pkg.json', reason: 'not JSON' },
      { path: 'a/status', reason: 'truncated' },
    ],
  });
  const doc = cycloneDxDocument(input) as Json;
  assert.equal(doc.specVersion, '1.6');
  assert.equal(doc.serialNumber, `urn:uuid:${documentUuid(input)}`);
  assert.equal(doc.metadata.timestamp, '2024-05-06T07:08:09.000Z');
  assert.deepEqual(
    doc.metadata.tools.components.map((t: Json) => [t.name, t.version]),
    [['waybill', '0.1.0']],
  );
  assert.deepEqual(doc.metadata.properties, [
    { name: 'waybill:warning', value: 'a/status: truncated' },
    { name: 'waybill:warning', value: 'z/pkg.json: not JSON' },
  ]);
  const root = doc.metadata.component;
  assert.equal(root.type, 'container');
  assert.equal(root.name, 'registry.example/app');
  assert.equal(root.version, '1.2.3');
  assert.deepEqual(root.hashes, [{ alg: 'SHA-256', content: 'ab'.repeat(32) }]);

  const refs = (doc.components as Json[]).map((c) => c['bom-ref']);
  assert.deepEqual(refs, [...refs].sort());
  assert.equal(refs.length, SAMPLE.length + 1);
  const os = byRef(doc, 'waybill:os:debian@12');
  assert.equal(os.type, 'operating-system');

  const types = byRef(doc, 'pkg:npm/%40types/node@20.11.0');
  assert.equal(types.purl, 'pkg:npm/%40types/node@20.11.0');
  assert.deepEqual(types.licenses, [{ license: { id: 'MIT' } }]);
  assert.deepEqual(types.properties, [
    { name: 'waybill:found-at', value: 'node_modules/@types/node/package.json' },
    { name: 'waybill:layer', value: 'sha256:11' },
    { name: 'waybill:npm:dev', value: 'true' },
  ]);
  assert.deepEqual(types.evidence, { occurrences: [{ location: 'node_modules/@types/node/package.json' }] });

  const chalk = byRef(doc, 'pkg:npm/chalk@4.1.2');
  assert.deepEqual(chalk.licenses, [{ expression: 'MIT OR Apache-2.0' }]);
  assert.deepEqual(chalk.supplier, { name: 'Sindre Sorhus' });
  assert.deepEqual(chalk.hashes, [{ alg: 'SHA-512', content: 'ab'.repeat(64) }]);
  assert.deepEqual(
    chalk.evidence.occurrences.map((o: Json) => o.location),
    ['node_modules/chalk/package.json', 'package-lock.json'],
  );
  // Not an SPDX expression → a name; the lowercase id is recognised as MIT.
  assert.deepEqual(byRef(doc, 'pkg:npm/weird@0.0.1').licenses, [
    { license: { name: 'SEE LICENSE IN LICENSE.md' } },
    { license: { id: 'MIT' } },
  ]);
  assert.equal(byRef(doc, 'pkg:npm/none@1.0.0').licenses, undefined);

  const rootDeps = (doc.dependencies as Json[]).find((d) => d.ref === root['bom-ref'])!;
  assert.deepEqual(rootDeps.dependsOn, [...refs].sort());
});

test('timestamp: SOURCE_DATE_EPOCH wins over the artifact date; no clock when neither is known', () => {
  const at = (extra: Parameters<typeof sampleInput>[1]) =>
    (cycloneDxDocument(sampleInput([], extra)) as Json).metadata.timestamp;
  assert.equal(at({ sourceDateEpoch: '1700000000' }), '2023-11-14T22:13:20.000Z');
  const noDate = sampleInput([]);
  delete noDate.subject.created;
  assert.equal((cycloneDxDocument(noDate) as Json).metadata.timestamp, undefined);
  assert.throws(() => cycloneDxDocument(sampleInput([], { sourceDateEpoch: 'yesterday' })), WaybillError);
  const saved = process.env.SOURCE_DATE_EPOCH;
  process.env.SOURCE_DATE_EPOCH = '86400';
  try {
    assert.equal(at({ sourceDateEpoch: undefined }), '1970-01-02T00:00:00.000Z');
  } finally {
    if (saved === undefined) delete process.env.SOURCE_DATE_EPOCH;
    else process.env.SOURCE_DATE_EPOCH = saved;
  }
});

test('root type: application for directories, file for files; serial number changes with the digest', () => {
  const dir = sampleInput([]);
  dir.subject.kind = 'dir';
  const file = sampleInput([]);
  file.subject.kind = 'file';
  file.subject.digest = `sha256:${'cd'.repeat(32)}`;
  assert.equal((cycloneDxDocument(dir) as Json).metadata.component.type, 'application');
  assert.equal((cycloneDxDocument(file) as Json).metadata.component.type, 'file');
  assert.notEqual(
    (cycloneDxDocument(dir) as Json).serialNumber,
    (cycloneDxDocument(file) as Json).serialNumber,
  );
});

test('determinism: shuffled components give byte-identical output', () => {
  fc.assert(
    fc.property(
      arbitraryComponents.chain((cs) =>
        fc.tuple(fc.constant(cs), fc.shuffledSubarray(cs, { minLength: cs.length, maxLength: cs.length })),
      ),
      ([components, shuffled]) => {
        const reordered = shuffled.map((c) => ({
          ...c,
          foundAt: [...c.foundAt].reverse(),
          properties: Object.fromEntries(Object.entries(c.properties).reverse()),
        }));
        assert.equal(writeCycloneDx(sampleInput(reordered)), writeCycloneDx(sampleInput(components)));
      },
    ),
    { numRuns: 50 },
  );
  assert.equal(writeCycloneDx(sampleInput([...SAMPLE].reverse())), writeCycloneDx(sampleInput(SAMPLE)));
});

test('round trip: readSbom lists exactly the components written', () => {
  const read = readSbom(writeCycloneDx(sampleInput(SAMPLE)), 'mine.cdx.json');
  assert.equal(read.format, 'cyclonedx-json');
  assert.equal(read.specVersion, '1.6');
  assert.deepEqual(read.components.map((c) => c.purl).sort(), SAMPLE.map((c) => c.purl).sort());
});

test('schema: every document written validates against bom-1.6.schema.json', {
  skip: !haveSchemas && 'shared fixtures absent',
}, () => {
  const full = sampleInput(SAMPLE, {
    distro: { id: 'alpine', versionId: '3.20.0' },
    warnings: [{ path: 'x', reason: 'y' }],
  });
  assert.deepEqual(validateCycloneDx(cycloneDxDocument(full), SCHEMAS), []);
  fc.assert(
    fc.property(arbitraryComponents, (components) => {
      assert.deepEqual(validateCycloneDx(cycloneDxDocument(sampleInput(components)), SCHEMAS), []);
    }),
    { numRuns: 100 },
  );
});

test('duplicate purls in the input never lead to random bom-refs', () => {
  const twice = [...SAMPLE, { ...SAMPLE[0]!, foundAt: ['elsewhere'] }];
  assert.equal(writeCycloneDx(sampleInput(twice)), writeCycloneDx(sampleInput(twice)));
  assert.ok(!writeCycloneDx(sampleInput(twice)).includes('BomRef'));
});
