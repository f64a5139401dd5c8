import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import fc from 'fast-check';
import { buildPackages, reference } from '../../test/fixtures/build-packages.ts';
import { expectError } from '../../test/helpers/assertions.ts';
import { WaybillError } from '../errors.ts';
import { arBuffer, arHeader, bufferSource, indexAr, indexArFile } from './ar.ts';

const fixtures = await buildPackages({ skopeo: false });

test('indexes dpkg-deb built packages like ar(1) lists them', async (t) => {
  const debs = Object.values(fixtures.deb);
  if (debs.length === 0) return t.skip(fixtures.debSkip ?? 'no deb fixtures');
  for (const deb of debs) {
    const members = await indexArFile(deb as string);
    // `ar tv` prints mode, uid/gid, size, date, name.
    const listed = (await reference('ar', ['tv', deb as string])).trim().split('\n');
    assert.equal(members.length, listed.length);
    for (const [i, m] of members.entries()) {
      const fields = (listed[i] as string).trim().split(/\s+/);
      assert.equal(m.name, fields.at(-1));
      assert.equal(m.size, Number(fields[2]));
      assert.equal(`${m.uid}/${m.gid}`, fields[1]);
      assert.equal(m.mode, 0o100644);
    }
    assert.deepEqual(
      members.map((m) => m.name.replace(/\..*$/, '')),
      ['debian-binary', 'control', 'data'],
    );
  }
});

test('the writer reproduces a dpkg-deb archive byte for byte', async (t) => {
  const deb = fixtures.deb.gzip;
  if (!deb) return t.skip(fixtures.debSkip ?? 'no deb fixture');
  const original = await readFile(deb);
  const members = await indexAr(bufferSource(original), deb);
  const rebuilt = await arBuffer(
    members.map((m) => ({
      name: m.name,
      mtime: m.mtime,
      data: original.subarray(m.dataOffset, m.dataOffset + m.size),
    })),
  );
  assert.ok(rebuilt.equals(original));
  // The same, streaming members from the file by range.
  const streamed = await arBuffer(
    members.map((m) => ({
      name: m.name,
      mtime: m.mtime,
      data: { path: deb, offset: m.dataOffset, size: m.size },
    })),
  );
  assert.ok(streamed.equals(original));
});

test('odd-sized members are padded and GNU and BSD names are read', async () => {
  const gnu = Buffer.concat([
    Buffer.from('!<arch>\n'),
    Buffer.from(
      `${'//'.padEnd(16)}${'0'.padEnd(12)}${''.padEnd(6)}${''.padEnd(6)}${''.padEnd(8)}${'24'.padEnd(10)}\`\n`,
    ),
    Buffer.from('a-very-long-member-nam/\n'),
    Buffer.from(
      `${'/0'.padEnd(16)}${'7'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${'3'.padEnd(10)}\`\n`,
    ),
    Buffer.from('abc\n'),
    Buffer.from(
      `${'#1/5'.padEnd(16)}${'9'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${'7'.padEnd(10)}\`\n`,
    ),
    Buffer.from('bsdnmxy\n'),
    Buffer.from(
      `${'short/'.padEnd(16)}${'9'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${'1'.padEnd(10)}\`\n`,
    ),
    Buffer.from('z\n'),
  ]);
  const members = await indexAr(bufferSource(gnu), 'gnu.a');
  assert.deepEqual(
    members.map((m) => [m.name, m.size]),
    [
      ['a-very-long-member-nam', 3],
      ['bsdnm', 2],
      ['short', 1],
    ],
  );
  const bsd = members[1];
  assert.equal(gnu.toString('latin1', bsd?.dataOffset, (bsd?.dataOffset ?? 0) + 2), 'xy');
});

test('a truncated member is MALFORMED naming the archive and the member', async (t) => {
  const deb = fixtures.deb.none;
  if (!deb) return t.skip(fixtures.debSkip ?? 'no deb fixture');
  const original = await readFile(deb);
  const error = await expectError(
    indexAr(bufferSource(original.subarray(0, original.length - 100)), deb),
    'MALFORMED',
  );
  assert.match(error.message, /truncated ar member "data\.tar"/);
  assert.ok(error.message.startsWith(deb));
  await expectError(
    indexAr(bufferSource(original.subarray(0, 50)), deb),
    'MALFORMED',
    /truncated ar member header/,
  );
  await expectError(indexAr(bufferSource(Buffer.from('!<arc>\n')), 'x'), 'MALFORMED', /magic/);
  const badSize = Buffer.from(original);
  badSize.write('12x4      ', 8 + 48, 'latin1');
  await expectError(indexAr(bufferSource(badSize), deb), 'MALFORMED', /bad size field/);
});

test('header writer refuses names and sizes dpkg could not read', () => {
  assert.throws(() => arHeader('has space', 0, 1), WaybillError);
  assert.throws(() => arHeader('x/y', 0, 1), WaybillError);
  assert.throws(() => arHeader('x', 0, 1e10), WaybillError);
  assert.equal(arHeader('debian-binary', 1700000000, 4).length, 60);
});

function onlyWaybillErrors(bytes: Uint8Array): Promise<boolean> {
  return indexAr(bufferSource(Buffer.from(bytes)), 'fuzz').then(
    () => true,
    (e) => {
      if (!(e instanceof WaybillError)) throw e;
      return true;
    },
  );
}

test('property: random bytes after the magic give members or a WaybillError', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), (tail) =>
      onlyWaybillErrors(Buffer.concat([Buffer.from('!<arch>\n'), tail])),
    ),
    { numRuns: 300 },
  );
});

test('property: mutated real packages give members or a WaybillError', async (t) => {
  const deb = fixtures.deb.gzip;
  if (!deb) return t.skip(fixtures.debSkip ?? 'no deb fixture');
  const original = await readFile(deb);
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.nat(original.length - 1), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 8,
      }),
      fc.nat(original.length),
      async (edits, cut) => {
        const bytes = Buffer.from(original.subarray(0, Math.max(cut, 8)));
        for (const [at, value] of edits) if (at < bytes.length) bytes[at] = value;
        return onlyWaybillErrors(bytes);
      },
    ),
    { numRuns: 300 },
  );
});
