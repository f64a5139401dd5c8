import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildC, makeTmp, removeTmp, run } from '../../test/helpers/exec-fixtures.ts';
import { encodePackageNote } from '../formats/executable/elf-note.ts';
import type { WalkedFile } from '../sources/types.ts';
import { componentFromNote, elfPackageNoteCataloger } from './elf-package-note.ts';
import type { CatalogContext } from './types.ts';

function walked(path: string, data: Buffer): WalkedFile {
  return { entry: { path, type: 'file', size: data.length, mode: 0o755 }, data, earlier: [] };
}

let tmp: string;
let cProgram: string;

before(async () => {
  tmp = await makeTmp();
  cProgram = await buildC(tmp);
});
after(() => removeTmp(tmp));

async function withNote(note: Buffer, name: string): Promise<Buffer> {
  await writeFile(join(tmp, `${name}.bin`), note);
  const out = join(tmp, name);
  await run('objcopy', [
    '--add-section',
    `.note.package=${join(tmp, `${name}.bin`)}`,
    '--set-section-flags',
    '.note.package=alloc,readonly',
    cProgram,
    out,
  ]);
  return readFile(out);
}

describe('package note cataloger', () => {
  test('deb note → pkg:deb with arch and distro; overflow → warning', async () => {
    const deb = await withNote(
      encodePackageNote({
        type: 'deb',
        name: 'hello',
        version: '2.10-3',
        architecture: 'amd64',
        os: 'debian',
        osVersion: '12',
      }),
      'deb',
    );
    const broken = encodePackageNote({ name: 'x' });
    broken.writeUInt32LE(0xffff, 4);
    const bad = await withNote(broken, 'bad');
    const warnings: Array<{ path: string; reason: string }> = [];
    const ctx: CatalogContext = { warn: (path, reason) => warnings.push({ path, reason }) };
    const plain = await readFile(cProgram);
    const out = await elfPackageNoteCataloger.catalog(
      [walked('usr/bin/hello', deb), walked('usr/bin/bad', bad), walked('usr/bin/plain', plain)],
      ctx,
    );
    assert.equal(out.length, 1);
    assert.equal(out[0]!.purl, 'pkg:deb/debian/hello@2.10-3?arch=amd64&distro=debian-12');
    assert.equal(out[0]!.ecosystem, 'deb');
    assert.equal(out[0]!.type, 'application');
    assert.equal(out[0]!.properties['waybill:package-note:osVersion'], '12');
    assert.equal(out[0]!.properties['waybill:source-package'], 'hello');
    assert.deepEqual(
      warnings.map((w) => w.path),
      ['usr/bin/bad'],
    );
  });

  test('keep: named section, a note moved to another section, PE .pkgnote; a plain program is dropped', async () => {
    const note = encodePackageNote({ type: 'deb', name: 'hello', version: '1' });
    const named = await withNote(note, 'named');
    await writeFile(join(tmp, 'moved.bin'), note);
    const moved = join(tmp, 'moved');
    await run('objcopy', ['--add-section', `.note.other=${join(tmp, 'moved.bin')}`, cProgram, moved]);
    const movedBytes = await readFile(moved);
    const plain = await readFile(cProgram);
    const entry = walked('x', plain).entry;
    const keep = (data: Buffer) => elfPackageNoteCataloger.keep(entry, data);
    assert.equal(keep(named), true);
    assert.equal(movedBytes.includes('.note.package'), false);
    assert.equal(keep(movedBytes), true, 'found by the FDO note header');
    assert.equal(keep(plain), false);
    assert.equal(keep(Buffer.concat([plain, Buffer.from('.pkgnote')])), true);
    // Big-endian note header: type 0xcafe1a7e then "FDO\0".
    assert.equal(keep(Buffer.concat([plain, Buffer.from('cafe1a7e46444f00', 'hex')])), true);
    assert.equal(keep(Buffer.concat([plain, Buffer.from('cafe1a7f46444f00', 'hex')])), false);
    // What keep accepts, the cataloger reads; what it drops, it finds nothing in.
    const ctx: CatalogContext = { warn: () => {} };
    const found = await elfPackageNoteCataloger.catalog(
      [walked('moved', movedBytes), walked('plain', plain)],
      ctx,
    );
    assert.deepEqual(
      found.map((c) => c.foundAt[0]),
      ['moved'],
    );
  });

  test('rpm, generic, distro from context, shared library type', () => {
    const entry = { path: 'usr/lib64/libfoo.so.1.2', type: 'file' as const, size: 1, mode: 0o644 };
    const rpm = componentFromNote(
      {
        type: 'rpm',
        name: 'foo',
        version: '1.2-3.fc40',
        architecture: 'x86_64',
        os: 'fedora',
        osVersion: '40',
      },
      entry,
      {},
    );
    assert.equal(rpm?.purl, 'pkg:rpm/fedora/foo@1.2-3.fc40?arch=x86_64&distro=fedora-40');
    assert.equal(rpm?.type, 'library');
    const generic = componentFromNote({ type: 'custom', name: 'tool', version: '1' }, entry, {});
    assert.equal(generic?.purl, 'pkg:generic/tool@1');
    const fromCtx = componentFromNote({ type: 'deb', name: 'a', version: '1' }, entry, {
      distro: { id: 'ubuntu', versionId: '24.04' },
    });
    assert.equal(fromCtx?.purl, 'pkg:deb/ubuntu/a@1?distro=ubuntu-24.04');
    assert.equal(componentFromNote({ type: 'deb' }, entry, {}), undefined);
  });
});
