import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { expectError } from '../../test/helpers/assertions.ts';
import { makeTmp, removeTmp, run } from '../../test/helpers/exec-fixtures.ts';
import { readImportSource } from './import-sources.ts';
import { AdvisoryStore } from './store.ts';
import { GHSA_SAMPLE, GO_DB, haveShared, jsonFiles, PYPA_DB, RUSTSEC_DB, readJson } from './test-support.ts';

let tmp: string;
before(async () => {
  tmp = await makeTmp('waybill-store-');
});
after(() => removeTmp(tmp));

/** Independent count: files, ids, withdrawn, and the ids whose GIT events are not commit hashes. */
function countDirectory(dir: string) {
  let records = 0;
  let withdrawn = 0;
  const badGit: string[] = [];
  for (const file of jsonFiles(dir)) {
    const r = readJson(file) as {
      id: string;
      withdrawn?: string;
      affected?: Array<{ ranges?: Array<{ type: string; events: Array<Record<string, string>> }> }>;
    };
    const bad = (r.affected ?? []).some((a) =>
      (a.ranges ?? []).some(
        (g) =>
          g.type === 'GIT' &&
          g.events.some((e) => Object.values(e).some((v) => !/^(0|[0-9a-f]{40})$/.test(v))),
      ),
    );
    if (bad) badGit.push(r.id);
    else {
      records++;
      if (r.withdrawn) withdrawn++;
    }
  }
  return { records, withdrawn, badGit: badGit.sort() };
}

async function zipOf(name: string, entries: Record<string, string>, python = ''): Promise<string> {
  const path = join(tmp, name);
  const script = `import sys, zipfile, json\nz = zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED)\nfor k, v in json.loads(sys.argv[2]).items(): z.writestr(k, v)\n${python}\nz.close()`;
  await run('python3', ['-c', script, path, JSON.stringify(entries)]);
  return path;
}

const RECORD = (id: string, modified: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id,
    modified,
    affected: [
      {
        package: { ecosystem: 'PyPI', name: 'Demo_Pkg' },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '2.0' }] }],
      },
    ],
    ...extra,
  });

describe('advisory store', () => {
  test('imports all Go, PyPI and crates.io advisories with exact counts; the 7 schema failures are reported by id', async (t) => {
    if (!haveShared(GO_DB, PYPA_DB, RUSTSEC_DB, GHSA_SAMPLE))
      return t.skip('../shared/fixtures/osv not present');
    const expected = [GO_DB, PYPA_DB, RUSTSEC_DB, GHSA_SAMPLE].map(countDirectory);
    const store = AdvisoryStore.open(join(tmp, 'all.db'), { create: true });
    try {
      const sources = [];
      for (const d of [GO_DB, PYPA_DB, RUSTSEC_DB, GHSA_SAMPLE]) sources.push(await readImportSource(d));
      const result = await store.import(sources);
      assert.deepEqual(
        result.sources.map((s) => s.advisories),
        expected.map((e) => e.records),
      );
      assert.deepEqual(result.skipped.map((s) => s.id).sort(), expected.flatMap((e) => e.badGit).sort());
      assert.equal(result.skipped.length, 7);
      for (const s of result.skipped) assert.match(s.reason, /GIT ranges need full commit hashes/);
      const status = store.status();
      const total = expected.reduce((n, e) => n + e.records, 0);
      assert.equal(status.advisories, total);
      assert.equal(
        status.withdrawn,
        expected.reduce((n, e) => n + e.withdrawn, 0),
      );
      assert.equal(status.ecosystems.Go, expected[0]?.records);
      for (const s of status.sources) assert.match(s.digest, /^sha256:[0-9a-f]{64}$/);
      // The newest `modified` per source, recomputed.
      const newest = jsonFiles(RUSTSEC_DB)
        .map((f) => String(readJson(f).modified))
        .sort()
        .at(-1);
      assert.equal(status.sources.find((s) => s.name === RUSTSEC_DB)?.newestModified, newest);

      // Incremental: the same data again changes nothing.
      const again = await store.import([await readImportSource(RUSTSEC_DB)]);
      assert.equal(again.sources[0]?.unchanged, expected[2]?.records);
      assert.equal(again.sources[0]?.added, 0);
      assert.equal(store.status().advisories, total);
    } finally {
      store.close();
    }
  });

  test('incremental by id and modified; withdrawn advisories never returned; aliases stored both ways', async () => {
    const dir = join(tmp, 'inc');
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'a.json'),
      RECORD('PYSEC-2024-1', '2024-01-01T00:00:00Z', { aliases: ['CVE-2024-1'] }),
    );
    await writeFile(
      join(dir, 'b.json'),
      RECORD('PYSEC-2024-2', '2024-01-01T00:00:00Z', { withdrawn: '2024-02-01T00:00:00Z' }),
    );
    const store = AdvisoryStore.open(join(tmp, 'inc.db'), { create: true });
    try {
      let r = await store.import([await readImportSource(dir)]);
      assert.deepEqual([r.sources[0]?.added, r.sources[0]?.updated], [2, 0]);
      assert.deepEqual(
        store.affectedFor('PyPI', 'demo-pkg').map((a) => a.advisoryId),
        ['PYSEC-2024-1'],
      );
      assert.deepEqual(store.aliasedBy('CVE-2024-1'), ['PYSEC-2024-1']);
      // An older copy does not replace a newer one; a newer one does.
      await writeFile(
        join(dir, 'a.json'),
        RECORD('PYSEC-2024-1', '2023-01-01T00:00:00Z', { summary: 'old' }),
      );
      r = await store.import([await readImportSource(dir)]);
      assert.equal(r.sources[0]?.unchanged, 2);
      await writeFile(
        join(dir, 'a.json'),
        RECORD('PYSEC-2024-1', '2024-06-01T00:00:00Z', { summary: 'new' }),
      );
      r = await store.import([await readImportSource(dir)]);
      assert.equal(r.sources[0]?.updated, 1);
      assert.equal(store.advisory('PYSEC-2024-1')?.summary, 'new');
      assert.deepEqual(store.aliasedBy('CVE-2024-1'), [], 'aliases follow the replaced record');
    } finally {
      store.close();
    }
  });

  test('a zip export imports; a zip with ../ entries or a bomb is refused and the database is untouched', async () => {
    const good = await zipOf('good.zip', {
      'PYSEC-2024-9.json': RECORD('PYSEC-2024-9', '2024-01-01T00:00:00Z'),
      'notes.txt': 'x',
    });
    const dots = await zipOf('dots.zip', {
      'ok.json': RECORD('PYSEC-2024-10', '2024-01-01T00:00:00Z'),
      '../evil.json': RECORD('PYSEC-2024-11', '2024-01-01T00:00:00Z'),
    });
    const bomb = await zipOf(
      'bomb.zip',
      { 'a.json': RECORD('PYSEC-2024-12', '2024-01-01T00:00:00Z') },
      "z.writestr('bomb.json', b'0' * (48 * 1024 * 1024))",
    );
    const path = join(tmp, 'zip.db');
    const store = AdvisoryStore.open(path, { create: true });
    try {
      const r = await store.import([await readImportSource(good)]);
      assert.equal(r.sources[0]?.advisories, 1);
      assert.equal(r.sources[0]?.kind, 'osv-zip');
      await expectError(readImportSource(dots), 'UNSAFE_PATH', /escapes the archive root/);
      const before = await readFile(path);
      // The bomb is found while importing: the transaction with the good zip's re-import is rolled back.
      await expectError(
        store.import([await readImportSource(good), await readImportSource(bomb)]),
        'LIMIT',
        /ratio/,
      );
      assert.deepEqual(await readFile(path), before, 'database bytes unchanged');
      assert.equal(store.status().advisories, 1);
      assert.equal(store.status().sources.length, 1);
    } finally {
      store.close();
    }
  });

  test('a corrupt or foreign database file is refused with one line, never modified', async () => {
    const garbage = join(tmp, 'garbage.db');
    await writeFile(
      garbage,
      'this is not sqlite at all, just text that is long enough to look like a header.....',
    );
    assert.throws(() => AdvisoryStore.open(garbage), /garbage\.db: not an advisory database/);
    const good = join(tmp, 'inc.db');
    const damaged = join(tmp, 'damaged.db');
    await copyFile(good, damaged);
    const bytes = await readFile(damaged);
    bytes.fill(0x41, 4096, Math.min(bytes.length, 4096 * 3));
    await writeFile(damaged, bytes);
    assert.throws(() => AdvisoryStore.open(damaged), /damaged\.db: (damaged|not an) advisory database/);
    assert.throws(() => AdvisoryStore.open(join(tmp, 'missing.db')), /no advisory database here/);
  });

  test('waybill data files: end-of-life rows and release dates; a bad one fails the import', async () => {
    const eol = join(tmp, 'eol.json');
    await writeFile(
      eol,
      JSON.stringify({
        kind: 'waybill.dev/eol/v1',
        releases: [{ distro: 'Debian', release: '14', codename: 'forky', eol: '2030-01-01' }],
      }),
    );
    const dates = join(tmp, 'dates.json');
    await writeFile(
      dates,
      JSON.stringify({
        kind: 'waybill.dev/release-dates/v1',
        packages: [
          { ecosystem: 'PyPI', name: 'Demo.Pkg', versions: { '1.0': '2020-01-01', '2.0': '2022-01-01' } },
        ],
      }),
    );
    const bad = join(tmp, 'bad-eol.json');
    await writeFile(
      bad,
      JSON.stringify({
        kind: 'waybill.dev/eol/v1',
        releases: [{ distro: 'debian', release: '15', eol: 'soon' }],
      }),
    );
    const store = AdvisoryStore.open(join(tmp, 'data.db'), { create: true });
    try {
      await store.import([await readImportSource(eol), await readImportSource(dates)]);
      assert.deepEqual(store.eolEntries(), [
        { distro: 'debian', release: '14', codename: 'forky', eol: '2030-01-01' },
      ]);
      assert.equal(store.releaseDates('PyPI', 'demo-pkg').get('2.0'), '2022-01-01');
      await expectError(store.import([await readImportSource(bad)]), 'MALFORMED', /not a date/);
      assert.equal(store.eolEntries().length, 1);
    } finally {
      store.close();
    }
  });
});
