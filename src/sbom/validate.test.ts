import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { WaybillError } from '../errors.ts';
import { FIXTURES, haveSchemas, SCHEMAS } from './test-support.ts';
import { validateCycloneDx, validateSpdx } from './validate.ts';

const skip = !haveSchemas && 'shared fixtures absent (../shared/fixtures/schemas)';
const load = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

test('CycloneDX validator passes every valid-* and rejects every invalid-* spec conformance case', {
  skip,
}, () => {
  const dir = join(SCHEMAS, 'cyclonedx-1.6', 'test-resources-1.6');
  const cases = readdirSync(dir).filter((f) => f.endsWith('.json'));
  assert.ok(cases.length >= 70, `${cases.length} cases`);
  const wrong: string[] = [];
  for (const name of cases) {
    const errors = validateCycloneDx(load(join(dir, name)), SCHEMAS);
    // invalid-metadata-timestamp only fails with format checking: ajv-formats provides date-time.
    if (name.startsWith('valid-') && errors.length > 0)
      wrong.push(`${name}: ${errors[0]!.path} ${errors[0]!.message}`);
    if (name.startsWith('invalid-') && errors.length === 0) wrong.push(`${name}: accepted`);
  }
  assert.deepEqual(wrong, []);
});

test("SPDX validator passes the official 2.3 example and real tools' output, rejects the broken ones", {
  skip,
}, () => {
  const example = load(join(SCHEMAS, 'spdx-2.3', 'SPDXJSONExample-v2.3.spdx.json'));
  assert.deepEqual(validateSpdx(example, SCHEMAS), []);
  for (const path of [
    'sboms/trivy/integration/testdata/julia-spdx.json.golden',
    'sboms/trivy/pkg/fanal/analyzer/sbom/testdata/postgresql.spdx.json',
  ]) {
    assert.deepEqual(validateSpdx(load(join(FIXTURES, path)), SCHEMAS), [], path);
  }
  // The shared fixture's known negative case: primaryPackagePurpose "OPERATING-SYSTEM" (the enum is OPERATING_SYSTEM).
  const bad = validateSpdx(
    load(join(FIXTURES, 'sboms/trivy/pkg/fanal/analyzer/sbom/testdata/ca-certificates.spdx.json')),
    SCHEMAS,
  );
  assert.deepEqual(
    bad.map((e) => e.path),
    ['/packages/1/primaryPackagePurpose'],
  );
  const { spdxVersion: _, ...noVersion } = example;
  assert.ok(validateSpdx(noVersion, SCHEMAS).length > 0);
  const wrongType = {
    ...example,
    packages: [{ ...example.packages[0], filesAnalyzed: 'yes' }, ...example.packages.slice(1)],
  };
  assert.deepEqual(
    validateSpdx(wrongType, SCHEMAS).map((e) => e.path),
    ['/packages/0/filesAnalyzed'],
  );
});

test('missing schema directory is a NOT_FOUND WaybillError', () => {
  assert.throws(
    () => validateCycloneDx({}, '/nonexistent/schemas'),
    (e: unknown) => e instanceof WaybillError && e.code === 'NOT_FOUND',
  );
});
