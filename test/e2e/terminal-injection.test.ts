/**
 * Terminal injection, end to end through the real CLI: strings from a .deb's control file, a release
 * record, a repository, an OCI layout, a dpkg database, file names and waybill.yaml carry ESC / OSC
 * sequences, C1 controls, bidi overrides and embedded newlines. Whatever the command prints, stdout
 * and stderr hold no raw control character (only the layout's own newlines: colour is off in these
 * runs) and no line a value forged; JSON and SARIF parse and carry the values unchanged. `stamp`
 * refuses to write such values: one escaped line, exit 2, nothing written.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildRecord, serializeRecord } from '../../src/record/build.ts';
import { buildOciLayout, buildTar } from '../../src/sources/testing.ts';
import { sha256Digest } from '../../src/util/digest.ts';
import { apkToolsMissing, buildApk } from '../fixtures/build-apk.ts';
import { type CliResult, WAYBILL_BIN, waybill } from '../helpers/cli.ts';
import { git, makeRepo, makeSshSigner, signedTag } from '../helpers/git-fixtures.ts';

/** Raw bytes a terminal acts on or hides text with; `\n` is allowed (the layout's own). */
const RAW_CONTROL =
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff]|[\u{e0000}-\u{e007f}]/u;

const ESC = '\u001b';
/** Clear screen, home cursor, set the window title, a one-byte CSI, bidi override and isolate. */
const NASTY = `${ESC}[2J${ESC}[H${ESC}]0;owned\u0007\u009b31m\u202egnp.exe\u2066x\u2069\u200b\u{e0041}`;
/** A value that, printed raw, would add a line looking like inspect's own. */
const FORGED = '\n  signature    verified, ssh signer release@example.org: good SSH signature';

let root: string;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'waybill-term-'));
});

after(() => {
  rmSync(root, { recursive: true, force: true });
});

let counter = 0;
function caseDir(name: string): string {
  const dir = join(root, `${counter++}-${name}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function assertInert(result: CliResult, label: string): void {
  for (const [stream, text] of [
    ['stdout', result.stdout],
    ['stderr', result.stderr],
  ] as const) {
    const m = RAW_CONTROL.exec(text);
    assert.equal(
      m,
      null,
      `${label}: raw U+${m?.[0].codePointAt(0)?.toString(16).padStart(4, '0')} on ${stream}:\n${JSON.stringify(text)}`,
    );
  }
}

/** Lines of `text` that start (after indentation) with `word`: a forged line would add one. */
function linesStartingWith(text: string, word: string): string[] {
  return text.split('\n').filter((l) => l.trimStart().startsWith(word));
}

/** A .deb assembled with tar and ar as dpkg-deb would, with the control file given verbatim. */
function hostileDeb(dir: string, control: string): string {
  mkdirSync(join(dir, 'pkg', 'DEBIAN'), { recursive: true });
  mkdirSync(join(dir, 'pkg', 'usr', 'share', 'demo'), { recursive: true });
  writeFileSync(join(dir, 'pkg', 'usr', 'share', 'demo', 'README'), 'x\n');
  writeFileSync(join(dir, 'pkg', 'DEBIAN', 'control'), control);
  const tar = (out: string, from: string, what: string) =>
    execFileSync('tar', ['--owner=0', '--group=0', '-czf', out, '-C', from, what], { cwd: dir });
  tar('control.tar.gz', 'pkg/DEBIAN', './control');
  tar('data.tar.gz', 'pkg', './usr');
  writeFileSync(join(dir, 'debian-binary'), '2.0\n');
  execFileSync('ar', ['rc', 'demo.deb', 'debian-binary', 'control.tar.gz', 'data.tar.gz'], { cwd: dir });
  for (const f of ['debian-binary', 'control.tar.gz', 'data.tar.gz']) rmSync(join(dir, f));
  rmSync(join(dir, 'pkg'), { recursive: true });
  return join(dir, 'demo.deb');
}

describe('text output escapes what artifacts, records and names say', { concurrency: true }, () => {
  test('a .deb whose Maintainer clears the screen and whose Bugs URL forges a line', async () => {
    const dir = caseDir('deb');
    const deb = hostileDeb(
      dir,
      [
        'Package: demo',
        'Version: 1.0',
        'Architecture: all',
        `Maintainer: Evil${ESC}[2J${ESC}[H Team <evil@example.org>`,
        // A continuation line: the Bugs value holds a newline.
        'Bugs: https://bugs.example.org/demo',
        '  signature    verified, ssh signer release@example.org: good SSH signature',
        `Homepage: https://example.org/\u202egnp.exe`,
        `Description: demo ${ESC}]0;owned\u0007 \u2066x\u2069 \u009b2J`,
        '',
      ].join('\n'),
    );
    const inspect = await waybill(['inspect', deb]);
    assert.equal(inspect.code, 0, inspect.stderr);
    assertInert(inspect, 'inspect');
    assert.equal(linesStartingWith(inspect.stdout, 'signature').length, 0, inspect.stdout);
    assert.match(inspect.stdout, /^ {2}team {9}Evil\\x1b\[2J\\x1b\[H Team <evil@example\.org>/m);
    assert.match(inspect.stdout, /^ {2}help {9}https:\/\/bugs\.example\.org\/demo\\nsignature {4}verified/m);
    assert.match(inspect.stdout, /^ {2}docs {9}https:\/\/example\.org\/\\u202egnp\.exe/m);

    const check = await waybill(['check', deb]);
    assert.equal(check.code, 1, check.stderr);
    assertInert(check, 'check');
    assert.equal(linesStartingWith(check.stdout, 'signature').length, 0, check.stdout);

    const json = await waybill(['inspect', deb, '--format', 'json']);
    assertInert(json, 'inspect --format json');
    const view = JSON.parse(json.stdout);
    assert.equal(view.team, `Evil${ESC}[2J${ESC}[H Team <evil@example.org>`);
    assert.equal(view.help.docs, 'https://example.org/\u202egnp.exe');
  });

  test('in a terminal, with colour on: no escape sequence but waybill’s own SGR colours', async (t) => {
    if (spawnSync('script', ['--version']).status !== 0)
      return t.skip('util-linux script(1) is not installed');
    const dir = caseDir('tty');
    const deb = hostileDeb(
      dir,
      `Package: demo\nVersion: 1.0\nArchitecture: all\nMaintainer: Evil${ESC}[2J${ESC}[H <e@example.org>\nBugs: https://bugs.example.org/${NASTY}\nDescription: d\n`,
    );
    for (const command of ['check', 'inspect']) {
      // script(1) runs the command on a pseudo-terminal: stdout.isTTY, so colour is on.
      const r = spawnSync(
        'script',
        ['-qec', '"$WAYBILL_NODE" "$WAYBILL_BIN" "$WAYBILL_CMD" "$WAYBILL_DEB"', '/dev/null'],
        {
          encoding: 'utf8',
          env: {
            ...process.env,
            NO_COLOR: '',
            XDG_CONFIG_HOME: '/nonexistent/waybill-test-config',
            WAYBILL_NODE: process.execPath,
            WAYBILL_BIN: WAYBILL_BIN,
            WAYBILL_CMD: command,
            WAYBILL_DEB: deb,
          },
          timeout: 60_000,
        },
      );
      const screen = r.stdout.replaceAll('\r\n', '\n');
      if (command === 'check') assert.match(screen, /\u001b\[31m✘\u001b\[0m/, 'colour is on');
      const ours = /\u001b\[[0-9;]*m/g;
      assertInert(
        { code: r.status ?? -1, stdout: screen.replace(ours, ''), stderr: '' },
        `${command} on a tty`,
      );
      assert.match(screen, /Evil\\(x1b|u001b)\[2J/);
      assert.match(screen, /bugs\.example\.org\/\\x1b\[2J/);
    }
  });

  test('a release record (hand-made, or from another tool) with hostile strings in every field', async () => {
    const dir = caseDir('record');
    const artifact = join(dir, 'app.tar');
    writeFileSync(artifact, buildTar({ 'app/README': 'hello\n' }));
    const sbomLocation = `app.tar.cdx${NASTY}.json`;
    const record = buildRecord({
      subject: [{ name: 'app', digest: { sha256: sha256Digest(readFileSync(artifact)).slice(7) } }],
      identity: { name: 'app', version: '1.0', architectures: ['noarch'] },
      dates: { built: '2024-01-01T00:00:00Z' },
      team: { name: 'Team' },
      help: { bugTracker: 'https://bugs.example.org/app' },
      support: { license: 'Apache-2.0', disclaimer: 'AS IS', statement: 'by the team' },
    });
    // Then made hostile, as a record from another tool or edited by hand could be.
    const p = record.predicate;
    p.identity.name = `app${NASTY}`;
    p.identity.version = `1.0${FORGED}`;
    p.team.name = `Team${ESC}[8m hidden`;
    p.team.contact = `a@example.org${FORGED}`;
    p.help.bugTracker = `https://bugs.example.org/app${FORGED}`;
    p.help.docs = `https://docs.example.org/${NASTY}`;
    p.support.disclaimer = `PROVIDED AS IS, WITHOUT WARRANTY\r${ESC}[2KFULL WARRANTY\nline two ${NASTY}`;
    p.support.statement = `Support by the team${FORGED}`;
    p.manifest = { format: 'cyclonedx-json', digest: { sha256: 'a'.repeat(64) }, location: sbomLocation };
    p.source = {
      repository: `https://git.example.org/app${NASTY}`,
      tag: `v1.0${FORGED}`,
      commit: 'b'.repeat(40),
      tree: 'd'.repeat(40),
      tagObject: 'c'.repeat(40),
      signature: { verified: false, format: 'ssh', signer: `mallory${NASTY}`, reason: `bad${FORGED}` },
      // A tag object whose name and message are hostile: what the evidence check quotes back.
      evidence: {
        rawTag: Buffer.from(
          `object ${'b'.repeat(40)}\ntype commit\ntag v1.0${FORGED}\ntagger M <m@x> 1 +0000\n\n${NASTY}\n`,
          'latin1',
        ).toString('base64'),
        rawCommit: null,
      },
    };
    writeFileSync(`${artifact}.waybill.json`, serializeRecord(record));

    const inspect = await waybill(['inspect', artifact]);
    assert.equal(inspect.code, 0, inspect.stderr);
    assertInert(inspect, 'inspect');
    assert.equal(linesStartingWith(inspect.stdout, 'signature').length, 1, inspect.stdout);
    assert.match(
      inspect.stdout,
      /^ {2}signature {4}producer's claim: NOT verified, ssh signer mallory\\x1b\[2J/m,
    );
    // The disclaimer keeps its own lines; the carriage return cannot rewrite the first one.
    assert.match(inspect.stdout, /^ {2}PROVIDED AS IS, WITHOUT WARRANTY\\r\\x1b\[2KFULL WARRANTY$/m);
    assert.match(inspect.stdout, /^ {2}line two \\x1b\[2J/m);

    for (const format of ['text', 'json', 'sarif']) {
      const check = await waybill(['check', artifact, '--format', format]);
      assert.equal(check.code, 1, check.stderr);
      assertInert(check, `check --format ${format}`);
      if (format === 'text') {
        assert.equal(linesStartingWith(check.stdout, 'signature').length, 0, check.stdout);
        assert.match(check.stdout, /\\u202egnp\.exe/);
      } else {
        const parsed = JSON.parse(check.stdout);
        assert.ok(JSON.stringify(parsed).includes(FORGED.slice(1, 20)));
      }
    }
  });

  test('file names: an artifact path with ESC and a newline, on stdout and in the error line', async () => {
    const dir = caseDir('names');
    const name = `evil${ESC}]0;owned\u0007\n✔ 4 signed-source — good.tar`;
    const artifact = join(dir, name);
    writeFileSync(artifact, buildTar({ 'a/b': 'c\n' }));
    const check = await waybill(['check', artifact]);
    assert.equal(check.code, 1, check.stderr);
    assertInert(check, 'check');
    assert.equal(linesStartingWith(check.stdout, '✔ 4').length, 0, check.stdout);

    const missing = await waybill(['check', join(dir, `gone${FORGED}${NASTY}.tar`)]);
    assert.equal(missing.code, 2);
    assertInert(missing, 'missing file');
    assert.equal(missing.stderr.trimEnd().split('\n').length, 1, missing.stderr);
  });

  test("commander's usage errors quote the command line escaped: an unknown option, an extra argument", async () => {
    const option = await waybill(['check', `--x${NASTY}${FORGED}`]);
    assert.equal(option.code, 2);
    assertInert(option, 'unknown option');
    assert.equal(option.stderr.trimEnd().split('\n').length, 1, option.stderr);
    assert.match(option.stderr, /unknown option '--x\\x1b/);
    const extra = await waybill(['inspect', 'a.tar', `b${NASTY}.tar`]);
    assert.equal(extra.code, 2);
    assertInert(extra, 'too many arguments');
  });

  test('an OCI layout whose image names hold escape sequences (quoted in the error)', async () => {
    const dir = caseDir('layout');
    await buildOciLayout(dir, [{ 'etc/os-release': 'ID=demo\n' }], { tag: `latest${NASTY}${FORGED}` });
    const r = await waybill(['inspect', `oci:${dir}:nope`]);
    assert.equal(r.code, 2);
    assertInert(r, 'inspect oci:…:nope');
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /latest\\x1b\[2J/);
  });

  test('a dpkg database whose broken stanzas are quoted in warnings on stderr', async () => {
    const dir = caseDir('dpkg');
    const status = [
      `Package: ok\nStatus: install ok installed\nVersion: 1\nArchitecture: all\nMaintainer: M${ESC}[2J\n`,
      `Package: b\u009b2J\u202ead\nStatus: install ok installed\nVersion: 1\n`,
      `Package: nover${ESC}c\nStatus: install ok installed\n`,
    ].join('\n');
    const artifact = join(dir, 'root.tar');
    writeFileSync(
      artifact,
      buildTar({ 'etc/os-release': 'ID=debian\nVERSION_ID=12\n', 'var/lib/dpkg/status': status }),
    );
    const r = await waybill(['sbom', artifact]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: .*invalid package name/);
    assertInert({ ...r, stdout: '' }, 'sbom warnings');
    JSON.parse(r.stdout);
  });
});

describe('stamp refuses control characters in what it writes', { concurrency: true }, () => {
  const FLAGS = [
    '--name',
    'app',
    '--version',
    '1.0',
    '--team',
    'Team',
    '--bug-tracker',
    'https://bugs.example.org/app',
    '--built',
    '2024-01-01T00:00:00Z',
    '--quiet',
  ];

  /** The flag replaced (or added) with `value`. */
  function flags(name: string, value: string): string[] {
    const out = [...FLAGS];
    const at = out.indexOf(name);
    if (at >= 0) out.splice(at, 2);
    return [...out, name, value];
  }

  async function expectRefused(args: string[], field: RegExp, label: string, cwd?: string): Promise<void> {
    const dir = caseDir('stamp');
    const artifact = join(dir, 'app.tar');
    writeFileSync(artifact, buildTar({ 'app/README': 'hello\n' }));
    const r = await waybill(['stamp', artifact, ...args], cwd ? { cwd } : {});
    assertRefusedControlCharacter(r, field, label);
    assert.deepEqual(readdirSync(dir), ['app.tar'], `${label}: nothing written`);
  }

  /** Exit 2, one inert line naming `field` and the control character. */
  function assertRefusedControlCharacter(r: CliResult, field: RegExp, label: string): void {
    assert.equal(r.code, 2, `${label}: ${r.stderr}${r.stdout}`);
    assertInert(r, label);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `${label}: ${r.stderr}`);
    assert.match(lines[0] as string, field, label);
    assert.match(lines[0] as string, /control character/, label);
  }

  test('names, versions, URLs and the team: no control character at all', async () => {
    await expectRefused(
      flags('--bug-tracker', `https://bugs.example.org/x${FORGED}`),
      /help\.bugTracker/,
      'url',
    );
    await expectRefused(flags('--docs-url', `https://docs.example.org/${ESC}[2J`), /help\.docs/, 'docs');
    await expectRefused(flags('--name', `app${ESC}]0;owned\u0007`), /identity\.name/, 'name');
    await expectRefused(flags('--version', '1.0\u202e1.0'), /identity\.version/, 'version');
    await expectRefused(flags('--team', `Team\u009b2J`), /team\.name/, 'team');
    await expectRefused(flags('--contact', 'a@example.org\nb'), /team\.contact/, 'contact');
    await expectRefused(flags('--license', `Apache-2.0${ESC}[8m`), /support\.license/, 'license');
  });

  test('disclaimer and support statement may span lines, nothing else', async () => {
    await expectRefused(
      flags('--disclaimer', `AS IS, NO WARRANTY\r${ESC}[2KFULL WARRANTY`),
      /support\.disclaimer/,
      'disclaimer',
    );
    await expectRefused(flags('--support', 'by the team \u2066x\u2069'), /support\.statement/, 'support');
    const dir = caseDir('multiline-ok');
    const artifact = join(dir, 'app.tar');
    writeFileSync(artifact, buildTar({ 'app/README': 'hello\n' }));
    const ok = await waybill([
      'stamp',
      artifact,
      ...flags('--disclaimer', 'Provided AS IS,\nWITHOUT WARRANTY OF ANY KIND.'),
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(existsSync(`${artifact}.waybill.json`));
  });

  test("the artifact's own metadata: refused naming the artifact and its field, not a setting", async (t) => {
    const withoutIdentity = FLAGS.filter(
      (_, i) => !['--name', 'app', '--version', '1.0'].includes(FLAGS[i]!),
    );
    const expectNative = async (artifact: string, field: RegExp, label: string) => {
      const r = await waybill(['stamp', artifact, ...withoutIdentity]);
      assertRefusedControlCharacter(r, field, label);
      assert.ok(!existsSync(`${artifact}.waybill.json`), `${label}: nothing written`);
    };
    const dir = caseDir('native');
    const rootfs = join(dir, 'root.tar');
    writeFileSync(rootfs, buildTar({ 'etc/os-release': `ID=debian${ESC}[2J\nVERSION_ID=12\n` }));
    await expectNative(
      rootfs,
      /root\.tar: its os-release ID \(etc\/os-release\) contains the control character/,
      'os-release',
    );
    // A wheel's legacy License, which stamp replaces and keeps in the record's upstream trail (fuzz,
    // stop 17: refused as 'upstream wheel METADATA License', naming no artifact).
    const wheel = join(dir, 'demo-1.0-py3-none-any.whl');
    execFileSync('python3', [
      '-c',
      `import base64, hashlib, sys, zipfile
files = {'demo-1.0.dist-info/METADATA': 'Metadata-Version: 2.1\\nName: demo\\nVersion: 1.0\\nLicense: MIT\\u202e\\n',
  'demo-1.0.dist-info/WHEEL': 'Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n'}
def h(d): return base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()
z = zipfile.ZipFile(sys.argv[1], 'w')
for n, d in files.items(): z.writestr(n, d)
z.writestr('demo-1.0.dist-info/RECORD', ''.join(f'{n},sha256={h(d.encode())},{len(d.encode())}\\n' for n, d in files.items()) + 'demo-1.0.dist-info/RECORD,,\\n')
z.close()`,
      wheel,
    ]);
    await expectNative(
      wheel,
      /demo-1\.0-py3-none-any\.whl: its wheel METADATA License contains the control character \\u202e/,
      'wheel upstream License',
    );
    const missing = await apkToolsMissing();
    if (missing) return t.skip(missing);
    const apk = await buildApk(dir, 'demo-1.0-r0', {
      pkginfo: [
        ['pkgname', 'demo'],
        ['pkgver', '1.0-r0'],
        ['arch', '\u007f'],
        ['builddate', '1700000000'],
      ],
      files: { 'usr/bin/demo': '#!/bin/sh\n' },
    });
    await expectNative(
      apk,
      /demo-1\.0-r0\.apk: its apk \.PKGINFO arch contains the control character \\x7f/,
      'apk arch',
    );
  });

  test('the same from waybill.yaml', async () => {
    const dir = caseDir('config');
    writeFileSync(
      join(dir, 'waybill.yaml'),
      'version: 1\nteam:\n  name: "Team\\e[2J"\nhelp:\n  bugTracker: https://bugs.example.org/app\n',
    );
    await expectRefused(['--quiet', '--version', '1.0'], /team\.name/, 'config', dir);
  });

  test('the repository a signed tag comes from: an origin URL with an escape sequence', async () => {
    // The remote URL is redacted to printable ASCII before it is recorded (provenance/remote-url.ts):
    // the escape is percent-encoded, so nothing inert has to be refused.
    const dir = caseDir('repo');
    const signer = await makeSshSigner(dir);
    const repo = await makeRepo(
      dir,
      { 'build.sh': 'echo\n' },
      { name: 'src', origin: 'https://git.example.org/app.git' },
    );
    await git(repo, ['remote', 'set-url', 'origin', `https://git.example.org/app${ESC}[2J.git`]);
    await signedTag(repo, 'v1.0', signer);
    const out = caseDir('stamp');
    const artifact = join(out, 'app.tar');
    writeFileSync(artifact, buildTar({ 'app/README': 'hello\n' }));
    const r = await waybill([
      'stamp',
      artifact,
      ...FLAGS,
      '--source',
      repo,
      '--allowed-signers',
      signer.allowedSignersFile,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assertInert(r, 'origin');
    const record = JSON.parse(readFileSync(`${artifact}.waybill.json`, 'utf8'));
    assert.equal(record.predicate.source.repository, 'https://git.example.org/app%1B[2J.git');
  });
});
