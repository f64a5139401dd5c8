import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConsumerPolicy, userPolicyPath } from './consumer-policy.ts';

test('userPolicyPath: $XDG_CONFIG_HOME when absolute, else ~/.config', () => {
  assert.equal(userPolicyPath({ XDG_CONFIG_HOME: '/x/cfg', HOME: '/home/u' }), '/x/cfg/waybill/policy.yaml');
  // XDG Base Directory: a relative path is invalid and ignored (it would name the cwd's contents).
  assert.equal(
    userPolicyPath({ XDG_CONFIG_HOME: 'cfg', HOME: '/home/u' }),
    '/home/u/.config/waybill/policy.yaml',
  );
  assert.equal(userPolicyPath({ HOME: '/home/u' }), '/home/u/.config/waybill/policy.yaml');
  assert.equal(userPolicyPath({}, '/home/v'), '/home/v/.config/waybill/policy.yaml');
});

test('loadConsumerPolicy: never the cwd; first of --policy, -c, $WAYBILL_POLICY, user file, built-in', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'waybill-consumer-policy-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const cwd = process.cwd();
  t.after(() => process.chdir(cwd));
  await writeFile(
    join(dir, 'waybill.yaml'),
    'version: 1\nteam: {name: T}\nhelp: {bugTracker: https://b.example/}\npolicy:\n  rules: {identity: off}\n',
  );
  process.chdir(dir);
  const none = { XDG_CONFIG_HOME: join(dir, 'nothing-here') };
  assert.deepEqual(await loadConsumerPolicy({ env: none }), {
    levels: {},
    allowedLicenses: ['Apache-2.0'],
    source: 'built-in defaults',
  });

  await mkdir(join(dir, 'xdg', 'waybill'), { recursive: true });
  await writeFile(
    join(dir, 'xdg', 'waybill', 'policy.yaml'),
    'rules: {team: warn}\nallowedLicenses: [MIT]\n',
  );
  const user = await loadConsumerPolicy({ env: { XDG_CONFIG_HOME: join(dir, 'xdg') } });
  assert.deepEqual(user.levels, { team: 'warn' });
  assert.deepEqual(user.allowedLicenses, ['MIT']);
  assert.equal(user.source, join(dir, 'xdg', 'waybill', 'policy.yaml'));

  await writeFile(join(dir, 'env.yaml'), 'rules: {help: off}\n');
  const env = { XDG_CONFIG_HOME: join(dir, 'xdg'), WAYBILL_POLICY: join(dir, 'env.yaml') };
  assert.equal((await loadConsumerPolicy({ env })).source, join(dir, 'env.yaml'));

  const explicit = await loadConsumerPolicy({ env, configFile: 'waybill.yaml' });
  assert.deepEqual(explicit.levels, { identity: 'off' });
  assert.equal(explicit.source, join(dir, 'waybill.yaml'));

  const layered = await loadConsumerPolicy({ env, configFile: 'waybill.yaml', policyFile: 'env.yaml' });
  assert.deepEqual(layered.levels, { identity: 'off', help: 'off' });
  assert.equal(layered.source, `${join(dir, 'env.yaml')} (over ${join(dir, 'waybill.yaml')})`);
});

const FPR = '0123456789ABCDEF0123456789ABCDEF01234567';

test('trust: from a policy file or -c waybill.yaml, paths relative to that file; --policy over -c key by key', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'waybill-consumer-trust-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'etc'));
  await writeFile(
    join(dir, 'etc', 'policy.yaml'),
    `trust:\n  allowedSigners: keys/allowed_signers\n  trustedGpgKeys: ["${FPR.toLowerCase()
      .replace(/(.{4})/g, '$1 ')
      .trim()}"]\n`,
  );
  const env = { XDG_CONFIG_HOME: join(dir, 'none') };
  const file = await loadConsumerPolicy({ env, policyFile: join(dir, 'etc', 'policy.yaml') });
  assert.deepEqual(file.trust, {
    allowedSigners: join(dir, 'etc', 'keys', 'allowed_signers'),
    trustedGpgKeys: [FPR],
  });

  await writeFile(
    join(dir, 'waybill.yaml'),
    `version: 1\nteam: {name: T}\nhelp: {bugTracker: https://b.example/}\ntrust:\n  gpgKeyring: release.gpg\n  allowedSigners: /abs/signers\n`,
  );
  const config = await loadConsumerPolicy({ env, configFile: join(dir, 'waybill.yaml') });
  assert.deepEqual(config.trust, { gpgKeyring: join(dir, 'release.gpg'), allowedSigners: '/abs/signers' });
  const both = await loadConsumerPolicy({
    env,
    configFile: join(dir, 'waybill.yaml'),
    policyFile: join(dir, 'etc', 'policy.yaml'),
  });
  assert.deepEqual(both.trust, {
    gpgKeyring: join(dir, 'release.gpg'),
    allowedSigners: join(dir, 'etc', 'keys', 'allowed_signers'),
    trustedGpgKeys: [FPR],
  });
});

test('trust: a key id is not a fingerprint; unknown keys are named', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'waybill-consumer-trust-bad-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const env = { XDG_CONFIG_HOME: join(dir, 'none') };
  await writeFile(join(dir, 'short.yaml'), `trust:\n  trustedGpgKeys: [${FPR.slice(-16)}]\n`);
  await assert.rejects(
    loadConsumerPolicy({ env, policyFile: join(dir, 'short.yaml') }),
    /trust\.trustedGpgKeys\[0\] must be a full OpenPGP key fingerprint/,
  );
  await writeFile(join(dir, 'typo.yaml'), 'trust:\n  allowedSigner: x\n');
  await assert.rejects(
    loadConsumerPolicy({ env, policyFile: join(dir, 'typo.yaml') }),
    /unknown key trust\.allowedSigner \(expected one of: allowedSigners/,
  );
  await writeFile(
    join(dir, 'waybill.yaml'),
    `version: 1\nteam: {name: T}\nhelp: {bugTracker: https://b.example/}\ntrust:\n  trustedGpgKeys: [ABCD]\n`,
  );
  await assert.rejects(
    loadConsumerPolicy({ env, configFile: join(dir, 'waybill.yaml') }),
    /trust\.trustedGpgKeys\[0\]: expected a full OpenPGP key fingerprint/,
  );
});
