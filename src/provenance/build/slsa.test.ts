import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { INTOTO_VECTORS, readIntotoVectors } from '../../../test/helpers/intoto-vectors.ts';
import { checkStatement } from '../../record/intoto.ts';
import { DEFAULT_TIMEOUT_SECONDS } from './recipe.ts';
import { buildProvenance, checkSlsaPredicate, checkSlsaProvenance, type SlsaProvenance } from './slsa.ts';

// biome-ignore lint/suspicious/noExplicitAny: the mutations reach into arbitrary JSON fields
type Json = any;

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../../shared/fixtures/schemas');
const PROTO = join(FIXTURES, 'slsa-provenance-v1/provenance.proto');
const RD_PROTO = join(FIXTURES, 'in-toto-attestation-v1/protos/v1_resource_descriptor.proto');

function sample(): SlsaProvenance {
  return buildProvenance({
    subjects: [
      { name: 'hello.tar.gz', sha256: 'b'.repeat(64) },
      { name: 'hello.deb', sha256: 'a'.repeat(64) },
    ],
    repository: 'https://github.com/example/hello',
    tag: 'v1.2.3',
    commit: 'c'.repeat(40),
    tagObject: 'd'.repeat(40),
    configPath: 'waybill.yaml',
    recipe: {
      commands: ['make dist'],
      outputs: ['dist/*'],
      env: ['GOFLAGS'],
      timeout: DEFAULT_TIMEOUT_SECONDS,
      tools: ['make'],
    },
    environment: { TZ: 'UTC', SOURCE_DATE_EPOCH: '1704164645', LC_ALL: 'C', GOFLAGS: '-trimpath' },
    sourceArchive: { name: 'hello-1.2.3.source.tar', sha256: 'e'.repeat(64), size: 10240 },
    tools: [
      { spec: 'make', name: 'make', path: '/usr/bin/make', sha256: 'f'.repeat(64), version: 'GNU Make 4.3' },
    ],
    builderId: 'https://waybill.dev/builder/local',
    startedOn: new Date('2024-01-02T03:04:05.678Z'),
    finishedOn: new Date('2024-01-02T03:05:00Z'),
    byproducts: [{ name: 'hello-1.2.3.build.log', sha256: '1'.repeat(64), mediaType: 'text/plain' }],
  });
}

test('the provenance is a valid in-toto Statement v1 carrying SLSA provenance v1', () => {
  const p = sample();
  assert.equal(checkStatement(p), undefined);
  assert.equal(checkSlsaProvenance(p), undefined);
  assert.equal(p.predicate.buildDefinition.buildType, 'https://waybill.dev/build/v1');
  assert.deepEqual(
    p.subject.map((s) => s.name),
    ['hello.deb', 'hello.tar.gz'],
  );
  assert.equal(p.predicate.runDetails.metadata.startedOn, '2024-01-02T03:04:05Z');
  const deps = p.predicate.buildDefinition.resolvedDependencies;
  assert.deepEqual(deps[0], {
    uri: 'git+https://github.com/example/hello@refs/tags/v1.2.3',
    digest: { gitCommit: 'c'.repeat(40) },
    annotations: { tagObject: 'd'.repeat(40) },
  });
  assert.equal(deps[1]?.digest?.sha256, 'e'.repeat(64));
  assert.equal(deps[2]?.uri, 'file:///usr/bin/make');
  // Environment keys sorted: the statement is the same bytes for the same inputs.
  assert.deepEqual(Object.keys(p.predicate.buildDefinition.internalParameters.environment as object), [
    'GOFLAGS',
    'LC_ALL',
    'SOURCE_DATE_EPOCH',
    'TZ',
  ]);
});

/** Field names of `message NAME { … }` in a .proto file, in JSON (lowerCamel) spelling. */
function protoFields(proto: string, message: string): Set<string> {
  const body = new RegExp(`message ${message} \\{([^}]*)\\}`).exec(proto)?.[1] ?? '';
  const names = [...body.matchAll(/^\s*(?:repeated\s+)?[\w.<>, ]+\s+(\w+)\s*=\s*\d+;/gm)].map(
    (m) => m[1] as string,
  );
  return new Set(names.map((n) => n.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())));
}

test('every predicate field waybill writes is a field of the SLSA v1 and ResourceDescriptor protos', (t) => {
  if (!existsSync(PROTO) || !existsSync(RD_PROTO)) {
    t.skip('SLSA / in-toto protos not found in ../shared/fixtures');
    return;
  }
  const slsa = readFileSync(PROTO, 'utf8');
  const rd = protoFields(readFileSync(RD_PROTO, 'utf8'), 'ResourceDescriptor');
  const p = sample().predicate;
  const within = (obj: object, fields: Set<string>, where: string) => {
    for (const key of Object.keys(obj))
      assert.ok(fields.has(key), `${where}.${key} is not in the proto (${[...fields].join(', ')})`);
  };
  within(p, protoFields(slsa, 'Provenance'), 'predicate');
  within(p.buildDefinition, protoFields(slsa, 'BuildDefinition'), 'buildDefinition');
  within(p.runDetails, protoFields(slsa, 'RunDetails'), 'runDetails');
  within(p.runDetails.builder, protoFields(slsa, 'Builder'), 'builder');
  within(p.runDetails.metadata, protoFields(slsa, 'BuildMetadata'), 'metadata');
  for (const d of [...p.buildDefinition.resolvedDependencies, ...p.runDetails.byproducts])
    within(d, rd, 'ResourceDescriptor');
});

test('each broken field is named by its JSON Pointer', () => {
  const cases: Array<[(p: Json) => void, string]> = [
    [(p) => delete p.predicate.buildDefinition.buildType, '/predicate/buildDefinition/buildType'],
    [(p) => (p.predicate.buildDefinition.buildType = 'not a uri'), '/predicate/buildDefinition/buildType'],
    [
      (p) => delete p.predicate.buildDefinition.externalParameters,
      '/predicate/buildDefinition/externalParameters',
    ],
    [
      (p) => (p.predicate.buildDefinition.internalParameters = []),
      '/predicate/buildDefinition/internalParameters',
    ],
    [
      (p) => (p.predicate.buildDefinition.resolvedDependencies[1] = { mediaType: 'x' }),
      '/predicate/buildDefinition/resolvedDependencies/1',
    ],
    [
      (p) => (p.predicate.buildDefinition.resolvedDependencies[1].digest.sha256 = 'abc'),
      '/predicate/buildDefinition/resolvedDependencies/1/digest/sha256',
    ],
    [(p) => delete p.predicate.runDetails.builder.id, '/predicate/runDetails/builder/id'],
    [
      (p) => (p.predicate.runDetails.builder.version = { waybill: 1 }),
      '/predicate/runDetails/builder/version/waybill',
    ],
    [
      (p) => (p.predicate.runDetails.metadata.startedOn = '2024-01-02 03:04:05'),
      '/predicate/runDetails/metadata/startedOn',
    ],
    [
      (p) => (p.predicate.runDetails.metadata.finishedOn = '2024-01-02T03:04:05+02:00'),
      '/predicate/runDetails/metadata/finishedOn',
    ],
    [(p) => (p.predicate.runDetails.byproducts = {}), '/predicate/runDetails/byproducts'],
    [(p) => (p.predicateType = 'https://slsa.dev/provenance/v0.2'), '/predicateType'],
    [(p) => (p.subject = []), '/subject'],
  ];
  for (const [mutate, pointer] of cases) {
    const p = JSON.parse(JSON.stringify(sample()));
    mutate(p);
    assert.equal(checkSlsaProvenance(p)?.pointer, pointer, String(mutate));
  }
});

test('the in-toto reference vectors: their provenance predicate is accepted, bad descriptors refused', (t) => {
  const rows = readIntotoVectors();
  if (!rows) {
    t.skip(`in-toto vectors not found at ${INTOTO_VECTORS}`);
    return;
  }
  let checked = 0;
  for (const row of rows) {
    if (row.source.includes('provenance')) {
      assert.equal(checkSlsaPredicate(row.value, '', { strictUris: false }), undefined);
      assert.ok(
        checkSlsaPredicate(row.value),
        'its buildType "theBuildType" is not a URI: strict mode refuses it',
      );
      checked++;
    } else if (row.source.endsWith('resource_descriptor_test.go')) {
      // Each ResourceDescriptor vector as a resolved dependency of an otherwise valid provenance.
      const p = JSON.parse(JSON.stringify(sample()));
      p.predicate.buildDefinition.resolvedDependencies = [row.value];
      const bad = row.var.startsWith('bad');
      assert.equal(
        checkSlsaProvenance(p) === undefined,
        !bad,
        `${row.var}: ${JSON.stringify(checkSlsaProvenance(p))}`,
      );
      checked++;
    } else if (row.source.endsWith('statement_test.go') && row.var.startsWith('bad')) {
      assert.ok(
        checkSlsaProvenance({
          ...row.value,
          predicateType: 'https://slsa.dev/provenance/v1',
          predicate: sample().predicate,
        }),
      );
      checked++;
    }
  }
  assert.ok(checked >= 8, `only ${checked} vectors checked`);
});
