/**
 * A first release as a new user makes it, through the real CLI: a third-party .deb from the Debian
 * archive, `waybill init` in a fresh git repository, commit, a real signed tag, `stamp` with only
 * team, URLs and trust given, `check`. Then what goes wrong on the way — tagging before committing
 * waybill.yaml, an SBOM about another package — and reading back what was stored, also after an
 * image copy that left its attachments behind.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildOciLayout } from '../../src/sources/testing.ts';
import { buildPackages, downloadDebianPackage, reference } from '../fixtures/build-packages.ts';
import { waybill, waybillJson } from '../helpers/cli.ts';
import { hasTool } from '../helpers/exec-fixtures.ts';
import {
  git,
  makeRepo,
  makeSshSigner,
  makeTmp,
  removeTmp,
  type SshSigner,
  signedTag,
} from '../helpers/git-fixtures.ts';
import { hasSkopeo, pushLayout, skopeo, startRegistry } from '../helpers/registry.ts';

interface Report {
  passed: boolean;
  rules: Array<{
    id: string;
    status: string;
    findings: Array<{ message: string; fix?: string; severity: string }>;
  }>;
}

let tmp: string;
let signer: SshSigner;
let thirdParty: string | undefined;
let skipReason = '';

before(async () => {
  tmp = await makeTmp('waybill-first-release-');
  signer = await makeSshSigner(tmp);
  const got = await downloadDebianPackage('hello');
  if ('path' in got) thirdParty = got.path;
  else skipReason = got.skip;
});

after(async () => {
  if (tmp) await removeTmp(tmp);
});

/** Only what the issue allows a user to give: team, URLs and trust. */
function teamUrlsTrust(): string[] {
  return [
    '--team',
    'Acme Release Team',
    '--contact',
    'release@acme.example',
    '--bug-tracker',
    'https://bugs.acme.example/hello',
    '--docs-url',
    'https://docs.acme.example/hello',
    '--allowed-signers',
    signer.allowedSignersFile,
    '--quiet',
  ];
}

function rule(report: Report, id: string) {
  const found = report.rules.find((r) => r.id === id);
  assert.ok(found, id);
  return found;
}

/** The support rule's note that the package declares another license than the record's. */
const LICENSE_NOTE =
  /^the package declares its own license (.+), but the record says (.+) \(license in waybill\.yaml\)$/;

/**
 * The release passes: every rule passes, but for the one warning a re-released third-party package
 * gets (its own license is not waybill.yaml's) — `declared`, when given, is that license.
 */
function assertReleaseReady(report: Report, declared?: string): void {
  assert.equal(report.rules.length, 7);
  for (const r of report.rules) {
    if (r.id === 'support' && declared !== undefined) {
      assert.equal(r.status, 'warn', JSON.stringify(r.findings, null, 2));
      const warnings = r.findings.filter((f) => f.severity !== 'info');
      assert.equal(warnings.length, 1, JSON.stringify(r.findings, null, 2));
      assert.equal(warnings[0]!.severity, 'warning');
      assert.deepEqual(LICENSE_NOTE.exec(warnings[0]!.message)?.slice(1), [declared, 'Apache-2.0']);
      continue;
    }
    assert.equal(r.status, 'pass', `${r.id}: ${JSON.stringify(r.findings, null, 2)}`);
  }
  assert.equal(report.passed, true);
}

/** `waybill init`, then waybill.yaml committed, as the init output says. */
async function initCommitted(repo: string): Promise<void> {
  const init = await waybill(['init'], { cwd: repo });
  assert.equal(init.code, 0, init.stderr);
  await git(repo, ['add', 'waybill.yaml']);
  await git(repo, ['commit', '-q', '-m', 'Add waybill.yaml']);
}

/** A fresh project: one commit, an origin, the downloaded package copied in (untracked, as a build output). */
async function project(name: string): Promise<{ repo: string; deb: string }> {
  const repo = await makeRepo(
    tmp,
    { 'README.md': 'hello, re-released\n' },
    {
      name,
      origin: 'https://git.acme.example/hello.git',
    },
  );
  const deb = join(repo, thirdParty!.split('/').at(-1)!);
  copyFileSync(thirdParty!, deb);
  return { repo, deb };
}

describe('a first release of a third-party .deb', () => {
  test('init → commit → signed tag → stamp → check passes, editing nothing but team, URLs and trust', async (t) => {
    if (!thirdParty) return t.skip(skipReason);
    const { repo, deb } = await project('first');
    const upstream = await reference('dpkg-deb', ['-f', deb, 'Package', 'Version', 'Maintainer', 'Homepage']);

    const init = await waybill(['init'], { cwd: repo });
    assert.equal(init.code, 0, init.stderr);
    // It says what to commit, and that the tag comes after.
    assert.match(init.stdout, /commit it: git add waybill\.yaml && git commit/);
    assert.match(init.stdout, /then tag that commit with a signed tag/);
    assert.doesNotMatch(readFileSync(join(repo, 'waybill.yaml'), 'utf8'), /^name:/m, 'no placeholder name');

    await git(repo, ['add', 'waybill.yaml']);
    await git(repo, ['commit', '-q', '-m', 'Add waybill.yaml']);
    await signedTag(repo, 'v2.10-3', signer);

    const stamped = await waybillJson<{ check: Report; nativeFields: string[] }>(
      ['stamp', deb, ...teamUrlsTrust()],
      { cwd: repo },
    );
    assert.equal(stamped.code, 0, stamped.stderr);
    // hello is GNU's, under the GPL (its DEP-5 copyright file): the record's default license is
    // not claimed silently, and the release still passes.
    assertReleaseReady(stamped.json.check, 'GPL-3.0-or-later');
    // A consumer's check: the tag is re-verified from the record with the consumer's trust.
    const checked = await waybillJson<Report>(['check', deb, '--allowed-signers', signer.allowedSignersFile]);
    assert.equal(checked.code, 0, JSON.stringify(checked.json, null, 2));
    assertReleaseReady(checked.json, 'GPL-3.0-or-later');

    // The package names itself; nobody had to tell waybill its name or version.
    const record = JSON.parse(readFileSync(`${deb}.waybill.json`, 'utf8'));
    const own = Object.fromEntries(
      upstream
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
    );
    assert.equal(record.predicate.identity.name, own.Package);
    assert.equal(record.predicate.identity.version, own.Version);
    // The upstream trail: kept in the package, as derivatives do, and in the record.
    assert.equal((await reference('dpkg-deb', ['-f', deb, 'Original-Maintainer'])).trim(), own.Maintainer);
    assert.equal((await reference('dpkg-deb', ['-f', deb, 'Original-Homepage'])).trim(), own.Homepage);
    assert.equal(
      (await reference('dpkg-deb', ['-f', deb, 'Maintainer'])).trim(),
      'Acme Release Team <release@acme.example>',
    );
    assert.deepEqual(record.predicate.upstream, [
      { field: 'deb Homepage', value: own.Homepage },
      { field: 'deb Maintainer', value: own.Maintainer },
    ]);
    // Built when Debian built it (the newest file of its data member), not when it was tagged.
    const files = await reference('sh', ['-c', `dpkg-deb --fsys-tarfile "${deb}" | tar tv --full-time`]);
    const newest = files
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/).slice(3, 5).join('T'))
      .sort()
      .at(-1);
    assert.equal(record.predicate.dates.built, `${newest}Z`);
    assert.notEqual(record.predicate.dates.built.slice(0, 10), '2024-01-02', 'not the commit date');

    // Stamping again from the same checkout: the package, its sidecars and the lock beside it are
    // outputs, not uncommitted changes.
    const again = await waybillJson<{ check: Report }>(['stamp', deb, ...teamUrlsTrust()], { cwd: repo });
    assert.equal(again.code, 0, again.stderr);
    assertReleaseReady(again.json.check, 'GPL-3.0-or-later');
  });

  test('tagging before committing waybill.yaml: the finding says to commit it, then tag', async (t) => {
    if (!thirdParty) return t.skip(skipReason);
    const { repo, deb } = await project('tag-first');
    assert.equal((await waybill(['init'], { cwd: repo })).code, 0);
    await signedTag(repo, 'v2.10-3', signer);
    const dirty = await waybillJson<{ check: Report }>(['stamp', deb, ...teamUrlsTrust()], { cwd: repo });
    assert.equal(dirty.code, 0, dirty.stderr);
    const source = rule(dirty.json.check, 'signed-source');
    assert.equal(source.status, 'fail');
    const finding = source.findings.find((f) => f.severity === 'error');
    assert.match(finding?.message ?? '', /worktree has uncommitted changes: waybill\.yaml \(untracked\)$/);
    assert.match(
      finding?.fix ?? '',
      /^the only uncommitted file is waybill\.yaml: commit it .*then tag that commit .*the tag must come after the commit$/,
    );

    // Committing after the tag leaves HEAD past it: the fix says to tag after the last commit.
    await git(repo, ['add', 'waybill.yaml']);
    await git(repo, ['commit', '-q', '-m', 'Add waybill.yaml']);
    const untagged = await waybillJson<{ check: Report }>(['stamp', deb, ...teamUrlsTrust()], { cwd: repo });
    const late = rule(untagged.json.check, 'signed-source').findings.find((f) =>
      /is not at a tag/.test(f.message),
    );
    assert.match(late?.message ?? '', /HEAD [0-9a-f]+ is not at a tag/);
    assert.match(late?.fix ?? '', /after the last commit, waybill\.yaml included/);

    await signedTag(repo, 'v2.10-3.1', signer);
    const fixed = await waybillJson<{ check: Report }>(['stamp', deb, ...teamUrlsTrust()], { cwd: repo });
    assertReleaseReady(fixed.json.check, 'GPL-3.0-or-later');
  });

  test('an untrusted signer: the fix names the flag and the key that exist', async (t) => {
    if (!thirdParty) return t.skip(skipReason);
    const { repo, deb } = await project('untrusted');
    await initCommitted(repo);
    await signedTag(repo, 'v1', signer);
    const other = await makeSshSigner(tmp, 'someone@else.example', 'other-signer');
    const flags = teamUrlsTrust();
    flags[flags.indexOf('--allowed-signers') + 1] = other.allowedSignersFile;
    const stamped = await waybillJson<{ check: Report }>(['stamp', deb, ...flags], { cwd: repo });
    const finding = rule(stamped.json.check, 'signed-source').findings.find((f) => f.severity === 'error');
    assert.match(finding?.fix ?? '', /--allowed-signers FILE \(or source\.allowedSigners in waybill\.yaml\)/);
  });
});

/** A third-party package as Debian ships jq: several licenses, in a machine-readable copyright file. */
const JQ_COPYRIGHT = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: jq
Source: https://github.com/stedolan/jq

Files: *
Copyright: 2012 Stephen Dolan <mu@netsoc.tcd.ie>
License: MIT

Files: docs/*
Copyright: 2012 Stephen Dolan <mu@netsoc.tcd.ie>
License: CC-BY-3.0

Files: src/jv_dtoa.c
Copyright: 1991, 2000, 2001 by Lucent Technologies.
License: Expat

Files: debian/*
Copyright: 2013 Simon Elsbrock <simon@iodev.org>
License: GPL-2.0+

License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a copy…
`;

/** Built by dpkg-deb, as jq_1.6-2.1+deb12u3_amd64.deb is, with its control fields and copyright. */
function buildJqLikeDeb(dir: string): string {
  const root = join(tmp, 'jq-root');
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  mkdirSync(join(root, 'usr/share/doc/jq'), { recursive: true });
  writeFileSync(
    join(root, 'DEBIAN/control'),
    'Package: jq\nVersion: 1.6-2.1+deb12u3\nArchitecture: amd64\nMaintainer: ChangZhuo Chen <czchen@debian.org>\nInstalled-Size: 111\nSection: utils\nPriority: optional\nHomepage: https://github.com/stedolan/jq\nDescription: lightweight and flexible command-line JSON processor\n jq is like sed for JSON data.\n',
  );
  writeFileSync(join(root, 'usr/bin/jq'), '#!/bin/sh\necho jq\n', { mode: 0o755 });
  writeFileSync(join(root, 'usr/share/doc/jq/copyright'), JQ_COPYRIGHT);
  const deb = join(dir, 'jq_1.6-2.1+deb12u3_amd64.deb');
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, deb], {
    env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' },
    stdio: 'ignore',
  });
  return deb;
}

describe('a third-party package under its own license', () => {
  test('stamp and check say the record claims another license, naming both and the key; the release passes', async (t) => {
    if (!(await hasTool('dpkg-deb'))) return t.skip('dpkg-deb is not installed');
    const repo = await makeRepo(tmp, { 'README.md': 'jq, re-released\n' }, { name: 'jq' });
    const deb = buildJqLikeDeb(repo);
    await initCommitted(repo);
    await signedTag(repo, 'v1.6', signer);
    const declared = 'CC-BY-3.0 AND GPL-2.0-or-later AND MIT';

    // Text: the report under the support rule, once (not again as a stamp warning).
    const flags = teamUrlsTrust().filter((f) => f !== '--quiet');
    const text = await waybill(['stamp', deb, ...flags], { cwd: repo });
    assert.equal(text.code, 0, text.stderr);
    const said = `the package declares its own license ${declared}, but the record says Apache-2.0 (license in waybill.yaml)`;
    assert.ok(text.stdout.includes(said), text.stdout);
    assert.ok(!text.stderr.includes('declares its own license'), text.stderr);

    // JSON: the same finding, a warning; the release passes.
    const stamped = await waybillJson<{ check: Report; warnings: Array<{ reason: string }> }>(
      ['stamp', deb, ...teamUrlsTrust()],
      { cwd: repo },
    );
    assert.equal(stamped.code, 0, stamped.stderr);
    assertReleaseReady(stamped.json.check, declared);
    assert.deepEqual(stamped.json.warnings, []);
    const checked = await waybillJson<Report>(['check', deb, '--allowed-signers', signer.allowedSignersFile]);
    assert.equal(checked.code, 0, JSON.stringify(checked.json, null, 2));
    assertReleaseReady(checked.json, declared);
    const note = rule(checked.json, 'support').findings.find((f) => f.severity === 'warning');
    assert.equal(
      note?.fix,
      `if the package is not yours to relicense, set license: "${declared}" in waybill.yaml (or pass --license), and allow its licenses in policy.allowedLicenses`,
    );

    // Following the fix: the package's own license in waybill.yaml and the policy; no warning left.
    const config = join(repo, 'waybill.yaml');
    writeFileSync(
      config,
      readFileSync(config, 'utf8')
        .replace(/^license: Apache-2\.0$/m, `license: "${declared}"`)
        .replace(
          /^ {4}- Apache-2\.0$/m,
          declared
            .split(' AND ')
            .map((id) => `    - ${id}`)
            .join('\n'),
        ),
    );
    await git(repo, ['commit', '-q', '-am', 'The license is the package’s own']);
    await signedTag(repo, 'v1.6-1', signer);
    const relicensed = await waybillJson<{ check: Report }>(['stamp', deb, ...teamUrlsTrust()], {
      cwd: repo,
    });
    assert.equal(relicensed.code, 0, relicensed.stderr);
    assertReleaseReady(relicensed.json.check);
  });
});

describe('a supplied SBOM must describe the artifact', () => {
  test('--sbom of another package is refused in one line; --force-sbom publishes it and says so', async (t) => {
    if (!thirdParty) return t.skip(skipReason);
    const { repo, deb } = await project('sbom');
    await initCommitted(repo);
    await signedTag(repo, 'v1', signer);
    // An SBOM of another package: the dpkg-deb fixture.
    const otherDeb = (await buildPackages({ skopeo: false })).deb.gzip;
    if (!otherDeb) return t.skip('dpkg-deb fixture not available');
    const otherSbom = join(tmp, 'other.cdx.json');
    assert.equal((await waybill(['sbom', otherDeb, '-o', otherSbom, '-q'])).code, 0);

    const before = readFileSync(deb);
    const refused = await waybill(['stamp', deb, '--sbom', otherSbom, ...teamUrlsTrust()], { cwd: repo });
    assert.equal(refused.code, 2);
    const lines = refused.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('policy:'));
    assert.equal(lines.length, 1, refused.stderr);
    assert.match(
      lines[0]!,
      /other\.cdx\.json: the SBOM describes waybill-demo 1:1\.2\.3-1 \(sha256:[0-9a-f]{12}…\), metadata\.component, not this artifact, hello \S+ \(sha256:[0-9a-f]{12}…\): other bytes \(digest\); give this artifact's SBOM, or pass --force-sbom/,
    );
    assert.ok(readFileSync(deb).equals(before), 'nothing written');

    // Its own SBOM is taken as it is.
    const ownSbom = join(tmp, 'own.cdx.json');
    assert.equal((await waybill(['sbom', deb, '-o', ownSbom, '-q'])).code, 0);
    const taken = await waybillJson<{ check: Report }>(
      ['stamp', deb, '--sbom', ownSbom, ...teamUrlsTrust()],
      { cwd: repo },
    );
    assert.equal(taken.code, 0, taken.stderr);

    const forced = await waybillJson<{ check: Report }>(
      ['stamp', deb, '--sbom', otherSbom, '--force-sbom', ...teamUrlsTrust()],
      { cwd: repo },
    );
    assert.equal(forced.code, 0, forced.stderr);
    const record = JSON.parse(readFileSync(`${deb}.waybill.json`, 'utf8'));
    assert.match(record.predicate.manifest.forced.reason, /^the SBOM describes waybill-demo/);
    const checked = await waybillJson<Report>(['check', deb]);
    const manifest = rule(checked.json, 'manifest');
    assert.equal(manifest.status, 'warn');
    assert.ok(manifest.findings.some((f) => /published with --force-sbom/.test(f.message)));
  });
});

describe('stored statements can be read and carried', () => {
  test('OCI layout: sbom --stored and inspect --record print the attachments; a skopeo copy leaves them behind', async (t) => {
    const repo = await makeRepo(
      tmp,
      { 'build.sh': 'true\n' },
      { name: 'oci', origin: 'https://git.acme.example/img.git' },
    );
    await signedTag(repo, 'v1.2.3', signer);
    const layout = join(tmp, 'layout');
    await buildOciLayout(layout, [{ 'etc/os-release': readFileSync('/etc/os-release') }], {
      tag: 'ghcr.io/acme/hello:1.2.3',
    });
    const ref = `oci:${layout}:ghcr.io/acme/hello:1.2.3`;
    const stamped = await waybillJson<{ check: Report }>([
      'stamp',
      ref,
      '--source',
      repo,
      ...teamUrlsTrust(),
    ]);
    assert.equal(stamped.code, 0, stamped.stderr);
    // Named by its reference: nobody passed --name or --version.
    const recordOut = await waybill(['inspect', '--record', ref]);
    assert.equal(recordOut.code, 0, recordOut.stderr);
    const record = JSON.parse(recordOut.stdout);
    assert.deepEqual([record.predicate.identity.name, record.predicate.identity.version], ['hello', '1.2.3']);
    assert.equal(record.subject[0].name, 'ghcr.io/acme/hello');
    // The stored SBOM, byte for byte: its digest is the one the record pins.
    const sbomOut = await waybill(['sbom', '--stored', ref]);
    assert.equal(sbomOut.code, 0, sbomOut.stderr);
    assert.equal(
      createHash('sha256').update(sbomOut.stdout).digest('hex'),
      record.predicate.manifest.digest.sha256,
    );
    const refusedFormat = await waybill(['sbom', '--stored', '--format', 'spdx-json', ref]);
    assert.equal(refusedFormat.code, 2);
    assert.match(refusedFormat.stderr, /the SBOM stored with .* is cyclonedx-json, not spdx-json/);
    const view = await waybillJson<{ stored: Array<{ kind: string; location: string }> }>(['inspect', ref]);
    assert.deepEqual(
      view.json.stored.map((s) => s.kind),
      ['record', 'sbom'],
    );

    if (!(await hasTool('skopeo'))) return t.skip('skopeo is not installed');
    const copy = join(tmp, 'copied');
    execFileSync('skopeo', ['copy', '-q', ref, `oci:${copy}:ghcr.io/acme/hello:1.2.3`]);
    const copied = `oci:${copy}:ghcr.io/acme/hello:1.2.3`;
    const checked = await waybillJson<Report>(['check', copied]);
    assert.equal(checked.code, 1);
    const identity = rule(checked.json, 'identity').findings[0];
    assert.match(identity?.message ?? '', /no release record/);
    assert.match(
      identity?.fix ?? '',
      /its attachments were probably not copied \(skopeo copy copies the image only\); copy image and attachments with waybill copy SRC DST/,
    );
    const none = await waybill(['sbom', '--stored', copied]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no SBOM is stored with it/);
  });

  test('registry: inspect --record and sbom --stored read the referrers; an image pushed alone is told apart', async (t) => {
    const registry = await startRegistry();
    if ('skip' in registry) return t.skip(registry.skip);
    try {
      const repo = await makeRepo(
        tmp,
        { 'build.sh': 'true\n' },
        { name: 'reg', origin: 'https://git.acme.example/img.git' },
      );
      await signedTag(repo, 'v2.0.0', signer);
      const layout = join(tmp, 'reg-layout');
      await buildOciLayout(layout, [{ 'etc/os-release': readFileSync('/etc/os-release') }], {
        tag: 'latest',
      });
      const stamped = await waybill([
        'stamp',
        `oci:${layout}:latest`,
        '--source',
        repo,
        '--name',
        'hello',
        '--version',
        '2.0.0',
        ...teamUrlsTrust(),
      ]);
      assert.equal(stamped.code, 0, stamped.stderr);
      const withRecord = registry.ref('acme/hello:2.0.0');
      assert.equal((await pushLayout(layout, 'latest', withRecord, { insecure: true })).length, 2);
      const local = await waybill(['inspect', '--record', `oci:${layout}:latest`]);
      const remote = await waybill(['inspect', '--record', withRecord, '--insecure']);
      assert.equal(remote.code, 0, remote.stderr);
      assert.equal(remote.stdout, local.stdout, 'the same record bytes');
      const sbom = await waybill(['sbom', '--stored', withRecord, '--insecure']);
      assert.equal(
        createHash('sha256').update(sbom.stdout).digest('hex'),
        JSON.parse(local.stdout).predicate.manifest.digest.sha256,
      );
      if (!hasSkopeo()) return t.skip('skopeo is not installed');
      const alone = registry.ref('acme/copied:2.0.0');
      skopeo(['copy', '-q', '--dest-tls-verify=false', `oci:${layout}:latest`, alone]);
      const checked = await waybillJson<Report>(['check', alone, '--insecure']);
      assert.equal(checked.code, 1);
      assert.match(
        rule(checked.json, 'identity').findings[0]?.fix ?? '',
        /the registry has no record referring to it: its attachments were probably not pushed with it .*waybill copy SRC DST/,
      );
    } finally {
      await registry.stop();
    }
  });

  test('sidecars: sbom --stored and inspect --record print the files beside the artifact, as stored', async (t) => {
    if (!thirdParty) return t.skip(skipReason);
    const { repo, deb } = await project('sidecars');
    await initCommitted(repo);
    await signedTag(repo, 'v1', signer);
    assert.equal((await waybill(['stamp', deb, ...teamUrlsTrust()], { cwd: repo })).code, 0);
    const recordOut = await waybill(['inspect', '--record', deb]);
    assert.equal(recordOut.code, 0, recordOut.stderr);
    assert.equal(recordOut.stdout, readFileSync(`${deb}.waybill.json`, 'utf8'));
    const sbomOut = await waybill(['sbom', '--stored', deb]);
    assert.equal(sbomOut.stdout, readFileSync(`${deb}.cdx.json`, 'utf8'));
    const view = await waybillJson<{
      stored: Array<{ kind: string; location: string }>;
      upstream: unknown[];
    }>(['inspect', deb]);
    assert.deepEqual(
      view.json.stored.map((s) => s.location),
      [`${deb.split('/').at(-1)}.waybill.json`, `${deb.split('/').at(-1)}.cdx.json`],
    );
    assert.equal(view.json.upstream.length, 2);
    // A record saved with a byte order mark (an editor's doing) is the same record to every reader:
    // `inspect --record` refused what `inspect` and `check` read (found by fuzzing).
    const record = readFileSync(`${deb}.waybill.json`);
    writeFileSync(`${deb}.waybill.json`, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), record]));
    const withBom = await waybill(['inspect', '--record', deb]);
    assert.equal(withBom.code, 0, withBom.stderr);
    assert.equal((await waybill(['inspect', deb])).code, 0);
    // Not UTF-8: refused by both, naming the sidecar.
    writeFileSync(
      `${deb}.waybill.json`,
      Buffer.concat([record.subarray(0, 20), Buffer.from([0xff]), record.subarray(20)]),
    );
    for (const args of [
      ['inspect', '--record', deb],
      ['inspect', deb],
    ]) {
      const broken = await waybill(args);
      assert.equal(broken.code, 2, `${args.join(' ')}: ${broken.stderr}`);
      assert.match(broken.stderr, /^waybill: .*\.waybill\.json: is not valid UTF-8\n$/);
    }
  });
});
