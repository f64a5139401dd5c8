import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { npmPurl } from '../catalog/npm.ts';
import { WaybillError } from '../errors.ts';
import { cycloneDxDocument, writeCycloneDx } from './cyclonedx.ts';
import { readSbom, readSbomDocument } from './read.ts';
import { spdxDocument, writeSpdx } from './spdx.ts';
import { sbomDocumentText } from './subject.ts';
import { component, FIXTURES, sampleInput } from './test-support.ts';

const SBOMS = join(FIXTURES, 'sboms');
const skip = !existsSync(SBOMS) && 'shared fixtures absent (../shared/fixtures/sboms)';

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) =>
    statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)],
  );
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (!(e instanceof WaybillError)) throw e;
    return e.code;
  }
}

test('every SBOM in the shared fixtures is read, or refused as UNSUPPORTED when it is syft-json or SPDX 3', {
  skip,
}, () => {
  const files = walk(SBOMS).filter((f) => !/\.(md|txt)$/.test(f));
  const seen = { cyclonedx: new Set<string>(), spdx: new Set<string>(), unsupported: 0 };
  for (const f of files) {
    const rel = relative(SBOMS, f);
    const bytes = readFileSync(f);
    const raw = JSON.parse(bytes.toString('utf8'));
    const expectUnsupported = Array.isArray(raw.artifacts) || '@context' in raw;
    if (expectUnsupported) {
      assert.equal(
        codeOf(() => readSbom(bytes, rel)),
        'UNSUPPORTED',
        rel,
      );
      seen.unsupported++;
      continue;
    }
    const sbom = readSbom(bytes, rel);
    if (sbom.format === 'cyclonedx-json') seen.cyclonedx.add(sbom.specVersion);
    else seen.spdx.add(sbom.specVersion);
    for (const c of sbom.components) {
      assert.equal(typeof c.name, 'string', rel);
      // Purls are passed through as written (syft's snapshot goldens use placeholders like `a-purl-1`).
      if (c.purl !== undefined) assert.equal(typeof c.purl, 'string', rel);
    }
  }
  assert.deepEqual([...seen.cyclonedx].sort(), ['1.2', '1.3', '1.4', '1.5', '1.6', '1.7']);
  assert.deepEqual([...seen.spdx].sort(), ['2.2', '2.3']);
  assert.ok(seen.unsupported >= 6);
});

test('component counts match what the producing tools state', { skip }, () => {
  const count = (rel: string) => readSbom(readFileSync(join(SBOMS, rel)), rel).components.length;
  assert.equal(
    count('trivy-pre-1.7-commit/integration/testdata/fluentd-multiple-lockfiles.cdx.json.golden'),
    161,
  );
  assert.equal(count('trivy/integration/testdata/fluentd-multiple-lockfiles.cdx.json.golden'), 161);
  assert.equal(count('cyclonedx-bom-examples/SBOM/proton-bridge/proton-bridge-v1.8.0.bom.json'), 201);
  assert.equal(count('cyclonedx-bom-examples/SBOM/keycloak-10.0.2/bom.json'), 903);
  assert.equal(count('cyclonedx-bom-examples/SBOM/laravel-7.12.0/bom.1.4.json'), 62);
  assert.equal(count('syft/format/spdxjson/testdata/spdx/alpine-3.10.syft.spdx.json'), 3);
  // The SPDX subject (the package the document DESCRIBES) is not a component.
  const pg = readSbom(
    readFileSync(join(SBOMS, 'trivy/pkg/fanal/analyzer/sbom/testdata/postgresql.spdx.json')),
    'pg',
  );
  assert.ok(pg.components.every((c) => c.purl === undefined || c.purl.startsWith('pkg:')));
  const npm = readSbom(
    readFileSync(join(SBOMS, 'cyclonedx-bom-examples/SBOM/juice-shop/via_npm/bare/bom.1.4.json')),
    'juice',
  );
  assert.ok(
    npm.components.some((c) => c.name.startsWith('@') && c.name.includes('/')),
    'npm scope (CycloneDX group) kept in the name',
  );
});

test('XML, SPDX tag-value, SPDX 3, syft-json and unknown CycloneDX versions are UNSUPPORTED', () => {
  assert.equal(
    codeOf(() => readSbom('<?xml version="1.0"?><bom/>', 'x.xml')),
    'UNSUPPORTED',
  );
  assert.equal(
    codeOf(() => readSbom('SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n', 'x.spdx')),
    'UNSUPPORTED',
  );
  assert.equal(
    codeOf(() => readSbom('{"@context":"https://spdx.org/rdf/3.0.1/spdx-context.jsonld","@graph":[]}', 'x')),
    'UNSUPPORTED',
  );
  assert.equal(
    codeOf(() =>
      readSbom(
        '{"artifacts":[],"schema":{"url":"https://raw.githubusercontent.com/anchore/syft/main/schema/json/schema-16.json"}}',
        'x',
      ),
    ),
    'UNSUPPORTED',
  );
  assert.equal(
    codeOf(() => readSbom('{"bomFormat":"CycloneDX","specVersion":"2.0"}', 'x')),
    'UNSUPPORTED',
  );
  assert.equal(
    codeOf(() => readSbom('{"spdxVersion":"SPDX-2.1","packages":[]}', 'x')),
    'UNSUPPORTED',
  );
});

test('broken JSON and non-SBOM JSON are MALFORMED', () => {
  assert.equal(
    codeOf(() => readSbom('{"bomFormat": "CycloneDX", ', 'x')),
    'MALFORMED',
  );
  assert.equal(
    codeOf(() => readSbom('[]', 'x')),
    'MALFORMED',
  );
  assert.equal(
    codeOf(() => readSbom('{"hello":"world"}', 'x')),
    'MALFORMED',
  );
  assert.equal(
    codeOf(() => readSbom('{"bomFormat":"CycloneDX"}', 'x')),
    'MALFORMED',
  );
  assert.equal(
    codeOf(() => readSbom('{"spdxVersion":"banana"}', 'x')),
    'MALFORMED',
  );
});

test('property: random bytes and random JSON never throw anything but WaybillError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      codeOf(() => readSbom(bytes, 'random'));
    }),
    { numRuns: 300 },
  );
  const shapes = fc.oneof(
    fc.anything(),
    fc.record({
      bomFormat: fc.constant('CycloneDX'),
      specVersion: fc.constantFrom('1.4', '1.6', 7),
      components: fc.anything(),
    }),
    fc.record({
      spdxVersion: fc.constantFrom('SPDX-2.3', 'SPDX-2.2'),
      packages: fc.anything(),
      relationships: fc.anything(),
      documentDescribes: fc.anything(),
    }),
  );
  fc.assert(
    fc.property(shapes, (doc) => {
      codeOf(() => readSbom(JSON.stringify(doc) ?? 'undefined', 'random'));
    }),
    { numRuns: 500 },
  );
});

test('the subject other tools write is read: trivy image ids, syft file digests, SPDX documentDescribes', {
  skip,
}, () => {
  const read = (path: string) => readSbom(readFileSync(join(SBOMS, path)), path);
  const trivy = read('trivy/integration/testdata/fixtures/sbom/centos-7-cyclonedx.json');
  assert.deepEqual(trivy.subjects, [
    {
      name: 'integration/testdata/fixtures/images/centos-7.tar.gz',
      // aquasecurity:trivy:ImageID: the image config digest.
      sha256: ['f1cb7c7d58b73eac859c395882eec49d50651244e342cd6c68a5c7809785f427'],
      where: 'metadata.component',
    },
  ]);
  const syft = read('syft/format/cyclonedxjson/testdata/identify/1.6.json');
  assert.equal(syft.subjects[0]?.name, 'go.mod');
  assert.match(syft.subjects[0]?.version ?? '', /^sha256:sha256:[0-9a-f]{64}$/);
  const spdx = read('trivy/integration/testdata/fixtures/sbom/centos-7-spdx.json');
  assert.deepEqual(
    spdx.subjects.map((s) => [s.name, s.where]),
    [
      [
        'integration/testdata/fixtures/images/centos-7.tar.gz',
        'SPDXRef-ContainerImage-dd5cad897c6263 (documentDescribes)',
      ],
    ],
  );
  const bin = read('syft/format/spdxjson/testdata/spdx/example7-bin.spdx.json');
  assert.deepEqual(
    bin.subjects.map((s) => s.name),
    ['hello'],
  );
  // No subject at all: an empty list, not an error.
  assert.deepEqual(readSbom('{"bomFormat":"CycloneDX","specVersion":"1.6"}', 'x').subjects, []);
});

test('subject hashes: only well-formed SHA-256 values count, lower-cased', () => {
  const doc = (hashes: unknown) =>
    JSON.stringify({
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      metadata: { component: { type: 'file', name: 'a', group: 'g', hashes } },
    });
  const upper = 'AB'.repeat(32);
  const s = readSbom(
    doc([
      { alg: 'SHA-256', content: upper },
      { alg: 'SHA-1', content: 'a'.repeat(40) },
      { alg: 'SHA-256', content: 'nothex' },
    ]),
    'x',
  ).subjects[0];
  assert.deepEqual(s, { name: 'g/a', sha256: [upper.toLowerCase()], where: 'metadata.component' });
  fc.assert(
    fc.property(fc.anything(), (hashes) => {
      const subject = readSbom(doc(hashes), 'x').subjects[0];
      for (const h of subject?.sha256 ?? []) assert.match(h, /^[0-9a-f]{64}$/);
    }),
  );
});

test('the subject’s declared licenses: CycloneDX ids, names and expressions; SPDX licenseDeclared, a LicenseRef by its name', () => {
  const pkg = component('jq', '1.6', {
    ecosystem: 'deb',
    purl: 'pkg:deb/debian/jq@1.6?arch=amd64',
    licenses: ['MIT', 'GPL-2.0-or-later'],
  });
  const input = sampleInput([], { subject: { ...sampleInput([]).subject, kind: 'file', package: pkg } });
  assert.deepEqual(readSbom(writeCycloneDx(input), 'x').subjectLicenses, ['GPL-2.0-or-later', 'MIT']);
  assert.deepEqual(readSbom(writeSpdx(input), 'x').subjectLicenses, ['MIT AND GPL-2.0-or-later']);
  const named = {
    ...input,
    subject: { ...input.subject, package: { ...pkg, licenses: ['Bouncy Castle Licence'] } },
  };
  assert.deepEqual(readSbom(writeCycloneDx(named), 'x').subjectLicenses, ['Bouncy Castle Licence']);
  assert.deepEqual(readSbom(writeSpdx(named), 'x').subjectLicenses, ['Bouncy Castle Licence']);
  const expression = {
    ...input,
    subject: { ...input.subject, package: { ...pkg, licenses: ['MIT OR Apache-2.0'] } },
  };
  assert.deepEqual(readSbom(writeCycloneDx(expression), 'x').subjectLicenses, ['MIT OR Apache-2.0']);
  const none = { ...input, subject: { ...input.subject, package: { ...pkg, licenses: [] } } };
  assert.deepEqual(readSbom(writeCycloneDx(none), 'x').subjectLicenses, []);
  assert.deepEqual(readSbom(writeSpdx(none), 'x').subjectLicenses, []);
  // An image's SBOM names no package: no licenses of its own.
  assert.deepEqual(readSbom(writeCycloneDx(sampleInput([])), 'x').subjectLicenses, []);
});

test('values nested 100 000 lists deep where a string belongs: read, or one WaybillError, never a stack overflow (found by fuzzing)', () => {
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  const cdx = (name: string) =>
    `{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"metadata":{"component":{"type":"application","name":"a","properties":[{"name":${name},"value":"x"}]}},"components":[]}`;
  // Refused where it enters (util/json-depth.ts); under that bound, a list where a string belongs is
  // read past, never stringified.
  assert.throws(
    () => readSbom(cdx(deep), 'deep.cdx.json'),
    (e: unknown) => e instanceof WaybillError && e.input === 'deep.cdx.json',
  );
  assert.equal(readSbom(cdx('[[["x"]]]'), 'list.cdx.json').format, 'cyclonedx-json');
  assert.throws(
    () => readSbom(`{"@context":${deep}}`, 'deep.json'),
    (e: unknown) => e instanceof WaybillError && e.input === 'deep.json',
  );
});

test('a written document read as an object reads as its bytes do (encodeSbom counts from the object)', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), { maxLength: 12 }),
      fc.boolean(),
      (names, nest) => {
        const components = names.map((n, i) =>
          component(n, `1.${i}.0`, nest && i > 0 ? { vendoredIn: npmPurl(names[0] as string, '1.0.0') } : {}),
        );
        const input = sampleInput(components);
        for (const [doc, text] of [
          [cycloneDxDocument(input), writeCycloneDx(input)],
          [spdxDocument(input), writeSpdx(input)],
        ] as const) {
          assert.equal(sbomDocumentText(doc), text);
          assert.deepEqual(readSbomDocument(doc, 'x'), readSbom(text, 'x'));
        }
      },
    ),
    { numRuns: 50 },
  );
});
