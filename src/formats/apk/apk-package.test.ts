import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { type ApkSpec, apkToolsMissing, buildApk } from '../../../test/fixtures/build-apk.ts';
import { run } from '../../../test/helpers/exec-fixtures.ts';
import { WaybillError } from '../../errors.ts';
import { findContainerWalker } from '../../sources/container-walkers.ts';
import { detectNativeFormat } from '../registry.ts';
import { apkFormat, looksLikeApk } from './apk-package.ts';

const SPEC: ApkSpec = {
  pkginfo: [
    ['pkgname', 'waybill-demo'],
    ['pkgver', '1.2.3-r0'],
    ['pkgdesc', 'A demo package'],
    ['url', 'https://example.org/demo'],
    ['builddate', '1700000000'],
    ['packager', 'Builder <build@example.org>'],
    ['arch', 'x86_64'],
    ['origin', 'waybill-demo-src'],
    ['maintainer', 'Jane Doe <jane@example.org>'],
    ['license', 'MIT'],
    ['depend', 'so:libc.musl-x86_64.so.1'],
  ],
  files: {
    'usr/bin/demo': '#!/bin/sh\necho demo\n',
    'usr/lib/python3.12/site-packages/demo_lib-0.4.0.dist-info/METADATA':
      'Metadata-Version: 2.1\nName: demo-lib\nVersion: 0.4.0\n',
  },
};

let tmp: string;
let signed: string;
let skip: string | undefined;

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'waybill-apk-test-'));
  skip = await apkToolsMissing();
  if (!skip) signed = await buildApk(tmp, 'waybill-demo-1.2.3-r0', SPEC);
});
after(() => rm(tmp, { recursive: true, force: true }));

test('a constructed apk: detected, facts from .PKGINFO', async (t) => {
  if (skip) return t.skip(skip);
  assert.equal((await detectNativeFormat(signed))?.name, 'apk');
  const facts = await apkFormat.readFacts(signed);
  assert.equal(facts.format, 'apk');
  assert.equal(facts.hasIdentityFields, true);
  assert.deepEqual(
    [facts.name?.value, facts.version?.value, facts.architectures.map((a) => a.value)],
    ['waybill-demo', '1.2.3-r0', ['x86_64']],
  );
  assert.equal(facts.name?.field, 'apk .PKGINFO pkgname');
  assert.equal(facts.created?.value, '2023-11-14T22:13:20Z');
  assert.equal(facts.team?.value, 'Jane Doe <jane@example.org>');
  assert.equal(facts.license?.value, 'MIT');
  assert.equal(facts.docs?.value, 'https://example.org/demo');
  assert.ok(facts.texts.some((f) => f.field === 'apk .PKGINFO origin' && f.value === 'waybill-demo-src'));
  assert.equal(apkFormat.stamp, undefined, 'signed: never rewritten');
});

test('detection: a signed apk by its .SIGN entry whatever its name; an unsigned one only as .apk', async (t) => {
  if (skip) return t.skip(skip);
  const head = (await readFile(signed)).subarray(0, 8192);
  assert.equal(looksLikeApk(head, join(tmp, 'renamed.bin')), true);
  const unsigned = await buildApk(tmp, 'unsigned', { ...SPEC, sign: false });
  const uhead = (await readFile(unsigned)).subarray(0, 8192);
  assert.equal(looksLikeApk(uhead, unsigned), true);
  assert.equal(looksLikeApk(uhead, join(tmp, 'pacman.pkg.tar.gz')), false);
  assert.equal((await apkFormat.readFacts(unsigned)).name?.value, 'waybill-demo');
});

test('the walker sees what GNU tar lists, without the signature and control entries', async (t) => {
  if (skip) return t.skip(skip);
  // GNU tar reads the three gzip streams as one archive: the reference listing.
  const listed = (await run('tar', ['-tzf', signed])).split('\n').filter(Boolean);
  assert.ok(listed[0]?.startsWith('.SIGN.RSA.'), listed.join(' '));
  assert.equal(listed[1], '.PKGINFO');
  const head = (await readFile(signed)).subarray(0, 8192);
  const walker = findContainerWalker(head, signed);
  assert.equal(walker?.name, 'apk');
  const result = await walker!.walk(signed, { want: () => true });
  const walked = result.files.map((f) => f.entry.path).sort();
  const expected = listed
    .filter((p) => !p.startsWith('.'))
    .map((p) => p.replace(/\/$/, ''))
    .sort();
  for (const p of walked) assert.ok(expected.includes(p), `${p} is not in the data tarball`);
  for (const p of Object.keys(SPEC.files)) assert.ok(walked.includes(p), `${p} in ${walked.join(' ')}`);
  assert.ok(!walked.some((p) => p.startsWith('.')), walked.join(' '));
});

test('truncated and hostile apks fail with one WaybillError naming the file', async (t) => {
  if (skip) return t.skip(skip);
  const bytes = await readFile(signed);
  const cases: Array<[string, Buffer]> = [
    ['truncated.apk', bytes.subarray(0, 300)],
    ['no-pkginfo.apk', bytes.subarray(0, bytes.indexOf(Buffer.from([0x1f, 0x8b]), 10))],
  ];
  const bad = await buildApk(tmp, 'bad-date', {
    ...SPEC,
    pkginfo: [...SPEC.pkginfo.filter(([k]) => k !== 'builddate'), ['builddate', 'yesterday']],
  });
  const noName = await buildApk(tmp, 'no-name', {
    ...SPEC,
    pkginfo: SPEC.pkginfo.filter(([k]) => k !== 'pkgname'),
  });
  const paths = [bad, noName];
  for (const [name, data] of cases) {
    const p = join(tmp, name);
    await writeFile(p, data);
    paths.push(p);
  }
  for (const p of paths) {
    await assert.rejects(apkFormat.readFacts(p), (e: unknown) => {
      assert.ok(e instanceof WaybillError, `${p}: ${String(e)}`);
      assert.ok(e.message.includes(p), e.message);
      assert.ok(!e.message.includes('\n'), e.message);
      return true;
    });
  }
});

/** The gzip members of a file: it ends one wherever the bytes so far gunzip whole. */
function gzipMembers(bytes: Buffer): Buffer[] {
  const members: Buffer[] = [];
  let start = 0;
  for (let at = bytes.indexOf(GZIP_MAGIC, 1); at !== -1; at = bytes.indexOf(GZIP_MAGIC, at + 1)) {
    try {
      gunzipSync(bytes.subarray(start, at));
    } catch {
      continue;
    }
    members.push(bytes.subarray(start, at));
    start = at;
  }
  members.push(bytes.subarray(start));
  return members;
}
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b, 0x08]);

test('the constructed fixture is a valid apk v2: the signature verifies over the control stream, datahash is the data stream', async (t) => {
  if (skip) return t.skip(skip);
  const members = gzipMembers(await readFile(signed));
  assert.equal(members.length, 3);
  const [sig, control, data] = members as [Buffer, Buffer, Buffer];
  const sigTar = gunzipSync(sig);
  assert.match(sigTar.toString('latin1', 0, 100), /^\.SIGN\.RSA\./);
  const signature = sigTar.subarray(512, 512 + Number.parseInt(sigTar.toString('latin1', 124, 136), 8));
  const key = createPublicKey(await readFile(join(tmp, 'waybill-demo-1.2.3-r0.build', 'key.pem')));
  assert.ok(verify('sha1', control, key, signature), 'RSA SHA-1 signature of the control stream');
  const pkginfo = gunzipSync(control).toString('utf8');
  const datahash = /^datahash = ([0-9a-f]{64})$/m.exec(pkginfo)?.[1];
  assert.equal(datahash, createHash('sha256').update(data).digest('hex'));
});
