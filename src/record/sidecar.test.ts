import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { WaybillError } from '../errors.ts';
import { buildRecord, serializeRecord } from './build.ts';
import { sampleRecordInput } from './sample-input.ts';
import { readSidecar, sidecarPath, writeSidecar } from './sidecar.ts';
import type { ReleaseRecord } from './types.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waybill-sidecar-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('sidecarPath names NAME.waybill.json next to the artifact', () => {
  assert.equal(sidecarPath('dist/app_1.0_amd64.deb'), join('dist', 'app_1.0_amd64.deb.waybill.json'));
  assert.equal(sidecarPath('/srv/rel/image-layout/'), '/srv/rel/image-layout.waybill.json');
  assert.equal(sidecarPath('app.tar.gz'), 'app.tar.gz.waybill.json');
  assert.throws(() => sidecarPath('/'), WaybillError);
});

test('write then read gives the same record and canonical bytes; absent → undefined', async () => {
  const artifact = join(dir, 'hello_1.2.3_amd64.deb');
  await writeFile(artifact, 'not really a deb');
  assert.equal(await readSidecar(artifact), undefined);
  const record = buildRecord(sampleRecordInput());
  const written = await writeSidecar(artifact, record);
  assert.equal(written, `${artifact}.waybill.json`);
  assert.equal(await readFile(written, 'utf8'), serializeRecord(record));
  assert.deepEqual(await readSidecar(artifact), record);
  assert.deepEqual((await readdir(dir)).sort(), [
    'hello_1.2.3_amd64.deb',
    'hello_1.2.3_amd64.deb.waybill.json',
  ]);
});

test('a broken sidecar is MALFORMED', async () => {
  const artifact = join(dir, 'broken.tar');
  for (const [content, reason] of [
    ['{"_type": "https://in-toto.io/Statement/v1"', /not valid JSON/],
    ['{"_type": "https://in-toto.io/Statement/v1", "subject": []}', /\/subject: must be a non-empty array/],
    [Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), /not valid UTF-8/],
  ] as const) {
    await writeFile(sidecarPath(artifact), content);
    await assert.rejects(readSidecar(artifact), (e: unknown) => {
      assert.ok(e instanceof WaybillError);
      assert.equal(e.code, 'MALFORMED');
      assert.match(e.message, reason);
      assert.ok(e.message.startsWith(sidecarPath(artifact)));
      return true;
    });
  }
});

test('atomic write: a failed rename leaves no temp file and the old content intact', async () => {
  const sub = join(dir, 'atomic');
  await mkdir(sub);
  const artifact = join(sub, 'app.bin');
  // A non-empty directory where the sidecar should go: the final rename must fail.
  await mkdir(sidecarPath(artifact));
  await writeFile(join(sidecarPath(artifact), 'keep'), 'x');
  await assert.rejects(writeSidecar(artifact, buildRecord(sampleRecordInput())), WaybillError);
  assert.deepEqual(await readdir(sub), ['app.bin.waybill.json']);
  assert.deepEqual(await readdir(sidecarPath(artifact)), ['keep']);
  // Reading a directory where a sidecar should be is MALFORMED, not a crash.
  await assert.rejects(
    readSidecar(artifact),
    (e: unknown) => e instanceof WaybillError && e.code === 'MALFORMED',
  );
});

test('an invalid record is never written', async () => {
  const artifact = join(dir, 'invalid.bin');
  const record = buildRecord(sampleRecordInput());
  const bad = { ...record, subject: [] } as ReleaseRecord;
  await assert.rejects(writeSidecar(artifact, bad), /refusing to write an invalid record: \/subject/);
  assert.equal(await readSidecar(artifact), undefined);
});
