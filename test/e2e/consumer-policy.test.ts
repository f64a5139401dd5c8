/**
 * The consumer's policy is the consumer's, end to end through the real CLI. A release bundle or a
 * cloned repository that ships a waybill.yaml switching every rule off changes nothing for `check`:
 * the policy comes from --policy, an explicit -c, $WAYBILL_POLICY, the user's
 * ~/.config/waybill/policy.yaml, or the built-in defaults, and every verdict says which.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildTar } from '../../src/sources/testing.ts';
import { waybill, waybillJson } from '../helpers/cli.ts';

interface Report {
  passed: boolean;
  policy: { source: string };
  rules: Array<{ id: string; level: string; status: string }>;
}

const ALL_OFF = `version: 1
team:
  name: Anyone
help:
  bugTracker: https://bugs.example.org/
policy:
  rules:
    identity: off
    manifest: off
    dates: off
    signed-source: off
    team: off
    help: off
    support: off
`;

let root: string;
/** A cloned repository or unpacked release bundle: .git, a hostile waybill.yaml, an unstamped file. */
let bundle: string;
let artifact: string;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'waybill-consumer-'));
  bundle = join(root, 'bundle');
  mkdirSync(join(bundle, '.git'), { recursive: true });
  mkdirSync(join(bundle, 'dist'));
  writeFileSync(join(bundle, 'waybill.yaml'), ALL_OFF);
  writeFileSync(join(bundle, 'dist', 'waybill.yaml'), ALL_OFF);
  artifact = join(bundle, 'dist', 'app.tar');
  writeFileSync(artifact, buildTar({ 'app/README': 'unstamped\n' }));
});

after(() => {
  rmSync(root, { recursive: true, force: true });
});

function userConfig(name: string, policy: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'waybill'), { recursive: true });
  writeFileSync(join(dir, 'waybill', 'policy.yaml'), policy);
  return dir;
}

describe('check judges by the consumer policy', { concurrency: true }, () => {
  test('a hostile waybill.yaml next to the artifact, in the cwd and its parents is never read', async () => {
    for (const cwd of [join(bundle, 'dist'), bundle, root]) {
      const r = await waybill(['check', artifact], { cwd });
      assert.equal(r.code, 1, `cwd ${cwd}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stderr, 'policy: built-in defaults\n');
      assert.doesNotMatch(r.stdout, /off \(by policy/);
      const json = await waybillJson<Report>(['check', artifact], { cwd });
      assert.equal(json.code, 1);
      assert.equal(json.json.passed, false);
      assert.deepEqual(json.json.policy, { source: 'built-in defaults' });
      assert.ok(json.json.rules.every((r) => r.level === 'fail'));
    }
    const sarif = await waybill(['check', artifact, '--format', 'sarif'], { cwd: bundle });
    assert.equal(sarif.code, 1);
    assert.equal(JSON.parse(sarif.stdout).runs[0].properties.policySource, 'built-in defaults');
  });

  test("the user's policy.yaml ($XDG_CONFIG_HOME, else ~/.config) sets the policy and is named", async () => {
    const xdg = userConfig('xdg', 'rules:\n  signed-source: off\n  dates: warn\n');
    const file = join(xdg, 'waybill', 'policy.yaml');
    const r = await waybill(['check', artifact], { cwd: bundle, env: { XDG_CONFIG_HOME: xdg } });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `policy: ${file}\n`);
    assert.match(r.stdout, new RegExp(`^– 4 signed-source — off \\(by policy ${file}\\)$`, 'm'));
    const json = await waybillJson<Report>(['check', artifact], { env: { XDG_CONFIG_HOME: xdg } });
    assert.equal(json.json.policy.source, file);
    const level = Object.fromEntries(json.json.rules.map((x) => [x.id, x.level]));
    assert.equal(level['signed-source'], 'off');
    assert.equal(level.dates, 'warn');
    assert.equal(level.identity, 'fail');

    const home = join(root, 'home');
    mkdirSync(join(home, '.config'), { recursive: true });
    const homeConfig = userConfig('home/.config', 'rules:\n  help: off\n');
    const viaHome = await waybillJson<Report>(['check', artifact], {
      env: { XDG_CONFIG_HOME: '', HOME: home },
    });
    assert.equal(viaHome.json.policy.source, join(homeConfig, 'waybill', 'policy.yaml'));
  });

  test('$WAYBILL_POLICY wins over the user file; --policy wins over both', async () => {
    const xdg = userConfig('xdg2', 'rules:\n  team: off\n');
    const envPolicy = join(root, 'env-policy.yaml');
    writeFileSync(envPolicy, 'rules:\n  help: off\n');
    const flagPolicy = join(root, 'flag-policy.yaml');
    writeFileSync(flagPolicy, 'rules:\n  support: off\n');
    const env = { XDG_CONFIG_HOME: xdg, WAYBILL_POLICY: envPolicy };
    const fromEnv = await waybillJson<Report>(['check', artifact], { env });
    assert.equal(fromEnv.json.policy.source, envPolicy);
    const fromFlag = await waybillJson<Report>(['check', artifact, '--policy', flagPolicy], { env });
    assert.equal(fromFlag.json.policy.source, flagPolicy);
    const off = fromFlag.json.rules.filter((r) => r.level === 'off').map((r) => r.id);
    assert.deepEqual(off, ['support']);
  });

  test('-c names a project config explicitly: its policy section is then the user’s choice', async () => {
    const config = join(bundle, 'waybill.yaml');
    const r = await waybill(['check', artifact, '-c', config], { cwd: root });
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.stderr, `policy: ${config}\n`);
    assert.equal((r.stdout.match(/off \(by policy /g) ?? []).length, 7, r.stdout);
  });

  test('a broken or unreadable policy is one line and exit 2, never a silent default', async () => {
    const broken = userConfig('broken', 'rules:\n  identity: maybe\n');
    const r = await waybill(['check', artifact], { env: { XDG_CONFIG_HOME: broken } });
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /broken\/waybill\/policy\.yaml.*identity/);

    const missing = await waybill(['check', artifact], { env: { WAYBILL_POLICY: join(root, 'nope.yaml') } });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.yaml: no such/);

    const fifo = join(root, 'policy.fifo');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    const fromFifo = await waybill(['check', artifact], { env: { WAYBILL_POLICY: fifo } });
    assert.equal(fromFifo.code, 2);
    assert.match(fromFifo.stderr, /not a regular file/);
    assert.ok(Date.now() - started < 20_000);
  });
});

describe('producers read the project config', () => {
  test('stamp in the project directory uses ./waybill.yaml and names it', async () => {
    const project = join(root, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'waybill.yaml'), ALL_OFF.replace('    support: off\n', ''));
    const file = join(project, 'app.tar');
    writeFileSync(file, buildTar({ 'app/README': 'x\n' }));
    const r = await waybill(
      ['stamp', file, '--version', '1.0', '--quiet', '--built', '2024-01-01T00:00:00Z'],
      {
        cwd: project,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, `policy: ${join(project, 'waybill.yaml')}\n`);
    assert.match(r.stdout, /– 1 identity — off \(by policy .*project\/waybill\.yaml\)/);
    // The consumer, in the same directory, is not bound by it.
    const consumer = await waybillJson<Report>(['check', file], { cwd: project });
    assert.equal(consumer.json.policy.source, 'built-in defaults');
    assert.ok(consumer.json.rules.every((x) => x.level === 'fail'));
  });
});
