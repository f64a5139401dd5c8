import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import {
  AUDIT_JSON,
  addDepSection,
  buildC,
  buildGo,
  makeGoProject,
  makeTmp,
  removeTmp,
  run,
} from '../../../test/helpers/exec-fixtures.ts';
import { elfPackageNoteCataloger } from '../../catalog/elf-package-note.ts';
import { goCataloger } from '../../catalog/go.ts';
import { rustCataloger } from '../../catalog/rust.ts';
import type { Cataloger } from '../../catalog/types.ts';
import { isWaybillError } from '../../errors.ts';
import type { WalkedFile } from '../../sources/types.ts';
import { condenseElf } from './condense.ts';
import { encodePackageNote } from './elf-note.ts';
import { parseExecutable } from './executable.ts';
import { readGoBuildInfo } from './go-buildinfo.ts';

const CATALOGERS: Cataloger[] = [goCataloger, rustCataloger, elfPackageNoteCataloger];

/** What every executable cataloger finds in `data`, warnings included, as comparable JSON. */
async function findings(data: Buffer): Promise<string> {
  const file: WalkedFile = {
    entry: { path: 'usr/bin/x', type: 'file', size: data.length, mode: 0o755 },
    data,
    earlier: [],
  };
  const out: unknown[] = [];
  for (const c of CATALOGERS) {
    const warnings: string[] = [];
    const kept = c.keep ? c.keep(file.entry, data) : true;
    const components = kept ? await c.catalog([file], { warn: (_p, r) => warnings.push(r) }) : [];
    out.push({ cataloger: c.name, components, warnings });
  }
  return JSON.stringify(out);
}

let tmp: string;
const binaries: Record<string, Buffer> = {};

before(async () => {
  tmp = await makeTmp('waybill-condense-');
  const project = await makeGoProject(tmp);
  // Both byte orders and both word sizes: amd64 (LE 64), 386 (LE 32), ppc64 (BE 64), mips (BE 32).
  for (const arch of ['amd64', '386', 'ppc64', 'mips'])
    binaries[`go-${arch}`] = await readFile(await buildGo(project, 'linux', arch, join(tmp, `app-${arch}`)));
  const c = await buildC(tmp);
  const rust = await addDepSection(
    c,
    (await import('node:zlib')).deflateSync(Buffer.from(JSON.stringify(AUDIT_JSON))),
    'with-dep',
    tmp,
  );
  await writeFile(join(tmp, 'note.bin'), encodePackageNote({ type: 'deb', name: 'hello', version: '1.0-1' }));
  const noted = join(tmp, 'with-note');
  await run('objcopy', [
    '--add-section',
    `.note.package=${join(tmp, 'note.bin')}`,
    '--set-section-flags',
    '.note.package=alloc,readonly',
    rust,
    noted,
  ]);
  binaries.c = await readFile(c);
  binaries['c-dep-note'] = await readFile(noted);
});
after(() => removeTmp(tmp));

describe('condenseElf', () => {
  test('Go programs of every word size and byte order: far smaller, same build info', async () => {
    for (const [name, data] of Object.entries(binaries).filter(([n]) => n.startsWith('go-'))) {
      const small = condenseElf(data, 0);
      assert.ok(small, `${name}: condensed`);
      assert.ok(small.length * 20 < data.length, `${name}: ${small.length} of ${data.length} bytes`);
      const info = readGoBuildInfo(parseExecutable(small, name), name);
      assert.ok(info?.main, `${name}: build info read from the condensed copy`);
      assert.equal(await findings(small), await findings(data), name);
    }
  });

  test('cargo-auditable section and package note survive; a plain C program finds nothing either way', async () => {
    const data = binaries['c-dep-note'] as Buffer;
    const small = condenseElf(data, 0);
    assert.ok(small && small.length < data.length);
    const found = await findings(small);
    assert.equal(found, await findings(data));
    assert.match(found, /pkg:cargo\/serde@1\.0\.197/);
    assert.match(found, /pkg:deb\/[^"]*hello@1\.0-1/);
    const plain = binaries.c as Buffer;
    const plainSmall = condenseElf(plain, 0);
    if (plainSmall) assert.equal(await findings(plainSmall), await findings(plain));
  });

  test('kept whole: small files, non-ELF, pre-1.18 (pointer) Go build info, build info outside its section', () => {
    const go = binaries['go-amd64'] as Buffer;
    assert.equal(
      condenseElf(binaries['c-dep-note'] as Buffer),
      undefined,
      'below the default size threshold',
    );
    assert.ok(condenseElf(go), 'above it');
    assert.equal(condenseElf(Buffer.concat([Buffer.from('MZ'), go.subarray(2)]), 0), undefined);
    const exe = parseExecutable(go, 'go');
    const section = exe.sections.find((s) => s.name === '.go.buildinfo');
    assert.ok(section);
    const at = go.indexOf(section.data.subarray(0, 32));
    const pointer = Buffer.from(go);
    pointer[at + 15] = (pointer[at + 15] as number) & ~2;
    assert.equal(condenseElf(pointer, 0), undefined, 'pointer layout reads through the data segment');
    // Rename the section: the reader then scans the data segment for the magic, so nothing is cut.
    const renamed = Buffer.from(go);
    const nameAt = renamed.indexOf(Buffer.from('.go.buildinfo\0'));
    renamed.write('.go.buildinfX', nameAt, 'latin1');
    assert.equal(condenseElf(renamed, 0), undefined);
  });

  test('a section 0 that claims file bytes keeps the file whole (its offset could lie past the copy)', async () => {
    const go = binaries['go-386'] as Buffer;
    const shoff = go.readUInt32LE(32);
    const bad = Buffer.from(go);
    bad.writeUInt32LE(1, shoff + 4); // sh_type: SHT_PROGBITS instead of SHT_NULL
    bad.writeUInt32LE(bad.length - 1, shoff + 16); // sh_offset: in the file, past any condensed copy
    assert.equal(condenseElf(bad, 0), undefined);
    // The file itself still reads: the Go module is found in it.
    assert.match(JSON.stringify(await findings(bad)), /example\.com\/app/);
  });

  test('property: on corrupted headers it never throws, and what it keeps reads the same', async () => {
    const go = binaries['go-386'] as Buffer;
    const exe = parseExecutable(go, 'go');
    const shoff = go.readUInt32LE(32);
    const headerRanges = [
      [0, 52 + 32 * 8],
      [shoff, shoff + 40 * exe.sections.length],
    ] as const;
    const mutation = fc.record({
      range: fc.constantFrom(...headerRanges),
      at: fc.nat(),
      value: fc.integer({ min: 0, max: 255 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
        const bad = Buffer.from(go);
        for (const { range, at, value } of mutations) bad[range[0] + (at % (range[1] - range[0]))] = value;
        let small: Buffer | undefined;
        try {
          small = condenseElf(bad, 0);
        } catch (e) {
          assert.fail(`threw ${(e as Error).message}`);
        }
        if (small === undefined) return;
        const outcome = async (data: Buffer) => {
          try {
            return await findings(data);
          } catch (e) {
            return isWaybillError(e) ? `error ${e.code}` : `crash ${(e as Error).message}`;
          }
        };
        assert.equal(await outcome(small), await outcome(bad));
      }),
      { numRuns: 150 },
    );
  });
});
