import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { buildC, makeElf, makeTmp, removeTmp, run } from '../../../test/helpers/exec-fixtures.ts';
import { WaybillError } from '../../errors.ts';
import {
  decodePackageNote,
  encodePackageNote,
  PACKAGE_NOTE_TYPE,
  parseNotes,
  readPackageNote,
} from './elf-note.ts';
import { parseExecutable, readExecutableMetadata } from './executable.ts';

const META = {
  type: 'deb',
  name: 'hello',
  version: '2.10-3',
  architecture: 'amd64',
  os: 'debian',
  osVersion: '12',
  osCpe: 'cpe:/o:debian:debian_linux:12',
  debugInfoUrl: 'https://debuginfod.debian.net',
};

let tmp: string;
let cProgram: string;

before(async () => {
  tmp = await makeTmp();
  cProgram = await buildC(tmp);
});
after(() => removeTmp(tmp));

async function withNote(note: Buffer, name: string): Promise<string> {
  const notePath = join(tmp, `${name}.bin`);
  const out = join(tmp, name);
  await writeFile(notePath, note);
  await run('objcopy', [
    '--add-section',
    `.note.package=${notePath}`,
    '--set-section-flags',
    '.note.package=alloc,readonly',
    cProgram,
    out,
  ]);
  return out;
}

describe('package note writer and reader', () => {
  test('the bytes we write are what readelf -n decodes, and we read them back', async () => {
    const note = encodePackageNote(META);
    assert.equal(note.length % 4, 0);
    const file = await withNote(note, 'with-note');
    const shown = await run('readelf', ['-n', file]);
    const m = /Packaging Metadata: (\{.*\})/.exec(shown);
    assert.ok(m, shown);
    assert.deepEqual(JSON.parse(m[1]!), META);
    assert.match(shown, /FDO\s+0x[0-9a-f]+\s+FDO_PACKAGING_METADATA/);

    const buf = await readFile(file);
    assert.deepEqual(
      readPackageNote(parseExecutable(buf, file), file),
      Object.fromEntries(Object.entries(META).sort()),
    );
    assert.equal(readExecutableMetadata(buf, file).packageNote?.name, 'hello');
  });

  test('deterministic, 4-byte aligned, big-endian variant', () => {
    assert.deepEqual(encodePackageNote(META), encodePackageNote({ ...META }));
    const be = encodePackageNote({ name: 'x' }, false);
    assert.equal(be.readUInt32BE(8), PACKAGE_NOTE_TYPE);
    assert.deepEqual(decodePackageNote(be, false, 'be'), { name: 'x' });
    // descsz counts the JSON and its NUL; the padding is not counted.
    assert.equal(be.readUInt32BE(4), JSON.stringify({ name: 'x' }).length + 1);
  });

  test('found in any note section of a big-endian 32-bit ELF', () => {
    const data = Buffer.concat([
      // another owner's note first
      Buffer.from('000000040000000400000003474e550001020304', 'hex'),
      encodePackageNote({ name: 'tool', version: '1' }, false),
    ]);
    const elf = makeElf({
      is64: false,
      le: false,
      machine: 8,
      sections: [{ name: '.note.other', data, type: 7 }],
    });
    assert.deepEqual(readPackageNote(parseExecutable(elf, 'mips'), 'mips'), { name: 'tool', version: '1' });
  });

  test('a descriptor length past the section is MALFORMED', async () => {
    const note = encodePackageNote(META);
    note.writeUInt32LE(0x7fff0000, 4);
    assert.throws(
      () => parseNotes(note, true, 'n'),
      (e) => e instanceof WaybillError && e.code === 'MALFORMED',
    );
    const file = await withNote(note, 'overflow');
    const buf = await readFile(file);
    assert.throws(
      () => readPackageNote(parseExecutable(buf, file), file),
      (e) => e instanceof WaybillError && e.code === 'MALFORMED' && /past the end/.test(e.reason),
    );
  });

  test('JSON that is broken or not an object is MALFORMED', () => {
    const bad = encodePackageNote({ name: 'x' });
    bad.write('[', 16, 'latin1');
    assert.throws(() => decodePackageNote(bad, true, 'n'), /not valid JSON|not an object/);
  });

  test('random and mutated notes never throw anything but WaybillError', () => {
    const base = encodePackageNote(META);
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.boolean(),
        (random, muts, le) => {
          const mutated = Buffer.from(base);
          for (const [i, v] of muts) mutated[i] = v;
          for (const b of [Buffer.from(random), mutated]) {
            try {
              decodePackageNote(b, le, 'fuzz');
            } catch (e) {
              if (!(e instanceof WaybillError)) throw e;
            }
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
