import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { buildPackages, DEB_CONTROL, reference } from '../../../test/fixtures/build-packages.ts';
import { arBuffer, bufferSource, indexAr } from '../../archive/ar.ts';
import { WaybillError } from '../../errors.ts';
import { debFormat } from './deb-format.ts';
import { controlUpdates, editControlText, stampDeb } from './deb-stamp.ts';

const exec = promisify(execFile);
const fixtures = await buildPackages();
const tmp = await mkdtemp(join(tmpdir(), 'waybill-deb-stamp-'));
after(() => rm(tmp, { recursive: true, force: true }));

const STAMP = {
  docs: 'https://docs.example.org/waybill-demo',
  bugTracker: 'https://github.com/example/waybill-demo/issues',
  team: 'Example Release Team',
  contact: 'releases@example.org',
};

async function memberHash(path: string, prefix: string): Promise<string> {
  const bytes = await readFile(path);
  const m = (await indexAr(bufferSource(bytes), path)).find((x) => x.name.startsWith(prefix));
  assert.ok(m, `${prefix} member`);
  return createHash('sha256')
    .update(bytes.subarray(m.dataOffset, m.dataOffset + m.size))
    .digest('hex');
}

async function stampedCopy(source: string, name: string): Promise<string> {
  const path = join(tmp, name);
  await copyFile(source, path);
  return path;
}

test('editing keeps every other line and puts new fields before Description', () => {
  const updates = controlUpdates(STAMP, 'Demo Release Team <team@example.org>');
  const { text, changed } = editControlText(
    DEB_CONTROL.replace('Homepage: https://example.org/waybill-demo\n', ''),
    updates,
  );
  assert.deepEqual(changed, ['Homepage', 'Original-Bugs', 'Bugs', 'Original-Maintainer', 'Maintainer']);
  const lines = text.split('\n');
  assert.equal(lines[3], 'Maintainer: Example Release Team <releases@example.org>');
  // The upstream trail, as Debian derivatives keep it: right after the field it replaced.
  assert.equal(lines[4], 'Original-Maintainer: Demo Release Team <team@example.org>');
  assert.equal(
    lines[lines.indexOf(`Bugs: ${STAMP.bugTracker}`) + 1],
    'Original-Bugs: debbugs://bugs.example.org',
  );
  assert.equal(
    lines[lines.indexOf('Description: demo package for waybill tests') - 1],
    `Homepage: ${STAMP.docs}`,
  );
  assert.ok(text.includes('Built-Using: golang-1.22 (= 1.22.8-1), golang-github-spf13-cobra (= 1.8.0-1)\n'));
  assert.ok(text.endsWith(' It has a postinst, md5sums, a symlink and a hard link.\n'));
  // A URL contact cannot be a Maintainer address; no contact keeps the existing address.
  assert.deepEqual(controlUpdates({ team: 'T', contact: 'https://t.example' }, 'A <a@b.c>'), []);
  assert.deepEqual(controlUpdates({ team: 'T' }, 'A <a@b.c>'), [['Maintainer', 'T <a@b.c>']]);
  assert.throws(() => controlUpdates({ bugTracker: 'a\nEvil: field' }, undefined), WaybillError);
});

test('stamped packages pass dpkg-deb, show the new fields, and keep data and control files', async (t) => {
  const debs = Object.entries(fixtures.deb) as Array<[string, string]>;
  if (debs.length === 0) return t.skip(fixtures.debSkip ?? 'no deb fixtures');
  if (fixtures.skopeo) debs.push(['skopeo', fixtures.skopeo]);
  for (const [label, original] of debs) {
    const path = await stampedCopy(original, `${label}.deb`);
    const dataBefore = await memberHash(path, 'data.tar');
    const ctrlBefore = (await reference('sh', ['-c', `dpkg-deb --ctrl-tarfile "${path}" | tar tv`])).trim();
    const contentsBefore = await reference('dpkg-deb', ['-c', path]);
    const upstream = await reference('dpkg-deb', ['-f', original, 'Maintainer', 'Homepage']);
    const result = await debFormat.stamp?.(path, STAMP);
    assert.equal(result?.changed, true, label);
    for (const field of ['deb Homepage', 'deb Bugs', 'deb Maintainer', 'deb Original-Maintainer'])
      assert.ok(result?.fields.includes(field), `${label}: ${field}`);
    // The originals stay in the package (dpkg-deb reads them) and come back for the record.
    const originals = await reference('dpkg-deb', ['-f', path, 'Original-Maintainer', 'Original-Homepage']);
    assert.equal(originals.replaceAll('Original-', ''), upstream, label);
    const maintainer = /^Maintainer: (.*)$/m.exec(upstream)?.[1];
    assert.ok(
      result?.replaced?.some((r) => r.field === 'deb Maintainer' && r.value === maintainer),
      label,
    );

    // Reference tools read the new values.
    assert.equal((await reference('dpkg-deb', ['-f', path, 'Bugs'])).trim(), STAMP.bugTracker);
    assert.equal((await reference('dpkg-deb', ['-f', path, 'Homepage'])).trim(), STAMP.docs);
    assert.equal(
      (await reference('dpkg-deb', ['-f', path, 'Maintainer'])).trim(),
      'Example Release Team <releases@example.org>',
    );
    assert.equal(
      await reference('dpkg-deb', ['-f', path, 'Package', 'Version', 'Built-Using']),
      await reference('dpkg-deb', ['-f', original, 'Package', 'Version', 'Built-Using']),
    );
    await reference('dpkg-deb', ['--info', path]);
    assert.equal(await reference('dpkg-deb', ['-c', path]), contentsBefore, `${label}: contents`);
    // Control files keep names, modes and dates (owner names become 0/0 as dpkg-deb writes them).
    const ctrlAfter = (await reference('sh', ['-c', `dpkg-deb --ctrl-tarfile "${path}" | tar tv`])).trim();
    // `tar tv`: mode owner size date time name. Compare all but sizes (control's changed).
    const shape = (listing: string) =>
      listing
        .split('\n')
        .map((l) => l.split(/\s+/))
        .map((f) => `${f[0]} ${f[1]} ${f[3]} ${f[4]} ${f[5]}`)
        .sort();
    assert.deepEqual(shape(ctrlAfter), shape(ctrlBefore), label);
    assert.equal(await memberHash(path, 'data.tar'), dataBefore, `${label}: data.tar bytes`);
    // Our reader agrees.
    const facts = await debFormat.readFacts(path);
    assert.equal(facts.bugTracker?.value, STAMP.bugTracker);
  }
});

test('dpkg unpacks a stamped package into a scratch root and records the new fields', async (t) => {
  const original = fixtures.deb.xz;
  if (!original) return t.skip(fixtures.debSkip ?? 'no deb fixture');
  const path = await stampedCopy(original, 'install.deb');
  await stampDeb(path, STAMP);
  const root = join(tmp, 'root');
  await mkdir(join(root, 'var/lib/dpkg/updates'), { recursive: true });
  await mkdir(join(root, 'var/lib/dpkg/info'), { recursive: true });
  await writeFile(join(root, 'var/lib/dpkg/status'), '');
  try {
    await exec('dpkg', [
      '--root',
      root,
      '--force-not-root',
      '--force-depends',
      '--force-script-chrootless',
      '--unpack',
      path,
    ]);
  } catch (e) {
    return t.skip(
      `dpkg --unpack into a scratch root failed here: ${String((e as Error).message).split('\n')[0]}`,
    );
  }
  const status = await reference('dpkg', ['--root', root, '-s', 'waybill-demo']);
  assert.match(status, new RegExp(`^Bugs: ${STAMP.bugTracker}$`, 'm'));
  assert.match(status, /^Status: install ok unpacked$/m);
  assert.equal((await readFile(join(root, 'usr/bin/waybill-demo'))).toString(), '#!/bin/sh\necho hi\n');
  const postinst = await readdir(join(root, 'var/lib/dpkg/info'));
  assert.ok(postinst.includes('waybill-demo.postinst'));
});

test('stamping is deterministic and idempotent; nothing to change leaves the file alone', async (t) => {
  const original = fixtures.deb.gzip;
  if (!original) return t.skip(fixtures.debSkip ?? 'no deb fixture');
  const a = await stampedCopy(original, 'a.deb');
  const b = await stampedCopy(original, 'b.deb');
  await stampDeb(a, STAMP);
  await stampDeb(b, STAMP);
  const bytes = await readFile(a);
  assert.ok(bytes.equals(await readFile(b)));
  // Stamped again: nothing changes, the originals are still reported (the record keeps the trail).
  const again = await stampDeb(a, STAMP);
  assert.equal(again.changed, false);
  assert.deepEqual(again.fields, []);
  assert.deepEqual(
    again.replaced?.map((r) => r.field),
    ['deb Homepage', 'deb Bugs', 'deb Maintainer'],
  );
  assert.ok((await readFile(a)).equals(bytes));
  // A second team re-releasing it keeps the FIRST upstream, never the previous team's values.
  const other = await stampDeb(a, { ...STAMP, team: 'Other Team' });
  assert.ok(other.changed);
  assert.equal(
    (await reference('dpkg-deb', ['-f', a, 'Original-Maintainer'])).trim(),
    'Demo Release Team <team@example.org>',
  );
  assert.deepEqual(await stampDeb(a, {}), { changed: false, fields: [] });
});

test('refused stamps write nothing: signed packages, broken packages, bad values', async (t) => {
  const original = fixtures.deb.gzip;
  if (!original) return t.skip(fixtures.debSkip ?? 'no deb fixture');
  const dir = join(tmp, 'refused');
  await mkdir(dir);
  const bytes = await readFile(original);
  const members = await indexAr(bufferSource(bytes), original);
  const signed = join(dir, 'signed.deb');
  const signedBytes = await arBuffer([
    ...members.map((m) => ({
      name: m.name,
      mtime: m.mtime,
      data: bytes.subarray(m.dataOffset, m.dataOffset + m.size),
    })),
    { name: '_gpgorigin', mtime: 0, data: Buffer.from('-----BEGIN PGP SIGNATURE-----\n') },
  ]);
  await writeFile(signed, signedBytes);
  await assert.rejects(
    stampDeb(signed, STAMP),
    (e: unknown) => e instanceof WaybillError && e.code === 'UNSUPPORTED',
  );
  assert.ok((await readFile(signed)).equals(signedBytes));

  const truncated = join(dir, 'truncated.deb');
  await writeFile(truncated, bytes.subarray(0, bytes.length - 10));
  await assert.rejects(
    stampDeb(truncated, STAMP),
    (e: unknown) => e instanceof WaybillError && e.code === 'MALFORMED',
  );

  const copy = join(dir, 'copy.deb');
  await writeFile(copy, bytes);
  await assert.rejects(
    stampDeb(copy, { docs: 'https://x\nEvil: 1' }),
    (e: unknown) => e instanceof WaybillError && e.code === 'USAGE',
  );
  assert.ok((await readFile(copy)).equals(bytes));
  assert.deepEqual((await readdir(dir)).sort(), ['copy.deb', 'signed.deb', 'truncated.deb']);
});
