import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { buildPackages, reference } from '../../../test/fixtures/build-packages.ts';
import { expectError } from '../../../test/helpers/assertions.ts';
import { WaybillError } from '../../errors.ts';
import { findContainerWalker } from '../../sources/container-walkers.ts';
import { RpmTag } from './rpm-header.ts';
import { parseRpmPackageBuffer, readRpmPackage, rpmEvr, rpmFormat, walkRpmPayload } from './rpm-package.ts';

const fixtures = await buildPackages({ skopeo: false });
const rpms = Object.entries(fixtures.rpm) as Array<[string, string]>;
const tmp = await mkdtemp(join(tmpdir(), 'waybill-rpm-test-'));
after(() => rm(tmp, { recursive: true, force: true }));

const QUERY =
  '%{NAME}|%{EPOCH}|%{VERSION}|%{RELEASE}|%{ARCH}|%{BUILDTIME}|%{VENDOR}|%{PACKAGER}|%{URL}|%{BUGURL}|%{LICENSE}|%{SOURCERPM}|%{SUMMARY}';

test('facts equal rpm -qp --queryformat, for gzip, xz and zstd payloads', async (t) => {
  if (rpms.length === 0) return t.skip(fixtures.rpmSkip ?? 'no rpm fixtures');
  for (const [label, rpm] of rpms) {
    const expected = await reference('rpm', ['-qp', '--queryformat', QUERY, rpm]);
    const facts = await rpmFormat.readFacts(rpm);
    const text = (field: string) =>
      facts.texts.find((x) => x.field === `rpm ${field} tag`)?.value ?? '(none)';
    const ours = [
      facts.name?.value,
      text('Epoch'),
      facts.version?.value,
      text('Release'),
      facts.architectures[0]?.value,
      String(Date.parse(facts.created?.value ?? '') / 1000),
      text('Vendor'),
      text('Packager'),
      facts.docs?.value,
      facts.bugTracker?.value,
      facts.license?.value,
      text('SourceRPM'),
      text('Summary'),
    ].join('|');
    assert.equal(ours, expected, label);
    assert.equal(facts.format, 'rpm');
    assert.equal(facts.version?.field, 'rpm Version tag');
    assert.equal(facts.team?.value, text('Packager'));
    assert.equal(
      rpmEvr((await readRpmPackage(rpm)).header),
      await reference('rpm', ['-qp', '--qf', '%{EVR}', rpm]),
    );
    assert.equal(text('Description'), await reference('rpm', ['-qp', '--qf', '%{DESCRIPTION}', rpm]));
  }
});

test('no stamp: rpm headers are signed, the sidecar carries the facts', () => {
  assert.equal(rpmFormat.stamp, undefined);
});

test('the payload walker sees what rpm -qpl lists, hard links included', async (t) => {
  if (rpms.length === 0) return t.skip(fixtures.rpmSkip ?? 'no rpm fixtures');
  for (const [label, rpm] of rpms) {
    const head = (await readFile(rpm)).subarray(0, 8192);
    assert.equal(findContainerWalker(head, rpm)?.name, 'rpm', label);
    assert.equal(rpmFormat.detect(head, rpm), true);
    let progress = 0;
    const result = await walkRpmPayload(
      rpm,
      { want: () => true },
      { onProgress: (done) => (progress = done) },
    );
    const listed = (await reference('rpm', ['-qpl', rpm]))
      .trim()
      .split('\n')
      .map((p) => p.slice(1));
    assert.deepEqual(
      result.files.map((f) => f.entry.path),
      [...listed].sort(),
      label,
    );
    const byPath = new Map(result.files.map((f) => [f.entry.path, f]));
    assert.equal(byPath.get('usr/bin/waybill-demo')?.data.toString(), '#!/bin/sh\necho hi\n');
    assert.equal(byPath.get('usr/bin/wd')?.entry.linkTarget, 'waybill-demo');
    assert.equal(byPath.get('usr/share/doc/waybill-demo/README')?.data.toString(), 'readme\n');
    assert.equal(byPath.get('usr/share/doc/waybill-demo/README.hard')?.data.toString(), 'readme\n');
    const pkg = await readRpmPackage(rpm);
    assert.equal(progress, pkg.size - pkg.payloadOffset, `${label}: progress covers the payload`);
  }
  // Only what the filter wants is kept; a hard-link alias alone is enough to read the content.
  const only = await walkRpmPayload(rpms[0]?.[1] as string, { want: (e) => e.path.endsWith('README') });
  assert.deepEqual(
    only.files.map((f) => [f.entry.path, f.data.toString()]),
    [['usr/share/doc/waybill-demo/README', 'readme\n']],
  );
  const big = await walkRpmPayload(rpms[0]?.[1] as string, { want: () => true }, { maxFileSize: 8 });
  assert.ok(big.skipped.some((s) => s.path === 'usr/bin/waybill-demo'));
});

test('an .rpm opened as file: is walked through its payload', async (t) => {
  const rpm = fixtures.rpm.noarchXz;
  if (!rpm) return t.skip(fixtures.rpmSkip ?? 'no rpm fixture');
  const { openFile } = await import('../../sources/file.ts');
  const result = await (await openFile(`file:${rpm}`, rpm)).walk({
    want: (e) => e.path.startsWith('usr/bin/'),
  });
  assert.deepEqual(
    result.files.map((f) => f.entry.path),
    ['usr/bin/waybill-demo', 'usr/bin/wd'],
  );
});

test('hostile: a header index entry pointing past the data store is MALFORMED', async (t) => {
  const rpm = fixtures.rpm.noarchGzip;
  if (!rpm) return t.skip(fixtures.rpmSkip ?? 'no rpm fixture');
  const bytes = await readFile(rpm);
  const pkg = await parseRpmPackageBuffer(bytes, rpm);
  assert.equal(pkg.lead.major, 3);
  // Find the main header: the second header magic after the lead.
  const sigIl = bytes.readUInt32BE(96 + 8);
  const sigDl = bytes.readUInt32BE(96 + 12);
  let main = 96 + 16 + sigIl * 16 + sigDl;
  main += (8 - (main % 8)) % 8;
  const il = bytes.readUInt32BE(main + 8);
  const dl = bytes.readUInt32BE(main + 12);
  // Point the NAME entry's offset past the data store.
  let mutatedOne = false;
  for (let i = 0; i < il; i++) {
    const at = main + 16 + i * 16;
    if (bytes.readUInt32BE(at) === RpmTag.NAME) {
      const mutated = Buffer.from(bytes);
      mutated.writeInt32BE(dl + 100, at + 8);
      const path = join(tmp, 'past.rpm');
      await writeFile(path, mutated);
      await expectError(
        rpmFormat.readFacts(path),
        'MALFORMED',
        /main header.*tag 1000: offset \d+ past data/,
      );
      // rpm itself refuses it too.
      await assert.rejects(reference('rpm', ['-qp', path]));
      mutatedOne = true;
    }
  }
  assert.ok(mutatedOne, 'the main header has a NAME entry');
  const truncated = join(tmp, 'truncated.rpm');
  await writeFile(truncated, bytes.subarray(0, main + 100));
  await expectError(rpmFormat.readFacts(truncated), 'MALFORMED', /main header needs \d+ bytes/);
  const noLead = join(tmp, 'nolead.rpm');
  await writeFile(noLead, bytes.subarray(0, 50));
  await expectError(rpmFormat.readFacts(noLead), 'MALFORMED', /lead/);
  const cutPayload = join(tmp, 'cutpayload.rpm');
  await writeFile(cutPayload, bytes.subarray(0, bytes.length - 200));
  await rpmFormat.readFacts(cutPayload); // headers intact
  await expectError(walkRpmPayload(cutPayload, { want: () => true }), 'MALFORMED', /payload/);
});

test('hostile: a payload whose compressor tag lies is MALFORMED', async (t) => {
  const gz = fixtures.rpm.noarchGzip;
  if (!gz) return t.skip(fixtures.rpmSkip ?? 'no rpm fixture');
  const bytes = Buffer.from(await readFile(gz));
  const at = bytes.indexOf('gzip\0', 96, 'latin1');
  bytes.write('zstd', at, 'latin1');
  const path = join(tmp, 'lying.rpm');
  await writeFile(path, bytes);
  await expectError(walkRpmPayload(path, { want: () => true }), 'MALFORMED', /not zstd data/);
});

test('property: mutated real rpms never throw anything but WaybillError', async (t) => {
  const rpm = fixtures.rpm.noarchGzip;
  if (!rpm) return t.skip(fixtures.rpmSkip ?? 'no rpm fixture');
  const original = await readFile(rpm);
  const path = join(tmp, 'fuzz.rpm');
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.nat(original.length - 1), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 6,
      }),
      fc.nat(original.length),
      async (edits, cut) => {
        const bytes = Buffer.from(original.subarray(0, Math.max(cut, original.length >> 1)));
        for (const [at, value] of edits) if (at < bytes.length) bytes[at] = value;
        try {
          await parseRpmPackageBuffer(bytes, 'fuzz');
        } catch (e) {
          if (!(e instanceof WaybillError)) throw e;
        }
        await writeFile(path, bytes);
        try {
          await rpmFormat.readFacts(path);
          await walkRpmPayload(path, { want: () => true });
        } catch (e) {
          if (!(e instanceof WaybillError)) throw e;
        }
      },
    ),
    { numRuns: 150 },
  );
});

test('property: random bytes after a lead never throw anything but WaybillError', async () => {
  const lead = Buffer.alloc(96);
  Buffer.from([0xed, 0xab, 0xee, 0xdb, 3, 0]).copy(lead);
  lead.writeUInt16BE(5, 78);
  const magic = Buffer.from([0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0]);
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (tail) => {
      try {
        await parseRpmPackageBuffer(Buffer.concat([lead, magic, Buffer.from(tail)]), 'fuzz');
      } catch (e) {
        if (!(e instanceof WaybillError)) throw e;
      }
    }),
    { numRuns: 300 },
  );
});
