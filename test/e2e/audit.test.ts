/**
 * `waybill audit` and `waybill db` through the real CLI: a stamped tarball holding a real Go binary
 * (lefthook 1.4.0 from npm) published in a release directory, the real Go vulnerability database, and
 * the bad inputs of issue 11 — each one line on stderr and exit 2, the database never half updated.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  emptyReleaseIndex,
  serializeReleaseIndex,
  withIndexedArtifact,
} from '../../src/publish/release-index.ts';
import { checkStatement } from '../../src/record/intoto.ts';
import { waybill, waybillJson } from '../helpers/cli.ts';
import { makeTmp, npmPackageFile, removeTmp, run } from '../helpers/exec-fixtures.ts';

const OSV = fileURLToPath(new URL('../../../shared/fixtures/osv', import.meta.url));
const GO_DB = join(OSV, 'go-vulndb', 'osv');
const GHSA = join(OSV, 'github-advisory-database-sample');
const NOW = '2026-09-01T00:00:00Z';

let tmp: string;
let db: string;
let artifact: string | undefined;

interface Report {
  subject: { digest: string; name: string; version: string };
  database: { sources: Array<{ name: string; digest: string; advisories: number }> };
  freshness: { daysSinceBuilt?: number; newerRelease?: { newer: string[] } };
  summary: { findings: number; suppressed: number };
  findings: Array<{
    id: string;
    aliases: string[];
    severity: { rating: string };
    component: { name: string; version: string; purl: string };
    fixed: string[];
    locations: unknown[];
  }>;
  suppressed: Array<{ id: string; vex: { status: string } }>;
}

function oneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0] as string, pattern);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
}

before(async () => {
  tmp = await makeTmp('waybill-audit-e2e-');
  db = join(tmp, 'advisories.db');
  const binary = await npmPackageFile('lefthook-linux-x64@1.4.0', 'bin/lefthook');
  if (!binary) return;
  // A release directory: NAME/VERSION/FILE with NAME/index.json listing a newer release.
  const dir = join(tmp, 'releases', 'lefthook', '1.4.0');
  await mkdir(join(tmp, 'src', 'bin'), { recursive: true });
  await mkdir(dir, { recursive: true });
  await writeFile(join(tmp, 'src', 'bin', 'lefthook'), binary, { mode: 0o755 });
  artifact = join(dir, 'lefthook-1.4.0.tar');
  await run('tar', ['-C', join(tmp, 'src'), '-cf', artifact, 'bin']);
  // The index as `publishToReleaseDirectory` writes it (docs/publish-directory.md), by its own writer.
  let index = emptyReleaseIndex('lefthook');
  for (const [version, published] of [
    ['1.3.0', '2023-03-01T00:00:00Z'],
    ['1.4.0', '2023-05-02T00:00:00Z'],
    ['1.5.0', '2023-07-01T00:00:00Z'],
  ] as const) {
    const file = `lefthook-${version}.tar`;
    const digest = `sha256:${createHash('sha256').update(file).digest('hex')}`;
    index = withIndexedArtifact(index, version, { file, digest, size: 1, built: null, published, files: [] });
  }
  await writeFile(join(tmp, 'releases', 'lefthook', 'index.json'), serializeReleaseIndex(index));
  const stamped = await waybill([
    'stamp',
    artifact,
    '--name',
    'lefthook',
    '--version',
    '1.4.0',
    '--built',
    '2023-05-01T00:00:00Z',
    '--team',
    'Example Team',
    '--contact',
    'team@example.org',
    '--bug-tracker',
    'https://bugs.example.org',
    '--quiet',
  ]);
  assert.ok(stamped.code === 0 || stamped.code === 1, stamped.stderr);
});
after(() => removeTmp(tmp));

describe('waybill db', () => {
  test('import: counts per source, JSON output; status lists digests and newest modified', async (t) => {
    if (!existsSync(GO_DB)) return t.skip('../shared/fixtures/osv not present');
    const imported = await waybillJson<{
      sources: Array<{ advisories: number; added: number }>;
      skipped: unknown[];
    }>(['db', 'import', '--db', db, GO_DB, GHSA]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(imported.json.sources[0]?.advisories, 4291);
    assert.equal(imported.json.sources[1]?.advisories, 6);
    const status = await waybillJson<{ advisories: number; sources: Array<{ digest: string }> }>([
      'db',
      'status',
      '--db',
      db,
    ]);
    assert.equal(status.code, 0);
    assert.equal(status.json.advisories, 4297);
    for (const s of status.json.sources) assert.match(s.digest, /^sha256:[0-9a-f]{64}$/);
    const text = await waybill(['db', 'status', '--db', db]);
    assert.match(text.stdout, /advisories: 4297 \(17 withdrawn, kept out of results\)/);
  });

  test('a zip with ../ entries, a missing path, a corrupt database: one line, exit 2, database untouched', async (t) => {
    if (!existsSync(db)) return t.skip('no database (import test skipped)');
    const before = await readFile(db);
    const zip = join(tmp, 'dots.zip');
    await run('python3', [
      '-c',
      "import zipfile,sys\nz=zipfile.ZipFile(sys.argv[1],'w')\nz.writestr('../x.json','{}')\nz.close()",
      zip,
    ]);
    const dots = await waybill(['db', 'import', '--db', db, GHSA, zip]);
    assert.equal(dots.code, 2);
    oneLine(dots.stderr, /dots\.zip: zip entry name escapes the archive root/);
    const missing = await waybill(['db', 'import', '--db', db, join(tmp, 'nope')]);
    assert.equal(missing.code, 2);
    oneLine(missing.stderr, /nope: no such file or directory/);
    assert.deepEqual(await readFile(db), before);
    const corrupt = join(tmp, 'corrupt.db');
    await writeFile(corrupt, 'definitely not SQLite');
    const status = await waybill(['db', 'status', '--db', corrupt]);
    assert.equal(status.code, 2);
    oneLine(status.stderr, /corrupt\.db: not an advisory database/);
    const audit = await waybill(['audit', '--db', corrupt, GHSA]);
    assert.equal(audit.code, 2);
  });
});

describe('waybill audit', () => {
  test('findings, freshness and the database snapshot; --fail-on decides the exit code', async (t) => {
    if (!artifact || !existsSync(db)) return t.skip('npm registry or ../shared/fixtures unavailable');
    const r = await waybillJson<Report>(['audit', artifact, '--db', db, '--now', NOW]);
    assert.equal(r.code, 0, r.stderr);
    const report = r.json;
    assert.equal(report.subject.name, 'lefthook');
    assert.equal(
      report.subject.digest,
      `sha256:${createHash('sha256')
        .update(await readFile(artifact))
        .digest('hex')}`,
    );
    assert.ok(report.summary.findings > 30);
    const stdlib = report.findings.find((f) => f.id === 'GO-2023-1840');
    assert.deepEqual(
      stdlib && { v: stdlib.component.version, fixed: stdlib.fixed, aliases: stdlib.aliases },
      { v: '1.19.9', fixed: ['1.19.10'], aliases: ['CVE-2023-29403'] },
    );
    assert.equal(report.freshness.daysSinceBuilt, 1219);
    assert.deepEqual(report.freshness.newerRelease?.newer, ['1.5.0']);
    assert.equal(report.database.sources.length, 2);
    // Same input, same bytes.
    const again = await waybill(['audit', artifact, '--db', db, '--now', NOW, '--format', 'json']);
    assert.equal(again.stdout, JSON.stringify(report, null, 2) + '\n');
    // Go advisories carry no severity: unknown counts as low for --fail-on.
    assert.equal(
      (await waybill(['audit', artifact, '--db', db, '--fail-on', 'low', '--format', 'json'])).code,
      1,
    );
    assert.equal(
      (await waybill(['audit', artifact, '--db', db, '--fail-on', 'critical', '--format', 'json'])).code,
      0,
    );
    const text = await waybill(['audit', artifact, '--db', db, '--now', NOW]);
    assert.match(text.stdout, /releases: {3}1 newer \(latest 1\.5\.0\)/);
    assert.match(text.stdout, /GO-2023-1840 +stdlib 1\.19\.9 +fixed in 1\.19\.10/);
  });

  test('SARIF and OpenVEX output; OpenVEX input suppresses and says so; VEX for another product is refused', async (t) => {
    if (!artifact || !existsSync(db)) return t.skip('npm registry or ../shared/fixtures unavailable');
    const sarif = await waybill(['audit', artifact, '--db', db, '--format', 'sarif']);
    const run0 = (
      JSON.parse(sarif.stdout) as {
        runs: Array<{ results: unknown[]; tool: { driver: { rules: unknown[] } } }>;
      }
    ).runs[0];
    const base = (await waybillJson<Report>(['audit', artifact, '--db', db, '--now', NOW])).json;
    assert.equal(run0?.results.length, base.findings.length);
    const openvex = JSON.parse(
      (await waybill(['audit', artifact, '--db', db, '--now', NOW, '--format', 'openvex'])).stdout,
    ) as { '@context': string; statements: Array<{ status: string }> };
    assert.equal(openvex['@context'], 'https://openvex.dev/ns/v0.2.0');
    assert.equal(openvex.statements.length, base.findings.length);

    const vex = join(tmp, 'triage.vex.json');
    await writeFile(
      vex,
      JSON.stringify({
        '@context': 'https://openvex.dev/ns/v0.2.0',
        '@id': 'https://example.org/vex/1',
        author: 'Example Team',
        timestamp: NOW,
        version: 1,
        statements: [
          {
            vulnerability: { name: 'CVE-2023-29403' },
            products: [
              { '@id': base.subject.digest, subcomponents: [{ '@id': 'pkg:golang/stdlib@1.19.9' }] },
            ],
            status: 'not_affected',
            justification: 'vulnerable_code_not_in_execute_path',
          },
        ],
      }),
    );
    const triaged = await waybillJson<Report>(['audit', artifact, '--db', db, '--now', NOW, '--vex', vex]);
    assert.equal(triaged.json.summary.suppressed, 1);
    assert.equal(triaged.json.summary.findings, base.summary.findings - 1);
    assert.deepEqual(
      triaged.json.suppressed.map((s) => [s.id, s.vex.status]),
      [['GO-2023-1840', 'not_affected']],
    );
    assert.match(triaged.stderr, /GO-2023-1840 on pkg:golang\/stdlib@1\.19\.9 suppressed: not_affected/);

    const other = join(tmp, 'other.vex.json');
    await writeFile(
      other,
      JSON.stringify({
        '@context': 'https://openvex.dev/ns/v0.2.0',
        statements: [
          {
            vulnerability: 'CVE-2023-29403',
            products: ['pkg:oci/someone-else@sha256%3A00'],
            status: 'fixed',
          },
        ],
      }),
    );
    const refused = await waybill(['audit', artifact, '--db', db, '--vex', other]);
    assert.equal(refused.code, 2);
    oneLine(refused.stderr, /other\.vex\.json: no statement is about lefthook/);
  });

  test('--attach writes an in-toto statement with the vulnerability predicate next to the artifact', async (t) => {
    if (!artifact || !existsSync(db)) return t.skip('npm registry or ../shared/fixtures unavailable');
    const r = await waybill(['audit', artifact, '--db', db, '--attach', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const statement = JSON.parse(await readFile(`${artifact}.audit.json`, 'utf8')) as {
      predicateType: string;
      subject: Array<{ digest: { sha256: string } }>;
      predicate: { scanner: { result: { database: { sources: unknown[] } } } };
    };
    assert.equal(checkStatement(statement), undefined);
    assert.equal(statement.predicateType, 'https://cosign.sigstore.dev/attestation/vuln/v1');
    assert.equal(`sha256:${statement.subject[0]?.digest.sha256}`, JSON.parse(r.stdout).subject.digest);
    assert.equal(statement.predicate.scanner.result.database.sources.length, 2);
  });

  test('--attach --key signs the statement: NAME.audit.sigstore.json that verify judges with the key', async (t) => {
    if (!artifact || !existsSync(db)) return t.skip('npm registry or ../shared/fixtures unavailable');
    const key = join(tmp, 'audit-signing');
    assert.equal((await waybill(['keygen', '--out', key])).code, 0);
    const r = await waybill([
      'audit',
      artifact,
      '--db',
      db,
      '--attach',
      '--key',
      `${key}.key`,
      '--format',
      'json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /audit attached: \S+\.audit\.sigstore\.json/);
    const bundle = JSON.parse(await readFile(`${artifact}.audit.sigstore.json`, 'utf8')) as {
      mediaType: string;
      dsseEnvelope: { payload: string };
    };
    assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
    assert.equal(checkStatement(statement), undefined);
    assert.equal(statement.predicateType, 'https://cosign.sigstore.dev/attestation/vuln/v1');
    const verified = await waybillJson<{
      statements: Array<{ kind: string; predicateType?: string; passed: boolean; reason?: string }>;
    }>(['verify', artifact, '--key', `${key}.pub`, '--allow-unsigned']);
    const audit = verified.json.statements.find(
      (s) => s.predicateType === 'https://cosign.sigstore.dev/attestation/vuln/v1',
    );
    assert.equal(audit?.passed, true, JSON.stringify(verified.json.statements, null, 1));
    const other = join(tmp, 'audit-other');
    assert.equal((await waybill(['keygen', '--out', other])).code, 0);
    const wrong = await waybillJson<{ statements: Array<{ predicateType?: string; passed: boolean }> }>([
      'verify',
      artifact,
      '--key',
      `${other}.pub`,
      '--allow-unsigned',
    ]);
    assert.equal(wrong.code, 1);
    const noAttach = await waybill(['audit', artifact, '--db', db, '--key', `${key}.key`]);
    assert.equal(noAttach.code, 2);
    oneLine(noAttach.stderr, /--key: signs the attached statement: give --attach too/);
  });

  test('bad input: not an SBOM, a missing database, a bad --fail-on: one line, exit 2', async (t) => {
    if (!existsSync(db)) return t.skip('no database');
    const notSbom = join(tmp, 'package.json');
    await writeFile(notSbom, JSON.stringify({ name: 'x', version: '1.0.0' }));
    const a = await waybill(['audit', notSbom, '--db', db]);
    assert.equal(a.code, 2);
    oneLine(a.stderr, /package\.json: neither a CycloneDX nor an SPDX JSON document/);
    const b = await waybill(['audit', notSbom, '--db', join(tmp, 'none.db')]);
    assert.equal(b.code, 2);
    oneLine(b.stderr, /none\.db: no advisory database here/);
    const c = await waybill(['audit', notSbom, '--db', db, '--fail-on', 'severe']);
    assert.equal(c.code, 2);
    oneLine(c.stderr, /--fail-on: expected one of low, medium, high, critical/);
  });
});
