import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { WaybillError } from '../../errors.ts';
import { parseRpmHeaderBlob, rpmPackageInfo } from './rpm-header.ts';
import { isNdb, readNdbBlobs } from './rpmdb-ndb.ts';

const DIR = new URL(
  '../../../../shared/fixtures/vectors/os-package-db/rpm/go-rpmdb/sle15-bci/',
  import.meta.url,
).pathname;

test('SLE 15 BCI Packages.db: 35 packages equal to the upstream expected list (name, version, release, arch, sigmd5)', (t) => {
  if (!existsSync(`${DIR}Packages.db`)) return t.skip(`fixtures absent: ${DIR}`);
  const buf = readFileSync(`${DIR}Packages.db`);
  assert.equal(isNdb(buf), true);
  const bad: string[] = [];
  const blobs = readNdbBlobs(buf, 'Packages.db', (r) => bad.push(r));
  assert.deepEqual(bad, []);
  const got = blobs
    .map((b) => rpmPackageInfo(parseRpmHeaderBlob(b.blob)))
    .map((i) => [i.name, i.version, i.release, i.arch, i.sigmd5, i.license, i.sourceRpm].join(' '));
  const expected = (
    JSON.parse(readFileSync(`${DIR}expected-packages.json`, 'utf8')) as Array<Record<string, string>>
  ).map((e) => [e.name, e.version, e.release, e.arch, e.sigmd5, e.license, e.sourceRpm].join(' '));
  assert.equal(got.length, 35);
  assert.deepEqual([...got].sort(), [...expected].sort());
});

test('structural damage: bad magic, version, slot count → WaybillError; bad slot → reported, skipped', () => {
  assert.throws(
    () => readNdbBlobs(Buffer.alloc(10)),
    (e: unknown) => e instanceof WaybillError && e.code === 'MALFORMED',
  );
  const b = Buffer.alloc(4096);
  b.write('RpmP', 0, 'latin1');
  b.writeUInt32LE(1, 4);
  assert.throws(
    () => readNdbBlobs(b),
    (e: unknown) => e instanceof WaybillError && e.code === 'UNSUPPORTED',
  );
  b.writeUInt32LE(0, 4);
  b.writeUInt32LE(0, 12);
  assert.throws(() => readNdbBlobs(b), /slot page count/);
  b.writeUInt32LE(1, 12);
  for (let at = 32; at < 4096; at += 16) b.write('Slot', at, 'latin1');
  b.writeUInt32LE(1, 36); // package 1
  b.writeUInt32LE(9999, 40); // blob far outside the file
  b.writeUInt32LE(1, 44);
  const bad: string[] = [];
  assert.deepEqual(
    readNdbBlobs(b, 'x', (r) => bad.push(r)),
    [],
  );
  assert.match(bad[0]!, /outside the file/);
});

test('fast-check: random and mutated NDB files never throw anything but WaybillError', () => {
  const check = (b: Buffer) => {
    try {
      for (const { blob } of readNdbBlobs(b)) {
        try {
          rpmPackageInfo(parseRpmHeaderBlob(blob));
        } catch (e) {
          if (!(e instanceof WaybillError)) throw e;
        }
      }
    } catch (e) {
      if (!(e instanceof WaybillError)) throw e;
    }
  };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), fc.boolean(), (a, magic) => {
      const b = Buffer.from(a);
      if (magic && b.length >= 16) {
        b.write('RpmP', 0, 'latin1');
        b.writeUInt32LE(0, 4);
        b.writeUInt32LE(1, 12);
      }
      check(b);
    }),
    { numRuns: 500 },
  );
  if (!existsSync(`${DIR}Packages.db`)) return;
  // The slot page and the first blobs: mutate where the structure lives.
  const real = readFileSync(`${DIR}Packages.db`).subarray(0, 64 * 1024);
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(8191), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 16 }),
      (edits) => {
        const b = Buffer.from(real);
        for (const [at, v] of edits) b[at] = v;
        check(b);
      },
    ),
    { numRuns: 150 },
  );
});
