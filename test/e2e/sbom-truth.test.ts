/**
 * SBOM correctness against ground truth: `waybill sbom` on a real Debian image (dpkg, Python
 * dist-packages, an npm project, a Go executable) must list exactly what the reference tools
 * (dpkg-query, npm ls, go version -m, Python's email parser) say is there — recall and precision 1.00
 * per ecosystem, compared as name+version sets. Extras allowed: the npm project itself, the Go main
 * module and stdlib. Both output formats must validate against the official schemas, and two runs must
 * give the same bytes.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PackageURL } from 'packageurl-js';
import { normalizePypiName, readTruth } from '../../scripts/build-fixture-image.ts';
import { validateCycloneDx, validateSpdx } from '../../src/sbom/validate.ts';
import { waybill } from '../helpers/cli.ts';
import { ensureFixtureImage, type FixtureImage, type FixtureTruth } from '../helpers/fixture-image.ts';

const SCHEMAS = fileURLToPath(new URL('../../../shared/fixtures/schemas', import.meta.url));
const ECOSYSTEMS = ['deb', 'npm', 'golang', 'pypi'] as const;
type Ecosystem = (typeof ECOSYSTEMS)[number];

/** The comparison key of a purl, spelled as truth.json spells it; `undefined` for other types. */
export function truthKey(purl: string): { ecosystem: Ecosystem; key: string } | undefined {
  const p = PackageURL.fromString(purl);
  const version = p.version ?? '';
  const full = p.namespace ? `${p.namespace}/${p.name}` : p.name;
  switch (p.type) {
    case 'deb':
      return { ecosystem: 'deb', key: `${p.name}:${p.qualifiers?.arch ?? '?'}@${version}` };
    case 'npm':
      return { ecosystem: 'npm', key: `${full}@${version}` };
    case 'golang':
      return { ecosystem: 'golang', key: `${full}@${version}` };
    case 'pypi':
      return { ecosystem: 'pypi', key: `${normalizePypiName(p.name)}@${version}` };
    default:
      return undefined;
  }
}

interface Grouped {
  byEcosystem: Record<Ecosystem, Set<string>>;
  /** Purls of types this fixture has no truth for (every one is a precision failure). */
  unexpected: string[];
}

function group(purls: string[]): Grouped {
  const byEcosystem = {
    deb: new Set<string>(),
    npm: new Set<string>(),
    golang: new Set<string>(),
    pypi: new Set<string>(),
  };
  const unexpected: string[] = [];
  for (const purl of purls) {
    const k = truthKey(purl);
    if (k) byEcosystem[k.ecosystem].add(k.key);
    else unexpected.push(purl);
  }
  return { byEcosystem, unexpected };
}

interface CdxComponent {
  'bom-ref'?: string;
  name?: string;
  purl?: string;
  licenses?: unknown[];
  components?: CdxComponent[];
}

function cycloneDxRefs(doc: { components?: CdxComponent[] }): string[] {
  const out: string[] = [];
  const visit = (cs: CdxComponent[] | undefined) => {
    for (const c of cs ?? []) {
      if (c['bom-ref']) out.push(c['bom-ref']);
      visit(c.components);
    }
  };
  visit(doc.components);
  return out;
}

function cycloneDxPurls(doc: { components?: CdxComponent[] }): string[] {
  const out: string[] = [];
  const visit = (cs: CdxComponent[] | undefined) => {
    for (const c of cs ?? []) {
      if (c.purl) out.push(c.purl);
      visit(c.components);
    }
  };
  visit(doc.components);
  return out;
}

function spdxPurls(doc: {
  documentDescribes?: string[];
  packages?: Array<{
    SPDXID: string;
    externalRefs?: Array<{ referenceType: string; referenceLocator: string }>;
  }>;
}): string[] {
  // The described package is the artifact itself (the root), not a component.
  const roots = new Set(doc.documentDescribes ?? []);
  return (doc.packages ?? [])
    .filter((p) => !roots.has(p.SPDXID))
    .flatMap((p) =>
      (p.externalRefs ?? []).filter((r) => r.referenceType === 'purl').map((r) => r.referenceLocator),
    );
}

interface Score {
  ecosystem: Ecosystem;
  truth: number;
  found: number;
  recall: number;
  precision: number;
  missing: string[];
  extra: string[];
}

function score(truth: FixtureTruth, found: Grouped): Score[] {
  return ECOSYSTEMS.map((ecosystem) => {
    const want = new Set(truth[ecosystem]);
    const allowed = new Set<string>(
      ecosystem === 'npm' || ecosystem === 'golang' ? truth.allowedExtras[ecosystem] : [],
    );
    const got = found.byEcosystem[ecosystem];
    const missing = [...want].filter((k) => !got.has(k)).sort();
    const extra = [...got].filter((k) => !want.has(k) && !allowed.has(k)).sort();
    const counted = [...got].filter((k) => !allowed.has(k)).length;
    const hits = want.size - missing.length;
    return {
      ecosystem,
      truth: want.size,
      found: counted,
      recall: want.size === 0 ? 1 : hits / want.size,
      precision: counted === 0 ? (want.size === 0 ? 1 : 0) : hits / counted,
      missing,
      extra,
    };
  });
}

function table(scores: Score[]): string[] {
  const rows = [
    `${'ecosystem'.padEnd(10)} ${'truth'.padStart(6)} ${'found'.padStart(6)} ${'recall'.padStart(7)} ${'precision'.padStart(9)}`,
  ];
  for (const s of scores)
    rows.push(
      `${s.ecosystem.padEnd(10)} ${String(s.truth).padStart(6)} ${String(s.found).padStart(6)} ${s.recall.toFixed(2).padStart(7)} ${s.precision.toFixed(2).padStart(9)}`,
    );
  return rows;
}

describe('waybill sbom on a real Debian + npm + Go image matches the reference tools', () => {
  let image: FixtureImage | undefined;
  let skipReason = '';
  let truth: FixtureTruth;
  let tmp: string;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'waybill-sbom-truth-'));
    const result = await ensureFixtureImage();
    if ('skip' in result) skipReason = result.skip;
    else {
      image = result;
      truth = await readTruth(result.truth);
    }
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  async function sbom(format: 'cyclonedx-json' | 'spdx-json', out: string): Promise<Buffer> {
    const ref = `docker-archive:${image?.dockerArchive}`;
    const r = await waybill(['sbom', ref, '-f', format, '-o', out, '--quiet']);
    assert.equal(r.code, 0, `waybill sbom exited ${r.code}: ${r.stderr}`);
    return readFileSync(out);
  }

  test('CycloneDX: recall and precision 1.00 per ecosystem, valid, byte-identical twice', async (t) => {
    if (!image) return t.skip(skipReason);
    const first = await sbom('cyclonedx-json', join(tmp, 'a.cdx.json'));
    const second = await sbom('cyclonedx-json', join(tmp, 'b.cdx.json'));
    assert.ok(first.equals(second), 'two runs gave different CycloneDX bytes');

    const doc = JSON.parse(first.toString('utf8'));
    const found = group(cycloneDxPurls(doc));
    const scores = score(truth, found);
    for (const row of table(scores)) t.diagnostic(row);
    for (const s of scores) {
      if (s.missing.length) t.diagnostic(`${s.ecosystem} missing: ${s.missing.join(', ')}`);
      if (s.extra.length) t.diagnostic(`${s.ecosystem} extra: ${s.extra.join(', ')}`);
    }
    assert.deepEqual(found.unexpected, [], 'components of an ecosystem the image does not have');
    for (const s of scores) {
      assert.ok(s.truth > 0, `truth.json has no ${s.ecosystem} packages: the fixture is broken`);
      assert.deepEqual(
        { ecosystem: s.ecosystem, missing: s.missing, extra: s.extra },
        { ecosystem: s.ecosystem, missing: [], extra: [] },
      );
    }

    // Licenses of OS packages: from /usr/share/doc/*/copyright (issue 9: >= 90 % of a stock image).
    const debs = (doc.components as CdxComponent[]).filter((c) => c.purl?.startsWith('pkg:deb/'));
    const licensed = debs.filter((c) => (c.licenses ?? []).length > 0).length;
    t.diagnostic(`deb packages with a license: ${licensed} of ${debs.length}`);
    assert.ok(licensed / debs.length >= 0.9, `${licensed} / ${debs.length}`);

    // A dependency graph with real edges, every component reachable from the artifact, which
    // depends on its top-level components only.
    const deps = new Map<string, string[]>(
      (doc.dependencies as Array<{ ref: string; dependsOn?: string[] }>).map((d) => [
        d.ref,
        d.dependsOn ?? [],
      ]),
    );
    const refOf = (name: string) => debs.find((c) => c.name === name)?.['bom-ref'] ?? '';
    assert.ok(
      deps.get(refOf('bash'))?.some((r) => r.includes('/libc6@')),
      'bash Pre-Depends libc6',
    );
    assert.ok(
      deps.get(refOf('python3-six'))?.some((r) => r.includes('/python3@')),
      'python3:any resolved',
    );
    const rootRef = doc.metadata.component['bom-ref'] as string;
    const reached = new Set<string>();
    const stack = [rootRef];
    while (stack.length > 0) {
      const ref = stack.pop()!;
      if (reached.has(ref)) continue;
      reached.add(ref);
      stack.push(...(deps.get(ref) ?? []));
    }
    const all = cycloneDxRefs(doc);
    assert.deepEqual(
      all.filter((r) => !reached.has(r)),
      [],
      'every component reachable',
    );
    assert.ok((deps.get(rootRef)?.length ?? 0) < all.length / 2, 'the root lists top-level components only');

    if (!existsSync(SCHEMAS)) return t.skip(`schemas not found at ${SCHEMAS}`);
    assert.deepEqual(validateCycloneDx(doc, SCHEMAS), []);
  });

  test('one identity per layer: the OCI layout (gzip) and the docker-archive give the same layer ids', async (t) => {
    if (!image) return t.skip(skipReason);
    const fromArchive = JSON.parse((await sbom('cyclonedx-json', join(tmp, 'c.cdx.json'))).toString('utf8'));
    const r = await waybill([
      'sbom',
      `oci:${image.ociDir}:latest`,
      '-o',
      join(tmp, 'oci.cdx.json'),
      '--quiet',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const fromLayout = JSON.parse(readFileSync(join(tmp, 'oci.cdx.json'), 'utf8'));
    const layers = (doc: {
      components: Array<CdxComponent & { properties?: Array<{ name: string; value: string }> }>;
    }) =>
      doc.components.map(
        (c) => `${c['bom-ref']} ${c.properties?.find((p) => p.name === 'waybill:layer')?.value}`,
      );
    assert.deepEqual(layers(fromLayout), layers(fromArchive));
  });

  test('SPDX: the same components, valid, byte-identical twice', async (t) => {
    if (!image) return t.skip(skipReason);
    const first = await sbom('spdx-json', join(tmp, 'a.spdx.json'));
    const second = await sbom('spdx-json', join(tmp, 'b.spdx.json'));
    assert.ok(first.equals(second), 'two runs gave different SPDX bytes');

    const doc = JSON.parse(first.toString('utf8'));
    const scores = score(truth, group(spdxPurls(doc)));
    for (const row of table(scores)) t.diagnostic(row);
    for (const s of scores)
      assert.deepEqual(
        { ecosystem: s.ecosystem, missing: s.missing, extra: s.extra },
        { ecosystem: s.ecosystem, missing: [], extra: [] },
      );

    if (!existsSync(SCHEMAS)) return t.skip(`schemas not found at ${SCHEMAS}`);
    assert.deepEqual(validateSpdx(doc, SCHEMAS), []);
  });
});
