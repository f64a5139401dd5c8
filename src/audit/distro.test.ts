/**
 * OS packages: the real (ecosystem, source package, version) rows osv-scanner recorded from Debian,
 * Ubuntu and Alpine images, and the real Debian / Alpine / Ubuntu advisories of the shared fixtures.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeTmp, removeTmp } from '../../test/helpers/exec-fixtures.ts';
import { auditInventory } from './audit.ts';
import { parseEcosystem, suffixCovers } from './ecosystem.ts';
import { readImportSource } from './import-sources.ts';
import type { Inventory, InventoryComponent } from './inventory.ts';
import { packageQuery } from './package-query.ts';
import { AdvisoryStore } from './store.ts';
import { DISTRO, haveShared, readJson } from './test-support.ts';

interface Row {
  ecosystem: string;
  name: string;
  version: string;
  vuln_ids: string[];
}

/** A component as waybill's dpkg / apk catalogers write it for a row (source package as a property). */
function componentFor(row: Row, i: number): InventoryComponent {
  const { base, suffix } = parseEcosystem(row.ecosystem);
  const release = suffix.split(':')[0] as string;
  const [type, vendor, distro] =
    base === 'Alpine'
      ? ['apk', 'alpine', `alpine-${release.slice(1)}.0`]
      : ['deb', base.toLowerCase(), `${base.toLowerCase()}-${release}`];
  return {
    ref: `#${i}`,
    name: `${row.name}-bin`,
    version: row.version,
    purl: `pkg:${type}/${vendor}/${row.name}-bin@${encodeURIComponent(row.version)}?distro=${distro}`,
    properties: new Map([
      ['waybill:source-package', [row.name]],
      ['waybill:source-version', [row.version]],
    ]),
    locations: [],
  };
}

let tmp: string;
before(async () => {
  tmp = await makeTmp('waybill-distro-');
});
after(() => removeTmp(tmp));

describe('OS packages', () => {
  test('460 real image package rows: ecosystem, release and source package as the advisories spell them; every version parses', (t) => {
    const file = join(DISTRO, 'osv-scanner-cassette-querybatch-distro.json');
    if (!haveShared(file)) return t.skip('../shared/fixtures/osv not present');
    const rows = readJson(file) as unknown as Row[];
    assert.equal(rows.length, 460);
    rows.forEach((row, i) => {
      const q = packageQuery(componentFor(row, i));
      assert.ok(q.ok, `${row.ecosystem} ${row.name} ${row.version}: ${q.ok ? '' : q.reason}`);
      const { base, suffix } = parseEcosystem(row.ecosystem);
      assert.equal(q.query.base, base);
      assert.deepEqual(q.query.keys, [row.name]);
      assert.ok(
        suffixCovers(base, suffix, q.query.release),
        `${row.ecosystem} covers release ${q.query.release}`,
      );
      assert.ok(q.query.scheme.valid(row.version));
    });
  });

  test('Debian, Alpine and Ubuntu advisories match only their own release, through the source package', async (t) => {
    if (!haveShared(join(DISTRO, 'full'))) return t.skip('../shared/fixtures/osv not present');
    const store = AdvisoryStore.open(join(tmp, 'distro.db'), { create: true });
    try {
      await store.import([await readImportSource(join(DISTRO, 'full'))]);
      const rows: Row[] = [
        { ecosystem: 'Debian:7', name: 'nginx', version: '1.2.1-2.2+wheezy2', vuln_ids: ['DSA-3029-1'] },
        { ecosystem: 'Debian:7', name: 'nginx', version: '1.2.1-2.2+wheezy3', vuln_ids: [] },
        { ecosystem: 'Debian:8', name: 'nginx', version: '1.2.1-2.2+wheezy2', vuln_ids: [] },
        { ecosystem: 'Alpine:v3.13', name: 'mariadb', version: '10.5.15-r0', vuln_ids: ['CVE-2022-27449'] },
        { ecosystem: 'Alpine:v3.13', name: 'mariadb', version: '10.5.16-r0', vuln_ids: [] },
        { ecosystem: 'Alpine:v3.11', name: 'mariadb', version: '10.4.1-r0', vuln_ids: [] },
        { ecosystem: 'Ubuntu:14.04', name: 'linux', version: '3.13.0-24.46', vuln_ids: [] },
      ];
      for (const [i, row] of rows.entries()) {
        const inventory: Inventory = {
          format: 'cyclonedx-json',
          specVersion: '1.6',
          components: [componentFor(row, i)],
          edges: new Map(),
          roots: [],
        };
        const report = await auditInventory(inventory, store, {
          subject: { ref: 'x', sbom: { source: 'file', format: 'cyclonedx-json', specVersion: '1.6' } },
          now: new Date('2026-01-01T00:00:00Z'),
        });
        assert.deepEqual(
          report.findings.map((f) => f.id),
          row.vuln_ids,
          `${row.ecosystem} ${row.name} ${row.version}`,
        );
        if (row.name === 'nginx' && row.vuln_ids.length > 0) {
          assert.deepEqual(report.findings[0]?.fixed, ['1.2.1-2.2+wheezy3']);
          assert.deepEqual(report.findings[0]?.aliases, ['CVE-2014-3616']);
          assert.equal(report.findings[0]?.package, 'Debian:7/nginx');
        }
      }
    } finally {
      store.close();
    }
  });
});
