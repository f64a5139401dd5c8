/**
 * Real components against real advisories, checked against an independent reading of the same OSV
 * files written here: the Go binary's modules come from `go version -m` (the Go toolchain's own
 * reader) and are matched by a small SemVer evaluator below; Debian's Python packages are matched by
 * Python's own `packaging.version` in a separate script. Both walk the raw JSON, not the database.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hasTool, makeTmp, npmPackageFile, removeTmp } from '../../test/helpers/exec-fixtures.ts';
import { auditInventory, loadTarget } from './audit.ts';
import { readImportSource } from './import-sources.ts';
import { AdvisoryStore } from './store.ts';
import { GO_DB, haveShared, jsonFiles, PYPA_DB, readJson } from './test-support.ts';

let tmp: string;
let store: AdvisoryStore | undefined;
const NOW = new Date('2026-09-01T00:00:00Z');

before(async () => {
  tmp = await makeTmp('waybill-audit-real-');
  if (!haveShared(GO_DB, PYPA_DB)) return;
  store = AdvisoryStore.open(join(tmp, 'db.sqlite'), { create: true });
  await store.import([await readImportSource(GO_DB), await readImportSource(PYPA_DB)]);
});
after(async () => {
  store?.close();
  await removeTmp(tmp);
});

/** SemVer 2.0.0 §11 precedence, written out: the independent comparator for the Go evaluator. */
function semverCompare(a: string, b: string): number {
  const split = (v: string) => {
    const [core, pre] = v.split('+')[0]!.split(/-(.*)/s);
    return { nums: core!.split('.').map(Number), pre: pre === undefined ? [] : pre.split('.') };
  };
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < 3; i++) if (x.nums[i] !== y.nums[i]) return x.nums[i]! < y.nums[i]! ? -1 : 1;
  if (x.pre.length === 0 || y.pre.length === 0) return y.pre.length - x.pre.length;
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i];
    const q = y.pre[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    if (p === q) continue;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn) return Number(p) < Number(q) ? -1 : 1;
    if (pn !== qn) return pn ? -1 : 1;
    return p < q ? -1 : 1;
  }
  return 0;
}

/** Go's toolchain spelling → the Go database's: go1.19.9 → 1.19.9, go1.21rc2 → 1.21.0-rc.2. */
function goVersion(v: string): string {
  const m = /^go(\d+)\.(\d+)(?:\.(\d+))?(?:(rc|beta)(\d+))?$/.exec(v);
  if (m) return `${m[1]}.${m[2]}.${m[3] ?? '0'}${m[4] ? `-${m[4]}.${m[5]}` : ''}`;
  return v.replace(/^v/, '');
}

/** (module, advisory, fixed) for every module version inside a [introduced, fixed) interval. */
function expectedGoFindings(modules: Map<string, string>): string[] {
  const out: string[] = [];
  for (const file of jsonFiles(GO_DB)) {
    const r = readJson(file) as {
      id: string;
      withdrawn?: string;
      affected: Array<{
        package: { name: string };
        ranges?: Array<{ type: string; events: Array<Record<string, string>> }>;
      }>;
    };
    if (r.withdrawn) continue;
    for (const a of r.affected) {
      const version = modules.get(a.package.name);
      if (version === undefined) continue;
      for (const range of a.ranges ?? []) {
        // The Go database writes its events in order: introduced, fixed, introduced, fixed…
        let start: string | undefined;
        for (const e of range.events) {
          if ('introduced' in e) start = e.introduced;
          else if ('fixed' in e && start !== undefined) {
            if (
              (start === '0' || semverCompare(version, start) >= 0) &&
              semverCompare(version, e.fixed!) < 0
            ) {
              out.push(`${a.package.name} ${r.id} ${e.fixed}`);
            }
            start = undefined;
          }
        }
        if (start !== undefined && (start === '0' || semverCompare(version, start) >= 0))
          out.push(`${a.package.name} ${r.id} -`);
      }
    }
  }
  return [...new Set(out)].sort();
}

describe('audit with real data', () => {
  test('a Go binary from npm (lefthook 1.4.0) against the whole Go vulnerability database', async (t) => {
    if (!store) return t.skip('../shared/fixtures/osv not present');
    if (!(await hasTool('go'))) return t.skip('go not installed (the reference reader)');
    const binary = await npmPackageFile('lefthook-linux-x64@1.4.0', 'bin/lefthook');
    if (!binary) return t.skip('npm registry unreachable');
    const path = join(tmp, 'lefthook');
    await writeFile(path, binary, { mode: 0o755 });

    const listing = execFileSync('go', ['version', '-m', path], { encoding: 'utf8' });
    const modules = new Map<string, string>();
    const toolchain = /: (go\S+)/.exec(listing)?.[1] as string;
    modules.set('stdlib', goVersion(toolchain));
    for (const m of listing.matchAll(/^\t(?:dep|=>)\t(\S+)\t(v\S+)/gm))
      modules.set(m[1] as string, goVersion(m[2] as string));
    assert.ok(modules.size > 20, `${modules.size} modules`);
    const expected = expectedGoFindings(modules);
    assert.ok(expected.length > 30, `the old binary has known vulnerabilities: ${expected.length}`);

    const target = await loadTarget(path);
    const report = await auditInventory(target.inventory, store, { subject: target.subject, now: NOW });
    const actual = report.findings
      .flatMap((f) =>
        f.advisories.map((id) => `${f.package.replace(/^Go\//, '')} ${id} ${f.fixed[0] ?? '-'}`),
      )
      .sort();
    assert.deepEqual(actual, expected);
    // Aliases joined: the Go ids carry their CVE / GHSA aliases; nothing reported twice.
    assert.ok(
      report.findings.every((f) => f.aliases.some((a) => a.startsWith('CVE-') || a.startsWith('GHSA-'))),
    );
    const keys = report.findings.map((f) => `${f.component.purl} ${f.id}`);
    assert.equal(new Set(keys).size, keys.length);
    // Withdrawn advisories are absent.
    const withdrawn = new Set(
      jsonFiles(GO_DB)
        .map((f) => readJson(f))
        .filter((r) => r.withdrawn)
        .map((r) => String(r.id)),
    );
    assert.ok(report.findings.every((f) => f.advisories.every((id) => !withdrawn.has(id))));
  });

  test("Python packages installed by Debian against the PyPA database (Python's packaging as the reference)", async (t) => {
    if (!store) return t.skip('../shared/fixtures/osv not present');
    const site = '/usr/lib/python3/dist-packages';
    const probe = 'import packaging.version';
    try {
      execFileSync('python3', ['-c', probe], { stdio: 'ignore' });
    } catch {
      return t.skip('python3 with packaging not installed');
    }
    const target = await loadTarget(`dir:${site}`).catch(() => undefined);
    if (!target) return t.skip(`${site} not present`);
    const packages = target.inventory.components.filter((c) => c.purl?.startsWith('pkg:pypi/'));
    if (packages.length === 0) return t.skip(`no Python distributions in ${site}`);

    const script = `
import sys, json, os, re
from packaging.version import Version, InvalidVersion
pkgs, root = json.load(sys.stdin), sys.argv[1]
norm = lambda n: re.sub(r'[-_.]+', '-', n).lower()
want = {}
for n, v in pkgs:
    try: want.setdefault(norm(n), []).append(Version(v))
    except InvalidVersion: pass
hexy = re.compile(r'^(0|[0-9a-f]{40})$')
out = set()
for d, _, fs in os.walk(root):
    for f in fs:
        r = json.load(open(os.path.join(d, f)))
        if r.get('withdrawn'): continue
        if any(g['type'] == 'GIT' and not all(hexy.match(x) for e in g['events'] for x in e.values()) for a in r.get('affected', []) for g in a.get('ranges', [])): continue
        for a in r.get('affected', []):
            for v in want.get(norm(a['package']['name']), []):
                hit, fixed = False, '-'
                for g in a.get('ranges', []):
                    if g['type'] != 'ECOSYSTEM': continue
                    evs = sorted(g['events'], key=lambda e: Version('0') if e.get('introduced') == '0' else Version(list(e.values())[0]))
                    state, nxt = False, '-'
                    for i, e in enumerate(evs):
                        k, x = list(e.items())[0]
                        if k == 'introduced' and (x == '0' or v >= Version(x)): state, pos = True, i
                        elif k == 'fixed' and v >= Version(x): state = False
                        elif k == 'last_affected' and v > Version(x): state = False
                    if state:
                        hit = True
                        later = [list(e.values())[0] for e in evs[pos + 1:] if 'fixed' in e]
                        fixed = later[0] if later else '-'
                if not hit and any(Version(x) == v for x in a.get('versions', []) if not re.search(r'[^0-9a-zA-Z.+!_-]', x)): hit = True
                if hit: out.add('%s %s %s %s' % (norm(a['package']['name']), v, r['id'], fixed))
print(json.dumps(sorted(out)))
`;
    const input = JSON.stringify(packages.map((c) => [c.name, c.version]));
    const expected = JSON.parse(
      execFileSync('python3', ['-c', script, PYPA_DB], { input, encoding: 'utf8' }),
    ) as string[];
    const report = await auditInventory(target.inventory, store, { subject: target.subject, now: NOW });
    const norm = (n: string) => n.toLowerCase().replace(/[-_.]+/g, '-');
    const actual = report.findings
      .flatMap((f) =>
        f.advisories.map(
          (id) => `${norm(f.component.name)} ${f.component.version} ${id} ${f.fixed[0] ?? '-'}`,
        ),
      )
      .sort();
    assert.deepEqual(actual, expected);
    t.diagnostic(
      `${packages.length} Debian Python packages, ${expected.length} affected (package, advisory) pairs`,
    );
  });
});
