import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { WaybillError } from '../../errors.ts';
import {
  headerString,
  parseRpmHeaderBlob,
  parseRpmHeaderWithMagic,
  RPM_HEADER_MAGIC,
  RpmTag,
  rpmPackageInfo,
} from './rpm-header.ts';
import { readSqliteBlobs } from './rpmdb-sqlite.ts';

const SQLITE = new URL(
  '../../../../shared/fixtures/vectors/os-package-db/rpm/go-rpmdb/cbl-mariner-2.0/rpmdb.sqlite',
  import.meta.url,
).pathname;

/** Build a header blob (il/dl form) from entries: [tag, type, count, data bytes]. */
function buildBlob(entries: Array<[number, number, number, Buffer]>): Buffer {
  const index: Buffer[] = [];
  const data: Buffer[] = [];
  let off = 0;
  for (const [tag, type, count, bytes] of entries) {
    const align = type === 4 ? 4 : type === 3 ? 2 : type === 5 ? 8 : 1;
    const pad = (align - (off % align)) % align;
    if (pad) data.push(Buffer.alloc(pad));
    off += pad;
    const e = Buffer.alloc(16);
    e.writeUInt32BE(tag, 0);
    e.writeUInt32BE(type, 4);
    e.writeInt32BE(off, 8);
    e.writeUInt32BE(count, 12);
    index.push(e);
    data.push(bytes);
    off += bytes.length;
  }
  const intro = Buffer.alloc(8);
  intro.writeUInt32BE(entries.length, 0);
  intro.writeUInt32BE(off, 4);
  return Buffer.concat([intro, ...index, ...data]);
}
const str = (s: string) => Buffer.from(`${s}\0`);
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

test('hand-built header: types decoded, package info, epoch', () => {
  const blob = buildBlob([
    [RpmTag.NAME, 6, 1, str('curl')],
    [RpmTag.VERSION, 6, 1, str('8.0')],
    [RpmTag.RELEASE, 6, 1, str('1.fc39')],
    [RpmTag.EPOCH, 4, 1, u32(2)],
    [RpmTag.SUMMARY, 9, 2, Buffer.concat([str('a tool'), str('ein Werkzeug')])],
    [RpmTag.DIRNAMES, 8, 1, str('/usr/bin/')],
    [RpmTag.BASENAMES, 8, 2, Buffer.concat([str('curl'), str('curl-config')])],
    [RpmTag.DIRINDEXES, 4, 2, Buffer.concat([u32(0), u32(0)])],
  ]);
  const info = rpmPackageInfo(parseRpmHeaderBlob(blob));
  assert.equal(info.name, 'curl');
  assert.equal(info.epoch, 2);
  assert.equal(info.summary, 'a tool');
  assert.deepEqual(info.files, ['/usr/bin/curl', '/usr/bin/curl-config']);
});

test('bounds: offset past data, value past data, bad counts, unknown type → WaybillError MALFORMED', () => {
  const good = buildBlob([[RpmTag.NAME, 6, 1, str('x')]]);
  const cases: Array<[string, (b: Buffer) => void]> = [
    ['offset past data', (b) => b.writeInt32BE(100, 16)],
    ['negative offset', (b) => b.writeInt32BE(-4, 16)],
    ['index count 0', (b) => b.writeUInt32BE(0, 0)],
    ['data length past blob', (b) => b.writeUInt32BE(1000, 4)],
    ['unknown type', (b) => b.writeUInt32BE(99, 12)],
    ['string count 2', (b) => b.writeUInt32BE(2, 20)],
    [
      'int32 array past data',
      (b) => {
        b.writeUInt32BE(4, 12);
        b.writeUInt32BE(50, 20);
      },
    ],
  ];
  for (const [what, mutate] of cases) {
    const b = Buffer.from(good);
    mutate(b);
    assert.throws(
      () => parseRpmHeaderBlob(b, 'h'),
      (e: unknown) => e instanceof WaybillError && e.code === 'MALFORMED',
      what,
    );
  }
  const unterminated = buildBlob([[RpmTag.NAME, 6, 1, Buffer.from('abc')]]);
  assert.throws(() => parseRpmHeaderBlob(unterminated), /unterminated/);
  assert.throws(
    () => rpmPackageInfo(parseRpmHeaderBlob(buildBlob([[RpmTag.NAME, 6, 1, str('x')]]))),
    /VERSION or RELEASE/,
  );
  // Wrong type for NAME (an INT32) is not a string: the accessor refuses it.
  assert.equal(
    headerString(parseRpmHeaderBlob(buildBlob([[RpmTag.NAME, 4, 1, u32(5)]])), RpmTag.NAME),
    undefined,
  );
});

test('real .rpm built with rpmbuild: signature + main header with magic, same answers as rpm -qp', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'waybill-rpmh-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'p.spec'),
    [
      'Name: waybill-probe',
      'Version: 1.2.3',
      'Release: 4',
      'Epoch: 7',
      'Summary: probe package',
      'License: MIT AND Apache-2.0',
      'Vendor: Waybill Tests',
      'URL: https://example.org/probe',
      'BuildArch: noarch',
      '%description',
      'A probe.',
      '%install',
      'mkdir -p %{buildroot}/usr/share/probe',
      'echo hi > %{buildroot}/usr/share/probe/hello.txt',
      '%files',
      '/usr/share/probe/hello.txt',
    ].join('\n'),
  );
  try {
    execFileSync(
      'rpmbuild',
      ['--define', `_topdir ${dir}/top`, '--define', '_build_id_links none', '-bb', join(dir, 'p.spec')],
      {
        stdio: 'ignore',
      },
    );
  } catch {
    return t.skip('rpmbuild not usable here');
  }
  const rpmDir = join(dir, 'top/RPMS/noarch');
  const file = join(rpmDir, readdirSync(rpmDir)[0]!);
  const buf = readFileSync(file);
  // Lead is 96 bytes (format.md); the signature header is padded to 8 bytes before the main header.
  const sig = parseRpmHeaderWithMagic(buf, 96, file);
  const main = parseRpmHeaderWithMagic(buf, sig.end + ((8 - (sig.end % 8)) % 8), file);
  const info = rpmPackageInfo(main.header, file);
  const q = execFileSync('rpm', [
    '-qp',
    '--queryformat',
    '%{NAME}|%{EPOCHNUM}|%{VERSION}|%{RELEASE}|%{ARCH}|%{LICENSE}|%{VENDOR}|%{URL}|%{SOURCERPM}|%{BUILDTIME}',
    file,
  ])
    .toString()
    .split('|');
  assert.deepEqual(
    [
      info.name,
      String(info.epoch ?? 0),
      info.version,
      info.release,
      info.arch,
      info.license,
      info.vendor,
      info.url,
      info.sourceRpm,
      String(info.buildTime),
    ],
    q,
  );
  assert.deepEqual(info.files, ['/usr/share/probe/hello.txt']);
  assert.throws(() => parseRpmHeaderWithMagic(buf, 0, file), /bad header magic/);
  assert.throws(() => parseRpmHeaderWithMagic(buf, buf.length - 4, file), WaybillError);
});

function onlyWaybillErrors(run: () => unknown): void {
  try {
    run();
  } catch (e) {
    if (!(e instanceof WaybillError)) throw e;
  }
}

test('fast-check: random bytes and mutated real headers never throw anything but WaybillError', () => {
  const parseAll = (b: Buffer) => {
    onlyWaybillErrors(() => rpmPackageInfo(parseRpmHeaderBlob(b)));
    onlyWaybillErrors(() => parseRpmHeaderWithMagic(Buffer.concat([RPM_HEADER_MAGIC, b]), 0));
  };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (a) => parseAll(Buffer.from(a))),
    { numRuns: 1000 },
  );
  // Random small headers with a plausible intro, so the index walk is actually exercised.
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.uint8Array({ minLength: 0, maxLength: 300 }),
      (il, rest) => {
        const b = Buffer.alloc(8 + rest.length);
        b.writeUInt32BE(il, 0);
        b.writeUInt32BE(Math.max(0, rest.length - il * 16), 4);
        Buffer.from(rest).copy(b, 8);
        parseAll(b);
      },
    ),
    { numRuns: 1000 },
  );
  if (!existsSync(SQLITE)) return;
  const real = readSqliteBlobs(readFileSync(SQLITE))
    .slice(0, 10)
    .map((r) => r.blob);
  fc.assert(
    fc.property(
      fc.nat(real.length - 1),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 12 }),
      (which, edits) => {
        const b = Buffer.from(real[which]!);
        // Bias edits towards the intro and index, where bounds matter.
        for (const [at, v] of edits) b[at % Math.min(b.length, at % 2 ? 512 : b.length)] = v;
        parseAll(b);
      },
    ),
    { numRuns: 500 },
  );
});
