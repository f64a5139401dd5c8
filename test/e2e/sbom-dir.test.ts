/**
 * `waybill sbom dir:PATH` names the tree without a digest (docs/sbom.md): same tree, same bytes in
 * both formats, valid against the official schemas, a UUID from the content; `stamp dir:` still hashes
 * the tree, and its SBOM and record name the tree's digest.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { validateCycloneDx, validateSpdx } from '../../src/sbom/validate.ts';
import { waybill } from '../helpers/cli.ts';

const SCHEMAS = fileURLToPath(new URL('../../../shared/fixtures/schemas', import.meta.url));
const ENV = { SOURCE_DATE_EPOCH: '1700000000' };

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'waybill-sbom-dir-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

function tree(name: string, packages: Record<string, string>): string {
  const dir = join(root, name);
  for (const [pkg, version] of Object.entries(packages)) {
    mkdirSync(join(dir, 'node_modules', pkg), { recursive: true });
    writeFileSync(join(dir, 'node_modules', pkg, 'package.json'), JSON.stringify({ name: pkg, version }));
  }
  writeFileSync(join(dir, 'README'), 'not read by any cataloger\n');
  return dir;
}

async function sbom(dir: string, format: 'cyclonedx-json' | 'spdx-json'): Promise<string> {
  const r = await waybill(['sbom', `dir:${dir}`, '-f', format, '--quiet'], { env: ENV });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

const DIGEST = /sha256:[0-9a-f]{64}/;

test('sbom dir: no digest, same bytes twice, schema-valid, a UUID from the content', async (t) => {
  const dir = tree('a', { left: '1.0.0', right: '2.0.0' });
  const cdx = await sbom(dir, 'cyclonedx-json');
  assert.equal(await sbom(dir, 'cyclonedx-json'), cdx, 'CycloneDX bytes differ between two runs');
  const spdx = await sbom(dir, 'spdx-json');
  assert.equal(await sbom(dir, 'spdx-json'), spdx, 'SPDX bytes differ between two runs');
  for (const text of [cdx, spdx]) {
    assert.doesNotMatch(text, /waybill:artifact:digest/);
    assert.doesNotMatch(text, /00000000-0000-0000-0000-000000000000/);
  }
  const doc = JSON.parse(cdx);
  assert.equal(doc.metadata.component.hashes, undefined);
  assert.deepEqual(doc.components.map((c: { purl: string }) => c.purl).sort(), [
    'pkg:npm/left@1.0.0',
    'pkg:npm/right@2.0.0',
  ]);

  // A file no cataloger reads changes nothing; another component changes the UUID.
  writeFileSync(join(dir, 'README'), 'changed\n');
  assert.equal(await sbom(dir, 'cyclonedx-json'), cdx);
  const other = JSON.parse(await sbom(tree('b', { left: '1.0.0', right: '2.0.1' }), 'cyclonedx-json'));
  assert.notEqual(other.serialNumber, doc.serialNumber);

  if (!existsSync(SCHEMAS)) return t.skip(`schemas not found at ${SCHEMAS}`);
  assert.deepEqual(validateCycloneDx(doc, SCHEMAS), []);
  assert.deepEqual(validateSpdx(JSON.parse(spdx), SCHEMAS), []);
});

test('stamp dir: hashes the tree: its SBOM and record name the digest check compares', async () => {
  const dir = tree('stamped', { left: '1.0.0' });
  const stamped = await waybill(
    [
      'stamp',
      `dir:${dir}`,
      ...['--name', 'demo', '--version', '1.0', '--team', 'Example Team', '--contact', 'team@example.org'],
      ...['--bug-tracker', 'https://bugs.example.org/demo', '--built', '2024-01-01T00:00:00Z', '--quiet'],
    ],
    { env: ENV },
  );
  assert.equal(stamped.code, 0, stamped.stderr);
  const stored = JSON.parse(readFileSync(`${dir}.cdx.json`, 'utf8'));
  const digest = (stored.metadata.component.properties as Array<{ name: string; value: string }>).find(
    (p) => p.name === 'waybill:artifact:digest',
  )?.value;
  assert.match(digest ?? '', DIGEST);
  const record = readFileSync(`${dir}.waybill.json`, 'utf8');
  assert.ok(record.includes((digest as string).slice('sha256:'.length)), 'the record binds the same digest');
  // Bound: the rules run (no signed source here, so one fails: exit 1), not refused as another tree.
  const checked = await waybill(['check', `dir:${dir}`, '--format', 'json'], { env: ENV });
  assert.equal(checked.code, 1, checked.stderr);
});

test('sbom dir: a yarn or pnpm source tree lists its locked packages as declared; installed, only those', async (t) => {
  const fixtures = fileURLToPath(new URL('../../src/catalog/lockfile-fixtures', import.meta.url));
  for (const [fixture, lockfile] of [
    ['yarn-v1', 'yarn.lock'],
    ['pnpm9', 'pnpm-lock.yaml'],
  ] as const) {
    const dir = join(root, `src-${fixture}`);
    mkdirSync(dir);
    for (const name of ['package.json', lockfile])
      writeFileSync(join(dir, name), readFileSync(join(fixtures, fixture, name)));
    const doc = JSON.parse(await sbom(dir, 'cyclonedx-json'));
    type Cdx = { purl: string; scope?: string; properties?: Array<{ name: string; value: string }> };
    const components: Cdx[] = doc.components;
    assert.equal(components.length, 17, fixture);
    assert.ok(components.some((c) => c.purl === 'pkg:npm/react-dom@18.2.0'));
    for (const c of components) {
      assert.equal(c.scope, 'optional', `${fixture} ${c.purl}`);
      assert.ok(
        c.properties?.some((p) => p.name === 'waybill:presence' && p.value === 'declared'),
        `${fixture} ${c.purl}`,
      );
    }
    if (existsSync(SCHEMAS)) assert.deepEqual(validateCycloneDx(doc, SCHEMAS), []);

    // Installed: the tree wins, the lockfile entries with nothing installed are not components.
    const installed = tree(`src-${fixture}`, { ms: '2.1.3', debug: '4.3.4' });
    const after = JSON.parse(await sbom(installed, 'cyclonedx-json'));
    assert.deepEqual(after.components.map((c: Cdx) => `${c.purl} ${c.scope ?? 'required'}`).sort(), [
      'pkg:npm/debug@4.3.4 required',
      'pkg:npm/ms@2.1.3 required',
    ]);
  }
  if (!existsSync(SCHEMAS)) t.skip(`schemas not found at ${SCHEMAS}`);
});
