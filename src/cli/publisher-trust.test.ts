import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfigText } from '../config/load.ts';
import { resolveSettings } from '../config/merge.ts';
import { publisherTrust } from './common.ts';

function settingsFrom(yaml: string, dir: string) {
  const path = join(dir, 'waybill.yaml');
  writeFileSync(path, yaml);
  return resolveSettings(parseConfigText(yaml, path, dir));
}

test('publisherTrust: flags, then trust:, then the source signers stamp used', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'waybill-publisher-trust-'));
  try {
    for (const name of ['signers', 'team_signers', 'flag_signers', 'revoked'])
      writeFileSync(join(dir, name), '');
    const base = 'version: 1\nteam:\n  name: T\nhelp:\n  bugTracker: https://bugs.example.org/x\n';
    const fromSource = settingsFrom(
      `${base}source:\n  allowedSigners: signers\n  sshRevocationFile: revoked\n`,
      dir,
    );
    const fallback = await publisherTrust(fromSource, {});
    assert.equal(fallback.allowedSigners, join(dir, 'signers'));
    assert.equal(fallback.sshRevocationFile, join(dir, 'revoked'));

    const flagged = await publisherTrust(fromSource, { allowedSigners: join(dir, 'flag_signers') });
    assert.equal(flagged.allowedSigners, join(dir, 'flag_signers'));

    const both = settingsFrom(
      `${base}source:\n  allowedSigners: signers\ntrust:\n  allowedSigners: team_signers\n`,
      dir,
    );
    assert.equal((await publisherTrust(both, {})).allowedSigners, join(dir, 'team_signers'));

    const none = settingsFrom(base, dir);
    assert.equal((await publisherTrust(none, {})).allowedSigners, undefined);

    const missing = settingsFrom(`${base}source:\n  allowedSigners: nowhere\n`, dir);
    await assert.rejects(publisherTrust(missing, {}), /nowhere/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
