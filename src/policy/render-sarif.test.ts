import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCheck } from './check.ts';
import { artifactUri, renderSarif, SARIF_SCHEMA } from './render-sarif.ts';
import { goodInput } from './test-support.ts';
import { RULES } from './types.ts';

// Structural checks of the SARIF 2.1.0 properties the OASIS schema requires (sarifLog: version, runs;
// run: tool; tool: driver; toolComponent: name; reportingDescriptor: id; result: message;
// message: text or id; location / artifactLocation shapes) plus what code-scanning UIs rely on.
// biome-ignore lint/suspicious/noExplicitAny: walking untyped SARIF JSON in assertions
type Json = Record<string, any>;

function assertSarifShape(log: Json): void {
  assert.equal(log.$schema, SARIF_SCHEMA);
  assert.equal(log.version, '2.1.0');
  assert.ok(Array.isArray(log.runs) && log.runs.length === 1);
  const run = log.runs[0];
  const driver = run.tool.driver;
  assert.equal(driver.name, 'waybill');
  assert.deepEqual(
    driver.rules.map((r: Json) => r.id),
    RULES.map((r) => r.id),
  );
  for (const r of driver.rules) {
    assert.equal(typeof r.shortDescription.text, 'string');
    assert.ok(new URL(r.helpUri).protocol === 'https:');
  }
  for (const result of run.results) {
    assert.ok(['error', 'warning'].includes(result.level));
    assert.equal(typeof result.message.text, 'string');
    assert.equal(driver.rules[result.ruleIndex].id, result.ruleId);
    assert.ok(result.locations.length === 1);
    const loc = result.locations[0];
    assert.equal(typeof loc.physicalLocation.artifactLocation.uri, 'string');
    assert.equal(typeof loc.logicalLocations[0].fullyQualifiedName, 'string');
  }
}

test('passing report: rules described, no results', () => {
  const log = renderSarif(runCheck(goodInput()), { toolVersion: '0.1.0' }) as Json;
  assertSarifShape(log);
  assert.deepEqual(log.runs[0].results, []);
  assert.equal(log.runs[0].tool.driver.version, '0.1.0');
  assert.equal(log.runs[0].artifacts[0].hashes['sha-256'], 'ab'.repeat(32));
});

test('failing and warning findings become results with levels; info findings do not', () => {
  const input = goodInput();
  input.record!.predicate.help.bugTracker = 'http://bugs.example.org/kolla';
  input.facts.bugTracker = undefined;
  input.record!.predicate.support.disclaimer = null;
  const log = renderSarif(runCheck(input)) as Json;
  assertSarifShape(log);
  const results = log.runs[0].results as Json[];
  assert.deepEqual(
    results.map((r) => [r.ruleId, r.level]),
    [
      ['help', 'warning'],
      ['support', 'error'],
    ],
  );
  assert.equal(
    results[1]!.locations[0].logicalLocations[0].fullyQualifiedName,
    'record:/predicate/support/disclaimer',
  );
  assert.equal(
    results[1]!.locations[0].physicalLocation.artifactLocation.uri,
    'dist/kolla-keystone_1.2.3_amd64.deb',
  );
  assert.match(results[1]!.message.text, /Fix: set disclaimer in waybill\.yaml or pass --disclaimer/);
  // Serializes to JSON deterministically.
  assert.equal(JSON.stringify(renderSarif(runCheck(input))), JSON.stringify(log));
});

test('artifact references become URI references', () => {
  assert.equal(
    artifactUri('docker://registry.example.org/kolla/keystone:1.2.3'),
    'docker://registry.example.org/kolla/keystone:1.2.3',
  );
  assert.equal(artifactUri('dist/my file.deb'), 'dist/my%20file.deb');
  assert.equal(artifactUri('C:\\dist\\a.deb'), 'C:/dist/a.deb');
});

test('policy: its source and the rules it switched off or lowered are in the run', () => {
  const input = goodInput();
  input.policy.levels = { 'signed-source': 'off', dates: 'warn' };
  input.policy.source = '/home/u/.config/waybill/policy.yaml';
  const run = (renderSarif(runCheck(input)) as Json).runs[0];
  assert.equal(run.properties.policySource, '/home/u/.config/waybill/policy.yaml');
  assert.deepEqual(run.invocations[0].ruleConfigurationOverrides, [
    { descriptor: { id: 'dates', index: 2 }, configuration: { level: 'warning' } },
    { descriptor: { id: 'signed-source', index: 3 }, configuration: { enabled: false, level: 'none' } },
  ]);
  const defaults = (renderSarif(runCheck(goodInput())) as Json).runs[0];
  assert.equal(defaults.properties.policySource, 'built-in defaults');
  assert.deepEqual(defaults.invocations, [{ executionSuccessful: true }]);
});
