import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseVex } from '../audit/vex.ts';
import { isWaybillError } from '../errors.ts';
import { parseJsonValue } from '../oci/parse.ts';
import { parseRecord } from '../record/schema.ts';
import { readSbom } from '../sbom/read.ts';
import { parseSignedText } from '../sign/signed-input.ts';
import { MAX_JSON_DEPTH, nestsDeeperThan } from './json-depth.ts';

/** `depth` nested arrays around `inner`, as JSON text (built without recursion). */
function nested(depth: number, inner = '1'): string {
  return `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
}

test('nestsDeeperThan counts arrays and objects, any depth, without recursion', () => {
  assert.equal(nestsDeeperThan(JSON.parse(nested(MAX_JSON_DEPTH))), false);
  assert.equal(nestsDeeperThan(JSON.parse(nested(MAX_JSON_DEPTH + 1))), true);
  assert.equal(nestsDeeperThan(JSON.parse(nested(100_000))), true);
  assert.equal(nestsDeeperThan({ a: { b: [{}] } }, 4), false);
  assert.equal(nestsDeeperThan({ a: { b: [{ c: [] }] } }, 4), true);
  assert.equal(nestsDeeperThan('text'), false);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 600 }), fc.boolean(), (depth, objects) => {
      let text = '0';
      for (let i = 0; i < depth; i++) text = objects ? `{"k":${text}}` : `[${text}]`;
      assert.equal(nestsDeeperThan(JSON.parse(text)), depth > MAX_JSON_DEPTH);
    }),
    { numRuns: 200 },
  );
});

/** The one line a hostile document gets: MALFORMED, naming the input, saying what is wrong. */
function refusedAsTooDeep(input: string) {
  return (e: unknown) =>
    isWaybillError(e) &&
    e.code === 'MALFORMED' &&
    e.input === input &&
    e.reason === `JSON nested deeper than ${MAX_JSON_DEPTH} levels`;
}

test('every reader of untrusted JSON refuses a document nested 100 000 deep in one line naming it', () => {
  const deep = nested(100_000);
  const sbom = `{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"metadata":{"component":{"type":"application","name":"a","properties":[{"name":${deep},"value":"x"}]}},"components":[]}`;
  assert.throws(() => readSbom(sbom, 'deep.cdx.json'), refusedAsTooDeep('deep.cdx.json'));
  const vex = `{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"timestamp":${deep}}]}`;
  assert.throws(() => parseVex(vex, 'deep.vex.json'), refusedAsTooDeep('deep.vex.json'));
  assert.throws(
    () => parseJsonValue(Buffer.from(`{"manifests":${deep}}`), 'index.json'),
    refusedAsTooDeep('index.json'),
  );
  assert.throws(() => parseRecord(`{"_type":${deep}}`, 'x.waybill.json'), refusedAsTooDeep('x.waybill.json'));
  assert.throws(() => parseSignedText(`{"payload":${deep}}`, 'bundle.json'), refusedAsTooDeep('bundle.json'));
  assert.throws(
    () => parseSignedText(`{"payload":${deep}}\n{"a":1}\n`, 'lines.jsonl'),
    refusedAsTooDeep('lines.jsonl:1'),
  );
});
