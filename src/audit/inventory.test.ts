import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeTmp, removeTmp } from '../../test/helpers/exec-fixtures.ts';
import { auditInventory, loadTarget } from './audit.ts';
import { dependencyPaths } from './dependency-paths.ts';
import { readImportSource } from './import-sources.ts';
import { readInventory } from './inventory.ts';
import { packageQuery } from './package-query.ts';
import { AdvisoryStore } from './store.ts';
import { GHSA_SAMPLE, haveShared, SHARED } from './test-support.ts';

const SBOMS = join(SHARED, 'sboms');
const JUICE = join(SBOMS, 'cyclonedx-bom-examples/SBOM/juice-shop/via_npm/bare/bom.1.4.json');
const CDXGEN = join(SBOMS, 'cdxgen/test/data/bom-deps.json');
const TRIVY = join(SBOMS, 'trivy/pkg/sbom/cyclonedx/testdata/happy/bom.json');
const UBUNTU_SYFT = join(SBOMS, 'grype/test/cli/testdata/sbom-ubuntu-20.04--pruned.json');

let tmp: string;
before(async () => {
  tmp = await makeTmp('waybill-inventory-');
});
after(() => removeTmp(tmp));

describe('SBOM inventories for audits', () => {
  test("other tools' dependency graphs: every path starts at the subject and follows real edges", (t) => {
    if (!haveShared(CDXGEN, JUICE)) return t.skip('../shared/fixtures/sboms not present');
    for (const file of [CDXGEN, JUICE]) {
      const inv = readInventory(readFileSync(file), file);
      assert.ok(inv.subject, file);
      const pathOf = dependencyPaths(inv);
      const labels = new Map<string, string>([
        [inv.subject.ref, `${inv.subject.name}@${inv.subject.version}`],
      ]);
      for (const c of inv.components) labels.set(c.ref, `${c.name}@${c.version}`);
      const edges = new Set<string>();
      for (const [from, to] of inv.edges)
        for (const t2 of to) edges.add(`${labels.get(from)}>${labels.get(t2)}`);
      let reached = 0;
      for (const c of inv.components) {
        const path = pathOf(c.ref);
        if (!path) continue;
        reached++;
        assert.equal(path[0], labels.get(inv.subject.ref));
        assert.equal(path.at(-1), labels.get(c.ref));
        for (let i = 1; i < path.length; i++)
          assert.ok(edges.has(`${path[i - 1]}>${path[i]}`), `${file}: ${path.join(' > ')}`);
      }
      assert.ok(
        reached > inv.components.length / 2,
        `${file}: ${reached} of ${inv.components.length} reached`,
      );
    }
  });

  test('source packages and distro from trivy properties, syft `upstream` qualifiers and OS components', (t) => {
    if (!haveShared(TRIVY, UBUNTU_SYFT)) return t.skip('../shared/fixtures/sboms not present');
    const trivy = readInventory(readFileSync(TRIVY), TRIVY);
    assert.deepEqual(trivy.distro, { id: 'alpine', versionId: '3.16.0' });
    const musl = trivy.components.find((c) => c.name === 'musl');
    assert.ok(musl);
    const q = packageQuery(musl, { sbomDistro: trivy.distro });
    assert.ok(q.ok);
    assert.deepEqual(
      { base: q.query.base, release: q.query.release, keys: q.query.keys, version: q.query.version },
      { base: 'Alpine', release: 'v3.16', keys: ['musl'], version: '1.2.3-r0' },
    );
    assert.match(musl.locations[0]?.layer ?? '', /^sha256:/);
    const ubuntuSbom = JSON.parse(readFileSync(UBUNTU_SYFT, 'utf8')) as { artifacts?: unknown };
    assert.ok(ubuntuSbom.artifacts, 'syft-json is refused by the SBOM reader, as the issue asks');
    assert.throws(() => readInventory(readFileSync(UBUNTU_SYFT), UBUNTU_SYFT), /syft-json is not supported/);
    // A syft CycloneDX component with an upstream qualifier (binary libssl3 from source openssl).
    const q2 = packageQuery({
      ref: 'x',
      name: 'libssl3',
      version: '3.0.2-0ubuntu1.10',
      purl: 'pkg:deb/ubuntu/libssl3@3.0.2-0ubuntu1.10?arch=amd64&upstream=openssl&distro=ubuntu-22.04',
      properties: new Map(),
      locations: [],
    });
    assert.ok(q2.ok);
    assert.deepEqual([q2.query.base, q2.query.release, q2.query.name], ['Ubuntu', '22.04', 'openssl']);
    // waybill's own properties: source name and version (a binNMU binary keeps its source version).
    const q3 = packageQuery({
      ref: 'y',
      name: 'libc6',
      version: '2.36-9+deb12u4+b1',
      purl: 'pkg:deb/debian/libc6@2.36-9%2Bdeb12u4%2Bb1?arch=amd64&distro=debian-12',
      properties: new Map([
        ['waybill:source-package', ['glibc']],
        ['waybill:source-version', ['2.36-9+deb12u4']],
      ]),
      locations: [],
    });
    assert.ok(q3.ok);
    assert.deepEqual(
      [q3.query.base, q3.query.release, q3.query.name, q3.query.version],
      ['Debian', '12', 'glibc', '2.36-9+deb12u4'],
    );
  });

  test('npm components of a real SBOM (juice-shop, 837 components) against GitHub advisories, with dependency paths', async (t) => {
    if (!haveShared(JUICE, GHSA_SAMPLE)) return t.skip('../shared/fixtures not present');
    const store = AdvisoryStore.open(join(tmp, 'ghsa.db'), { create: true });
    try {
      await store.import([await readImportSource(GHSA_SAMPLE)]);
      const target = await loadTarget(JUICE);
      const report = await auditInventory(target.inventory, store, {
        subject: target.subject,
        now: new Date('2026-01-01T00:00:00Z'),
      });
      // Hand-checked from the advisories: braces < 3.0.3; lodash < 4.17.21; minimist < 0.2.4 or
      // 1.0.0 <= v < 1.2.6; semver in three disjoint ranges, each with its own fix (5.7.2, 6.3.1, 7.5.2).
      // lodash 4.17.21 and minimist 1.2.8, also in the SBOM, are at or past their fixes.
      assert.deepEqual(
        report.findings.map((f) => [f.id, f.component.purl, f.fixed, f.severity.rating]),
        [
          ['GHSA-grv7-fg5c-xmjg', 'pkg:npm/braces@2.3.2', ['3.0.3'], 'high'],
          ['GHSA-grv7-fg5c-xmjg', 'pkg:npm/braces@3.0.2', ['3.0.3'], 'high'],
          ['GHSA-35jh-r3h4-6jhm', 'pkg:npm/lodash@2.4.2', ['4.17.21'], 'high'],
          ['GHSA-xvch-5gv4-984h', 'pkg:npm/minimist@0.2.3', ['0.2.4'], 'critical'],
          ['GHSA-c2qf-rxjj-qqgw', 'pkg:npm/semver@5.7.1', ['5.7.2'], 'medium'],
          ['GHSA-c2qf-rxjj-qqgw', 'pkg:npm/semver@6.3.0', ['6.3.1'], 'medium'],
          ['GHSA-c2qf-rxjj-qqgw', 'pkg:npm/semver@7.3.8', ['7.5.2'], 'medium'],
        ],
      );
      assert.ok(
        report.findings.some((f) => (f.locations[0]?.dependencyPath?.length ?? 0) > 3),
        'transitive paths',
      );
      for (const f of report.findings) {
        assert.ok(f.aliases.some((a) => a.startsWith('CVE-')));
        const path = f.locations[0]?.dependencyPath ?? [];
        assert.equal(path[0], 'juice-shop@14.1.1');
        assert.equal(path.at(-1), `${f.component.name}@${f.component.version}`);
        assert.ok(path.length >= 2);
      }
    } finally {
      store.close();
    }
  });

  test("the SBOM's subject is a component when it has a purl, once, with its properties", () => {
    const subject = {
      type: 'library',
      name: 'libuuid1',
      version: '2.38.1-5+deb12u3',
      'bom-ref': 'waybill:artifact:sha256:aa',
      purl: 'pkg:deb/debian/libuuid1@2.38.1-5%2Bdeb12u3?arch=amd64',
      properties: [{ name: 'waybill:source-package', value: 'util-linux' }],
    };
    const cdx = (components: unknown[]) =>
      JSON.stringify({
        bomFormat: 'CycloneDX',
        specVersion: '1.6',
        version: 1,
        metadata: { component: subject },
        components,
      });
    const alone = readInventory(cdx([]), 'alone.cdx.json');
    assert.equal(alone.subject?.purl, subject.purl);
    assert.equal(alone.components.length, 1);
    const own = alone.components[0];
    assert.deepEqual(
      [
        own?.ref,
        own?.name,
        own?.version,
        own?.purl,
        own?.isSubject,
        own?.properties.get('waybill:source-package'),
      ],
      [subject['bom-ref'], 'libuuid1', '2.38.1-5+deb12u3', subject.purl, true, ['util-linux']],
    );
    assert.deepEqual(dependencyPaths(alone)(subject['bom-ref']), ['libuuid1@2.38.1-5+deb12u3']);
    // Listed among the components too (other tools do): not counted twice.
    const listed = readInventory(
      cdx([{ type: 'library', name: 'libuuid1', version: '2.38.1-5+deb12u3', purl: subject.purl }]),
      'listed.cdx.json',
    );
    assert.equal(listed.components.length, 1);
    assert.equal(listed.components[0]?.isSubject, undefined);
    // No purl (an image, a tarball): nothing to look up, not a component.
    const { purl: _purl, ...image } = subject;
    const noPurl = readInventory(
      JSON.stringify({
        bomFormat: 'CycloneDX',
        specVersion: '1.6',
        version: 1,
        metadata: { component: image },
      }),
      'image.cdx.json',
    );
    assert.equal(noPurl.components.length, 0);

    // SPDX: the package the document describes, its waybill properties from its comment (sbom/spdx.ts).
    const pkg = (id: string, name: string, purl: string, comment?: string) => ({
      SPDXID: id,
      name,
      versionInfo: '1.0-1',
      downloadLocation: 'NOASSERTION',
      externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: purl }],
      ...(comment ? { comment } : {}),
    });
    const spdx = readInventory(
      JSON.stringify({
        spdxVersion: 'SPDX-2.3',
        dataLicense: 'CC0-1.0',
        SPDXID: 'SPDXRef-DOCUMENT',
        name: 'x',
        documentNamespace: 'https://example.org/x',
        creationInfo: { created: '2026-01-01T00:00:00Z', creators: ['Tool: t'] },
        documentDescribes: ['SPDXRef-Artifact'],
        packages: [
          pkg(
            'SPDXRef-Artifact',
            'libfoo1',
            'pkg:deb/debian/libfoo1@1.0-1',
            'waybill:artifact:kind=file\nwaybill:source-package=foo\nnot a property',
          ),
          pkg('SPDXRef-Package-a', 'bar', 'pkg:pypi/bar@1.0', 'waybill:found-in=x'),
        ],
      }),
      'doc.spdx.json',
    );
    assert.deepEqual(
      spdx.components.map((c) => [c.ref, c.purl, c.isSubject ?? false, [...c.properties.keys()]]),
      [
        ['SPDXRef-Package-a', 'pkg:pypi/bar@1.0', false, ['waybill:found-in']],
        [
          'SPDXRef-Artifact',
          'pkg:deb/debian/libfoo1@1.0-1',
          true,
          ['waybill:artifact:kind', 'waybill:source-package'],
        ],
      ],
    );
  });
});
