import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { VALIDATOR_SCHEMAS, VALIDATORS_FILE, validatorModuleSource } from './validator-source.ts';
import { precompiledValidator } from './validators.ts';

test('schemas/validators.cjs is what the schemas compile to today (run scripts/generate-validators.ts)', () => {
  const stored = readFileSync(new URL(`../../${VALIDATORS_FILE}`, import.meta.url), 'utf8');
  assert.ok(
    stored === validatorModuleSource(),
    `${VALIDATORS_FILE} is stale: run node scripts/generate-validators.ts`,
  );
});

test('every precompiled validator exists and rejects a non-object with a first error', () => {
  for (const name of Object.keys(VALIDATOR_SCHEMAS) as Array<keyof typeof VALIDATOR_SCHEMAS>) {
    const validate = precompiledValidator(name);
    assert.equal(typeof validate, 'function', name);
    assert.equal(validate(42), false, name);
    assert.ok((validate.errors ?? []).length >= 1, name);
  }
});
