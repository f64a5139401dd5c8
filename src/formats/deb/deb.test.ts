import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { buildPackages, reference } from '../../../test/fixtures/build-packages.ts';
import { expectError } from '../../../test/helpers/assertions.ts';
import { arBuffer, bufferSource, indexAr } from '../../archive/ar.ts';
import { tarBuffer } from '../../archive/tar-writer.ts';
import { WaybillError } from '../../errors.ts';
import { findContainerWalker, HEAD_BYTES } from '../../sources/container-walkers.ts';
import { readFileHead } from '../../util/read-head.ts';
import type { NativeFacts } from '../facts.ts';
import { parseBuiltUsing, readDebControl, walkDebData } from './deb.ts';
import { debFormat } from './deb-format.ts';

const exec = promisify(execFile);
const fixtures = await buildPackages();
const tmp = await mkdtemp(join(tmpdir(), 'waybill-deb-test-'));
after(() => rm(tmp, { recursive: true, force: true }));

const debs = Object.entries(fixtures.deb) as Array<[string, string]>;
const allDebs = fixtures.skopeo ? [...debs, ['skopeo', fixtures.skopeo] as [string, string]] : debs;

function textOf(facts: NativeFacts, field: string): string | undefined {
  return facts.texts.find((t) => t.field === `deb ${field} field`)?.value;
}

test('facts equal what dpkg-deb -f prints, for every compression and a real Debian package', async (t) => {
  if (debs.length === 0) return t.skip(fixtures.debSkip ?? 'no deb fixtures');
  if (!fixtures.skopeo) t.diagnostic(`skopeo skipped: ${fixtures.skopeoSkip}`);
  const names = ['Package', 'Version', 'Architecture', 'Maintainer', 'Homepage', 'Bugs', 'Built-Using'];
  for (const [label, deb] of allDebs) {
    const facts = await debFormat.readFacts(deb);
    const expected = await reference('dpkg-deb', ['-f', deb, ...names]);
    const ours = [
      ['Package', facts.name?.value],
      ['Version', facts.version?.value],
      ['Architecture', facts.architectures[0]?.value],
      ['Maintainer', facts.team?.value],
      ['Homepage', facts.docs?.value],
      ['Bugs', facts.bugTracker?.value],
      ['Built-Using', textOf(facts, 'Built-Using')],
    ]
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}: ${v}\n`)
      .join('');
    assert.equal(ours, expected, label);
    assert.equal(facts.format, 'deb');
    assert.equal(facts.hasIdentityFields, true);
    assert.equal(facts.name?.field, 'deb Package field');
    assert.equal(facts.bugTracker?.field ?? 'deb Bugs field', 'deb Bugs field');
  }
});

test('fixture facts: debbugs:// kept, Static-Built-Using and Description in texts, date from the archive', async (t) => {
  const deb = fixtures.deb.xz;
  if (!deb) return t.skip(fixtures.debSkip ?? 'no deb fixture');
  const facts = await debFormat.readFacts(deb);
  assert.equal(facts.bugTracker?.value, 'debbugs://bugs.example.org');
  assert.equal(textOf(facts, 'Static-Built-Using'), 'golang-golang-x-sys (= 0.18.0-1)');
  assert.equal(
    facts.texts.find((x) => x.field === 'deb Description field (synopsis)')?.value,
    'demo package for waybill tests',
  );
  assert.match(textOf(facts, 'Description') ?? '', /\n\nIt has a postinst/);
  assert.equal(facts.created?.value, '2023-11-14T22:13:20Z');
  assert.equal(facts.license, undefined);
});

test('Built-Using of the real skopeo package lists its Go sources', async (t) => {
  if (!fixtures.skopeo) return t.skip(fixtures.skopeoSkip ?? 'no skopeo');
  const control = await readDebControl(fixtures.skopeo);
  const value = control.fields.find((f) => f.name === 'Built-Using')?.value ?? '';
  const parsed = parseBuiltUsing(value);
  const expected = (await reference('dpkg-deb', ['-f', fixtures.skopeo, 'Built-Using'])).trim().split(', ');
  assert.equal(parsed.length, expected.length);
  assert.deepEqual(
    parsed.map((p) => `${p.name} (= ${p.version})`),
    expected,
  );
  assert.ok(parsed.some((p) => p.name.startsWith('golang-1.')));
});

test('the data.tar walker sees what dpkg-deb -c lists, with contents', async (t) => {
  if (debs.length === 0) return t.skip(fixtures.debSkip ?? 'no deb fixtures');
  for (const [label, deb] of debs) {
    assert.equal(findContainerWalker(await readFileHead(deb, HEAD_BYTES), deb)?.name, 'deb', label);
    const result = await walkDebData(deb, { want: () => true });
    const listed = (await reference('dpkg-deb', ['-c', deb]))
      .trim()
      .split('\n')
      .map((l) => (l.split(/\s+/)[5] as string).replace(/^\.\//, '').replace(/\/$/, ''))
      .filter((p) => p !== '');
    assert.deepEqual(
      result.files.map((f) => f.entry.path),
      [...listed].sort(),
      label,
    );
    const byPath = new Map(result.files.map((f) => [f.entry.path, f]));
    assert.equal(byPath.get('usr/bin/waybill-demo')?.data.toString(), '#!/bin/sh\necho hi\n');
    assert.equal(byPath.get('usr/bin/waybill-demo')?.entry.mode, 0o755);
    assert.equal(byPath.get('usr/bin/wd')?.entry.linkTarget, 'waybill-demo');
    // The hard link carries its target's content.
    const link = result.files.find((f) => f.entry.type === 'hardlink');
    assert.equal(link?.data.toString(), 'Apache-2.0\n');
  }
});

test('walking skopeo: only the sniffed ELF file is kept, byte-identical to dpkg-deb --fsys-tarfile', async (t) => {
  if (!fixtures.skopeo) return t.skip(fixtures.skopeoSkip ?? 'no skopeo');
  const started = performance.now();
  let progress = 0;
  const result = await walkDebData(
    fixtures.skopeo,
    {
      want: (e) => (e.type === 'file' ? 'sniff' : false),
      sniff: (_e, h) => h.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])),
    },
    { onProgress: (done) => (progress = done) },
  );
  t.diagnostic(`walked skopeo data.tar.xz in ${Math.round(performance.now() - started)} ms`);
  assert.deepEqual(
    result.files.map((f) => f.entry.path),
    ['usr/bin/skopeo'],
  );
  const { stdout } = await exec(
    'sh',
    ['-c', `dpkg-deb --fsys-tarfile "${fixtures.skopeo}" | tar -xO ./usr/bin/skopeo | sha256sum`],
    { encoding: 'utf8' },
  );
  const ours = createHash('sha256')
    .update(result.files[0]?.data ?? '')
    .digest('hex');
  assert.equal(ours, stdout.split(' ')[0]);
  assert.ok(progress > 4_000_000);
});

test('a .deb opened as file: is walked through its data.tar', async (t) => {
  const deb = fixtures.deb.zstd;
  if (!deb) return t.skip(fixtures.debSkip ?? 'no deb fixture');
  const { openFile } = await import('../../sources/file.ts');
  const artifact = await openFile(`file:${deb}`, deb);
  const result = await artifact.walk({ want: (e) => e.path === 'usr/bin/waybill-demo' });
  assert.deepEqual(
    result.files.map((f) => [f.entry.path, f.data.toString()]),
    [['usr/bin/waybill-demo', '#!/bin/sh\necho hi\n']],
  );
});

// --- hostile packages, built by hand (dpkg-deb --build refuses to write them) ---

async function handmadeDeb(name: string, control: Buffer, extra: { data?: Buffer } = {}): Promise<string> {
  const controlTar = zlib.gzipSync(await tarBuffer([{ path: 'control', data: control }]));
  const dataTar = zlib.gzipSync(extra.data ?? (await tarBuffer([{ path: 'usr/', type: 'dir' }])));
  const bytes = await arBuffer([
    { name: 'debian-binary', mtime: 0, data: Buffer.from('2.0\n') },
    { name: 'control.tar.gz', mtime: 0, data: controlTar },
    { name: 'data.tar.gz', mtime: 0, data: dataTar },
  ]);
  const path = join(tmp, name);
  await writeFile(path, bytes);
  return path;
}

test('a hand-made package reads like a dpkg-deb one', async () => {
  const path = await handmadeDeb('ok.deb', Buffer.from('Package: x\nVersion: 1\nArchitecture: all\n'));
  const facts = await debFormat.readFacts(path);
  assert.equal(facts.name?.value, 'x');
  assert.equal(facts.created, undefined); // ar date 0: no date
  assert.equal((await reference('dpkg-deb', ['-f', path, 'Package'])).trim(), 'x');
});

test('invalid UTF-8 and duplicate fields are MALFORMED naming the field', async () => {
  const badUtf8 = Buffer.concat([
    Buffer.from('Package: x\nVersion: 1\nMaintainer: J\xc3'.slice(0, -1), 'latin1'),
    Buffer.from([0xc3, 0x28]),
    Buffer.from(' <j@example.org>\nDescription: d\n'),
  ]);
  await expectError(
    debFormat.readFacts(await handmadeDeb('utf8.deb', badUtf8)),
    'MALFORMED',
    /control field "Maintainer": value is not valid UTF-8/,
  );
  const duplicate = Buffer.from('Package: x\nVersion: 1\nBugs: a\nbugs: b\n');
  await expectError(
    debFormat.readFacts(await handmadeDeb('dup.deb', duplicate)),
    'MALFORMED',
    /control field "bugs" appears twice/,
  );
  await expectError(
    debFormat.readFacts(await handmadeDeb('noversion.deb', Buffer.from('Package: x\n'))),
    'MALFORMED',
    /no Version field/,
  );
  await expectError(
    debFormat.readFacts(await handmadeDeb('two.deb', Buffer.from('Package: x\nVersion: 1\n\nPackage: y\n'))),
    'MALFORMED',
    /2 stanzas/,
  );
});

test('truncated packages and bad layouts are MALFORMED naming file and member', async (t) => {
  const deb = fixtures.deb.gzip;
  if (!deb) return t.skip(fixtures.debSkip ?? 'no deb fixture');
  const original = await readFile(deb);
  const cut = join(tmp, 'cut.deb');
  await writeFile(cut, original.subarray(0, original.length - 40));
  await expectError(debFormat.readFacts(cut), 'MALFORMED', /cut\.deb: truncated ar member "data\.tar\.gz"/);
  const noBinary = join(tmp, 'nobinary.deb');
  await writeFile(noBinary, await arBuffer([{ name: 'control.tar.gz', mtime: 0, data: Buffer.from('x') }]));
  await expectError(debFormat.readFacts(noBinary), 'MALFORMED', /first ar member is not debian-binary/);
  const lying = join(tmp, 'lying.deb');
  await writeFile(
    lying,
    await arBuffer([
      { name: 'debian-binary', mtime: 0, data: Buffer.from('2.0\n') },
      { name: 'control.tar.xz', mtime: 0, data: zlib.gzipSync(Buffer.from('x')) },
      { name: 'data.tar', mtime: 0, data: Buffer.alloc(1024) },
    ]),
  );
  await expectError(debFormat.readFacts(lying), 'MALFORMED', /control\.tar\.xz is not xz data/);
});

test('detect: deb head only', async (t) => {
  const deb = fixtures.deb.zstd;
  if (!deb) return t.skip(fixtures.debSkip ?? 'no deb fixture');
  assert.equal(debFormat.detect(await readFileHead(deb, HEAD_BYTES), deb), true);
  assert.equal(debFormat.detect(Buffer.from('!<arch>\nfoo.o'), 'x.a'), false);
  assert.equal(debFormat.detect(Buffer.alloc(0), 'x.deb'), false);
});

for (const variant of ['gzip', 'xz'] as const)
  test(`property: mutated real packages (${variant}) never throw anything but WaybillError`, async (t) => {
    const deb = fixtures.deb[variant];
    if (!deb) return t.skip(fixtures.debSkip ?? 'no deb fixture');
    const original = await readFile(deb);
    const path = join(tmp, `fuzz-${variant}.deb`);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(original.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        async (edits) => {
          const bytes = Buffer.from(original);
          for (const [at, value] of edits) bytes[at] = value;
          await writeFile(path, bytes);
          for (const run of [
            () => debFormat.readFacts(path),
            () => walkDebData(path, { want: () => true }),
          ]) {
            try {
              await run();
            } catch (e) {
              if (!(e instanceof WaybillError)) throw e;
            }
          }
        },
      ),
      { numRuns: variant === 'xz' ? 80 : 150 },
    );
  });

test('build date: the data member date dpkg-deb wrote; with ar dates zeroed, the newest file in data.tar', async (t) => {
  const deb = fixtures.deb.xz;
  if (!deb) return t.skip(fixtures.debSkip ?? 'no deb fixture');
  // The reference: the newest mtime dpkg-deb's own data.tar holds.
  const listing = await reference('sh', ['-c', `dpkg-deb --fsys-tarfile "${deb}" | tar tv --full-time`]);
  const newest = listing
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(/\s+/).slice(3, 5).join('T'))
    .sort()
    .at(-1);
  const facts = await debFormat.readFacts(deb);
  assert.deepEqual(facts.created, { value: '2023-11-14T22:13:20Z', field: 'deb data.tar.xz member date' });
  assert.equal(`${newest}Z`, facts.created?.value);
  // `ar D` (deterministic) writes every member date as 0: the data.tar files still say when.
  const bytes = await readFile(deb);
  const members = await indexAr(bufferSource(bytes), deb);
  const zeroed = join(tmp, 'zero-dates.deb');
  await writeFile(
    zeroed,
    await arBuffer(
      members.map((m) => ({
        name: m.name,
        mtime: 0,
        data: bytes.subarray(m.dataOffset, m.dataOffset + m.size),
      })),
    ),
  );
  await reference('dpkg-deb', ['--info', zeroed]);
  const fromData = await debFormat.readFacts(zeroed);
  assert.deepEqual(fromData.created, { value: `${newest}Z`, field: 'deb data.tar.xz newest file date' });
});
