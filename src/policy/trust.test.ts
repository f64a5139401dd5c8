import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import {
  assertTrustFiles,
  hasTrust,
  isFullFingerprint,
  overlayTrustFlags,
  trustFileOrigin,
} from './trust.ts';

const FPR = 'ABCDEF0123456789ABCDEF0123456789ABCDEF01';

test('isFullFingerprint: v4 and v5 fingerprints as gpg prints them; key ids are not', () => {
  assert.ok(isFullFingerprint(FPR));
  assert.ok(isFullFingerprint(FPR.toLowerCase()));
  assert.ok(isFullFingerprint(`0x${FPR}`));
  assert.ok(isFullFingerprint('ABCD EF01 2345 6789 ABCD  EF01 2345 6789 ABCD EF01'));
  assert.ok(isFullFingerprint('A'.repeat(64)));
  for (const bad of [FPR.slice(-16), FPR.slice(-8), `${FPR}0`, 'G'.repeat(40), ''])
    assert.equal(isFullFingerprint(bad), false, bad);
});

test('overlayTrustFlags: flags replace the file key by key; the source says which', () => {
  const file = { allowedSigners: '/etc/signers', trustedGpgKeys: [FPR], source: '/p.yaml' };
  assert.deepEqual(overlayTrustFlags(file, {}, '/p.yaml'), {
    allowedSigners: '/etc/signers',
    trustedGpgKeys: [FPR],
    source: '/p.yaml',
  });
  const over = overlayTrustFlags(
    file,
    { allowedSigners: 'mine', trustedGpgKey: [FPR.toLowerCase()] },
    '/p.yaml',
  );
  assert.deepEqual(over, {
    allowedSigners: resolve('mine'),
    trustedGpgKeys: [FPR],
    source: 'flags over /p.yaml',
  });
  assert.deepEqual(overlayTrustFlags(undefined, { gpgKeyring: 'k.gpg' }), {
    gpgKeyring: resolve('k.gpg'),
    source: 'flags',
  });
  assert.deepEqual(overlayTrustFlags(undefined, {}), {});
  assert.throws(
    () => overlayTrustFlags(undefined, { trustedGpgKey: ['DEADBEEF'] }),
    /--trusted-gpg-key: "DEADBEEF" is not a full OpenPGP key fingerprint/,
  );
});

test('hasTrust: any signer trust at all', () => {
  assert.equal(hasTrust(undefined), false);
  assert.equal(hasTrust({}), false);
  assert.equal(hasTrust({ sshRevocationFile: '/r' }), false, 'a revocation list trusts nobody');
  assert.equal(hasTrust({ allowedSigners: '/a' }), true);
  assert.equal(hasTrust({ trustedGpgKeys: [FPR] }), true);
});

test('assertTrustFiles: a missing trust file names the flag or the policy key that named it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'waybill-trust-'));
  try {
    const present = join(dir, 'allowed_signers');
    await writeFile(present, 'release@example.org ssh-ed25519 AAAA\n');
    const policy = {
      allowedSigners: present,
      gpgKeyring: join(dir, 'gone.gpg'),
      source: '/etc/waybill/policy.yaml',
    };
    const fromFile = overlayTrustFlags(policy, {}, policy.source);
    await assert.rejects(assertTrustFiles(fromFile, trustFileOrigin({}, policy.source)), (e: Error) => {
      assert.match(e.message, /gone\.gpg: .*\(named by trust\.gpgKeyring in \/etc\/waybill\/policy\.yaml\)$/);
      return true;
    });
    const flags = { gpgKeyring: join(dir, 'typo.gpg') };
    const fromFlag = overlayTrustFlags(policy, flags, policy.source);
    await assert.rejects(assertTrustFiles(fromFlag, trustFileOrigin(flags, policy.source)), (e: Error) => {
      assert.match(e.message, /typo\.gpg: .*\(named by --gpg-keyring\)$/);
      return true;
    });
    await assertTrustFiles(overlayTrustFlags(policy, { gpgKeyring: present }, policy.source));
    await assert.rejects(
      assertTrustFiles({ sshRevocationFile: dir, source: 'flags' }),
      /named by sshRevocationFile of flags/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
