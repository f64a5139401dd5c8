import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { expectError } from '../../../test/helpers/assertions.ts';
import { tarBuffer } from '../../archive/tar-writer.ts';
import { WaybillError } from '../../errors.ts';
import { sha256Hex } from '../../util/digest.ts';
import {
  KIT_MANIFEST,
  type KitManifest,
  kitFileName,
  openKit,
  parseKitManifest,
  serializeKitManifest,
  writeKit,
} from './kit.ts';
import { sampleKitManifest } from './testing.ts';

// biome-ignore lint/suspicious/noExplicitAny: the mutations reach into arbitrary JSON fields
type Json = any;

let dir: string;
let source: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waybill-kit-'));
  source = join(dir, 'source.tar');
  await writeFile(source, await tarBuffer([{ path: 'README', data: 'hello\n' }], { mtime: 1704164645 }));
});
after(() => rm(dir, { recursive: true, force: true }));

async function manifest(): Promise<KitManifest> {
  return sampleKitManifest(await readFile(source), [
    {
      path: 'dist/hello.tar.gz',
      name: 'hello.tar.gz',
      kind: 'file',
      built: 'a'.repeat(64),
      published: 'b'.repeat(64),
    },
  ]);
}

test('a kit round-trips, and the same inputs give the same bytes', async () => {
  const m = await manifest();
  const a = await writeKit(join(dir, 'a.rebuild.tar'), m, Buffer.from('version: 1\n'), source, 1704164645);
  const b = await writeKit(join(dir, 'b.rebuild.tar'), m, Buffer.from('version: 1\n'), source, 1704164645);
  assert.equal(a.sha256, b.sha256);
  assert.equal(a.sha256, sha256Hex(await readFile(join(dir, 'a.rebuild.tar'))));
  const kit = await openKit(join(dir, 'a.rebuild.tar'));
  assert.deepEqual(kit.manifest, m);
  assert.equal(kit.config.toString(), 'version: 1\n');
  assert.equal(kit.source.size, m.sourceArchive.size);
});

test('kit file names are safe file names', () => {
  assert.equal(kitFileName('hello', '1.2.3'), 'hello-1.2.3.rebuild.tar');
  assert.equal(kitFileName('../evil/x', '1.0 beta'), '__evil_x-1.0_beta.rebuild.tar');
});

test('a hostile manifest is refused field by field', async () => {
  const cases: Array<[(m: Json) => void, RegExp]> = [
    [(m) => (m.kitType = 'x'), /kitType: must be/],
    [(m) => (m.recipe.outputs = ['../../etc/passwd']), /recipe\.outputs\[0\]: must not leave/],
    [(m) => (m.recipe.env = ['LD_PRELOAD']), /recipe\.env\[0\]: LD_PRELOAD would let/],
    [(m) => (m.environment.LD_PRELOAD = '/tmp/evil.so'), /environment\.LD_PRELOAD/],
    [(m) => (m.environment.PATH = '/tmp/evil'), /environment\.PATH: is set by waybill/],
    [(m) => (m.environment.OTHER = 'x'), /environment\.OTHER: is not in the recipe/],
    [(m) => (m.recipe.tools = ['/tmp/evil --version']), /recipe\.tools\[0\]: must be a program name/],
    [(m) => (m.outputs[0].name = '../hello.tar.gz'), /outputs\[0\]\.name: must be a plain file name/],
    [(m) => (m.outputs[0].published = 'B'.repeat(64)), /outputs\[0\]\.published: must be 64 lowercase hex/],
    [(m) => (m.recipe.timeout = 0), /recipe\.timeout: must be a whole number/],
    [(m) => (m.outputs = []), /outputs: lists no outputs/],
    [(m) => m.outputs.push({ ...m.outputs[0] }), /two outputs are published as "hello\.tar\.gz"/],
    [(m) => (m.stamp.source.signature.verified = 'yes'), /signature\.verified: must be true or false/],
  ];
  for (const [mutate, pattern] of cases) {
    const m = JSON.parse(JSON.stringify(await manifest()));
    mutate(m);
    assert.throws(
      () => parseKitManifest(m, 'kit'),
      (e: unknown) => e instanceof WaybillError && e.code === 'MALFORMED' && pattern.test(e.message),
      String(mutate),
    );
  }
});

test('a kit with other members, or a source archive of another size, is refused', async () => {
  const m = await manifest();
  const extra = join(dir, 'extra.rebuild.tar');
  await writeFile(
    extra,
    await tarBuffer([
      { path: KIT_MANIFEST, data: serializeKitManifest(m) },
      { path: 'waybill.yaml', data: 'x' },
      { path: 'source.tar', data: await readFile(source) },
      { path: 'run-me.sh', data: 'rm -rf /' },
    ]),
  );
  await expectError(openKit(extra), 'MALFORMED', /must hold exactly/);
  const short = join(dir, 'short.rebuild.tar');
  await writeFile(
    short,
    await tarBuffer([
      { path: KIT_MANIFEST, data: serializeKitManifest(m) },
      { path: 'waybill.yaml', data: 'x' },
      { path: 'source.tar', data: (await readFile(source)).subarray(512) },
    ]),
  );
  await expectError(openKit(short), 'DIGEST_MISMATCH', /source\.tar is \d+ bytes but the kit records/);
  const notKit = join(dir, 'plain.tar');
  await writeFile(notKit, await tarBuffer([{ path: 'a', data: 'b' }]));
  await expectError(openKit(notKit), 'MALFORMED', /not a rebuild kit/);
});

test('fast-check: any JSON as a kit manifest is accepted or refused with MALFORMED, never a crash', async () => {
  const base = await manifest();
  fc.assert(
    fc.property(fc.jsonValue(), fc.constantFrom(...Object.keys(base)), (value, key) => {
      for (const candidate of [value, { ...base, [key]: value }]) {
        try {
          parseKitManifest(candidate, 'kit');
        } catch (e) {
          assert.ok(e instanceof WaybillError && e.code === 'MALFORMED', String(e));
        }
      }
    }),
    { numRuns: 500 },
  );
});
