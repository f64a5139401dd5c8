import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Component } from '../catalog/types.ts';
import { cycloneDxDocument, writeCycloneDx } from './cyclonedx.ts';
import { spdxDocument, writeSpdx } from './spdx.ts';
import { documentUuid, NIL_UUID, type SbomInput } from './subject.ts';
import { arbitraryComponents, component, haveSchemas, SAMPLE, SCHEMAS, sampleInput } from './test-support.ts';
import { validateCycloneDx, validateSpdx } from './validate.ts';

// biome-ignore lint/suspicious/noExplicitAny: the tests walk arbitrary JSON documents
type Json = Record<string, any>;

/** A `dir:` tree listed without hashing it (`sbom dir:`): no digest on the subject. */
function undigested(components: Component[], extra: Partial<SbomInput> = {}): SbomInput {
  const input = sampleInput(components, extra);
  const { digest: _digest, ...subject } = input.subject;
  return { ...input, subject: { ...subject, kind: 'dir', name: 'rootfs' } };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('no digest: the documents name no digest, and their UUID comes from their content', () => {
  const input = undigested(SAMPLE);
  assert.equal(documentUuid(input), NIL_UUID);
  const cdx = cycloneDxDocument(input) as Json;
  const root = cdx.metadata.component;
  assert.equal(root.hashes, undefined);
  assert.equal(root['bom-ref'], 'waybill:artifact');
  assert.ok(!JSON.stringify(cdx).includes('waybill:artifact:digest'));
  assert.deepEqual(
    root.properties.filter((p: Json) => p.name.startsWith('waybill:artifact:')),
    [{ name: 'waybill:artifact:kind', value: 'dir' }],
  );
  const cdxUuid = (cdx.serialNumber as string).replace(/^urn:uuid:/, '');
  assert.match(cdxUuid, UUID);

  const spdx = spdxDocument(input) as Json;
  const described = (spdx.packages as Json[]).find((p) => p.SPDXID === 'SPDXRef-Artifact');
  assert.ok(described);
  assert.equal(described.checksums, undefined);
  assert.ok(!JSON.stringify(spdx).includes('waybill:artifact:digest'));
  const spdxUuid = (spdx.documentNamespace as string).slice(-36);
  assert.match(spdxUuid, UUID);
  assert.ok(!JSON.stringify([cdx, spdx]).includes(NIL_UUID));
});

test('no digest: same content, same bytes; other content, another UUID', () => {
  fc.assert(
    fc.property(
      arbitraryComponents.chain((cs) =>
        fc.tuple(fc.constant(cs), fc.shuffledSubarray(cs, { minLength: cs.length, maxLength: cs.length })),
      ),
      ([components, shuffled]) => {
        assert.equal(writeCycloneDx(undigested(shuffled)), writeCycloneDx(undigested(components)));
        assert.equal(writeSpdx(undigested(shuffled)), writeSpdx(undigested(components)));
      },
    ),
    { numRuns: 50 },
  );
  const one = undigested(SAMPLE);
  const other = undigested([...SAMPLE, component('left-pad', '1.3.0')]);
  assert.notEqual(
    (cycloneDxDocument(one) as Json).serialNumber,
    (cycloneDxDocument(other) as Json).serialNumber,
  );
  assert.notEqual(
    (spdxDocument(one) as Json).documentNamespace,
    (spdxDocument(other) as Json).documentNamespace,
  );
  // Another waybill version writes another document, so another UUID.
  const newer = undigested(SAMPLE, { toolVersion: '0.2.0' });
  assert.notEqual(
    (cycloneDxDocument(one) as Json).serialNumber,
    (cycloneDxDocument(newer) as Json).serialNumber,
  );
  // With a digest, the UUID is the digest's, whatever the content.
  assert.equal(
    (cycloneDxDocument(sampleInput(SAMPLE)) as Json).serialNumber,
    `urn:uuid:${documentUuid(sampleInput([]))}`,
  );
});

test('no digest: every document written validates against the CycloneDX 1.6 and SPDX 2.3 schemas', {
  skip: !haveSchemas && 'shared fixtures absent',
}, () => {
  fc.assert(
    fc.property(arbitraryComponents, (components) => {
      const input = undigested(components, { distro: { id: 'debian', versionId: '12' } });
      assert.deepEqual(validateCycloneDx(cycloneDxDocument(input), SCHEMAS), []);
      assert.deepEqual(validateSpdx(spdxDocument(input), SCHEMAS), []);
    }),
    { numRuns: 100 },
  );
});

test('an image created past year 9999 or on a day that does not exist: refused, naming the artifact, never written', () => {
  // Found by fuzzing: `new Date` took '+033658-09-27T01:46:39Z' and wrote it back as the document's
  // timestamp (which fails both schemas), and rolled 2023-02-30 into March.
  for (const created of [
    '+033658-09-27T01:46:39Z',
    '-000001-01-01T00:00:00Z',
    '2023-02-30T00:00:00Z',
    '1e20',
  ]) {
    const input = sampleInput(SAMPLE);
    input.subject = { ...input.subject, created, ref: 'oci:layout:app' };
    for (const write of [writeCycloneDx, writeSpdx])
      assert.throws(
        () => write(input),
        (e: unknown) =>
          e instanceof Error &&
          e.message === `oci:layout:app: artifact creation time is not an RFC 3339 date-time: ${created}`,
      );
  }
  const fine = sampleInput(SAMPLE);
  fine.subject = { ...fine.subject, created: '9999-12-31T23:59:59.123456789Z' };
  assert.match(writeCycloneDx(fine), /"timestamp": "9999-12-31T23:59:59/);
});
