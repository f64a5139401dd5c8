import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ArtifactBudget, artifactLimits, checkLayerCount, limitFromEnv } from './artifact-budget.ts';

test('limitFromEnv: a positive whole number, else the default; anything else is USAGE', () => {
  assert.equal(limitFromEnv('X', 7, {}), 7);
  assert.equal(limitFromEnv('X', 7, { X: '' }), 7);
  assert.equal(limitFromEnv('X', 7, { X: ' 12 ' }), 12);
  for (const bad of ['0', '-1', '1.5', '1e3', 'lots', '0x10', String(2 ** 60)]) {
    assert.throws(() => limitFromEnv('X', 7, { X: bad }), { code: 'USAGE', input: 'X' }, bad);
  }
  assert.deepEqual(artifactLimits({}), { maxBytes: 32 * 1024 ** 3, maxEntries: 5_000_000, maxLayers: 1000 });
});

test('ArtifactBudget: one total for every holder of its state; LIMIT names the artifact', () => {
  const budget = ArtifactBudget.create({ maxBytes: 100, maxEntries: 3 }, 'oci:img:latest');
  const other = ArtifactBudget.attach(structuredClone(budget.state));
  budget.chargeBytes(60);
  other.chargeBytes(40);
  assert.equal(budget.bytes, 100);
  assert.throws(
    () => other.chargeBytes(1),
    (e: Error & { code?: string; input?: string }) =>
      e.code === 'LIMIT' && e.input === 'oci:img:latest' && /WAYBILL_MAX_ARTIFACT_BYTES/.test(e.message),
  );
  other.chargeEntries(3);
  assert.throws(() => budget.chargeEntries(1), /more than 3 entries in all \(WAYBILL_MAX_ENTRIES\)/);
  assert.throws(() => checkLayerCount(1001, { maxLayers: 1000 }, 'img'), /1001 layers, more than 1000/);
  checkLayerCount(1000, { maxLayers: 1000 }, 'img');
});

test('ArtifactBudget: property — passes exactly when the running total exceeds the cap', () => {
  fc.assert(
    fc.property(
      fc.array(fc.nat({ max: 1000 }), { maxLength: 30 }),
      fc.nat({ max: 10_000 }),
      (charges, max) => {
        const budget = ArtifactBudget.create({ maxBytes: max, maxEntries: 1 }, 'a');
        let total = 0;
        for (const n of charges) {
          total += n;
          if (total > max) {
            assert.throws(() => budget.chargeBytes(n), { code: 'LIMIT' });
            return;
          }
          budget.chargeBytes(n);
        }
      },
    ),
  );
});
