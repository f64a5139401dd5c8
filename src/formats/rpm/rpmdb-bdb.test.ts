import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { WaybillError } from '../../errors.ts';
import { parseRpmHeaderBlob, rpmPackageInfo } from './rpm-header.ts';
import { isBdbHash, readBdbHash } from './rpmdb-bdb.ts';

const RPM = new URL('../../../../shared/fixtures/vectors/os-package-db/rpm/', import.meta.url).pathname;
const LIBUUID = `${RPM}go-rpmdb/libuuid/`;

function packagesOf(buf: Buffer) {
  return readBdbHash(buf)
    .filter((r) => r.value.length > 8)
    .map((r) => rpmPackageInfo(parseRpmHeaderBlob(r.value)));
}

test('libuuid Packages (BDB hash, header spread over 20 overflow pages) matches the upstream expected package', (t) => {
  if (!existsSync(`${LIBUUID}Packages`)) return t.skip(`fixtures absent: ${LIBUUID}`);
  const buf = readFileSync(`${LIBUUID}Packages`);
  assert.equal(isBdbHash(buf), true);
  const [pkg, ...rest] = packagesOf(buf);
  assert.equal(rest.length, 0);
  const expected = JSON.parse(readFileSync(`${LIBUUID}expected-package.json`, 'utf8'));
  assert.deepEqual(
    [
      pkg!.name,
      pkg!.version,
      pkg!.release,
      pkg!.arch,
      pkg!.size,
      pkg!.sourceRpm,
      pkg!.license,
      pkg!.vendor,
      pkg!.summary,
      pkg!.sigmd5,
    ],
    [
      expected.name,
      expected.version,
      expected.release,
      expected.arch,
      expected.size,
      expected.sourceRpm,
      expected.license,
      expected.vendor,
      expected.summary,
      expected.sigmd5,
    ],
  );
});

test('syft Packages fixture (dive 0.9.2-1)', (t) => {
  if (!existsSync(`${RPM}syft/Packages`)) return t.skip('fixtures absent');
  const pkgs = packagesOf(readFileSync(`${RPM}syft/Packages`));
  assert.deepEqual(
    pkgs.map((p) => `${p.name}-${p.version}-${p.release}.${p.arch}`),
    ['dive-0.9.2-1.x86_64'],
  );
});

test('damage: not BDB, bad page size, encrypted → WaybillError; broken overflow chain → reported, skipped', (t) => {
  assert.throws(
    () => readBdbHash(Buffer.alloc(100)),
    (e: unknown) => e instanceof WaybillError && e.code === 'MALFORMED',
  );
  const meta = Buffer.alloc(512);
  meta.writeUInt32LE(0x061561, 12);
  meta.writeUInt32LE(1000, 20);
  assert.throws(() => readBdbHash(meta), /page size/);
  meta.writeUInt32LE(512, 20);
  meta[24] = 1;
  assert.throws(
    () => readBdbHash(meta),
    (e: unknown) => e instanceof WaybillError && e.code === 'UNSUPPORTED',
  );
  if (!existsSync(`${LIBUUID}Packages`)) return t.skip('fixtures absent');
  const b = Buffer.from(readFileSync(`${LIBUUID}Packages`));
  // Page 10 is in the middle of the overflow chain: point its next_pgno back at itself (a loop).
  b.writeUInt32LE(10, 10 * 4096 + 16);
  const bad: string[] = [];
  assert.deepEqual(
    readBdbHash(b, 'Packages', (r) => bad.push(r)).filter((r) => r.value.length > 8),
    [],
  );
  assert.match(bad.join('\n'), /overflow chain/);
});

test('fast-check: random and mutated BDB files never throw anything but WaybillError', () => {
  const check = (b: Buffer) => {
    try {
      for (const r of readBdbHash(b)) {
        try {
          rpmPackageInfo(parseRpmHeaderBlob(r.value));
        } catch (e) {
          if (!(e instanceof WaybillError)) throw e;
        }
      }
    } catch (e) {
      if (!(e instanceof WaybillError)) throw e;
    }
  };
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 3 * 512 }), fc.boolean(), (a, plausible) => {
      const b = Buffer.from(a);
      if (plausible && b.length >= 72) {
        b.writeUInt32LE(0x061561, 12);
        b.writeUInt32LE(512, 20);
        b[24] = 0;
        b.writeUInt32LE(5, 32);
      }
      check(b);
    }),
    { numRuns: 500 },
  );
  if (!existsSync(`${LIBUUID}Packages`)) return;
  const real = readFileSync(`${LIBUUID}Packages`);
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(22), fc.nat(4095), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 12,
      }),
      (edits) => {
        const b = Buffer.from(real);
        // Mostly page headers and hash-page items, where the walker's decisions are made.
        for (const [page, at, v] of edits) b[page * 4096 + (page % 2 ? at % 64 : at)] = v;
        check(b);
      },
    ),
    { numRuns: 200 },
  );
});
