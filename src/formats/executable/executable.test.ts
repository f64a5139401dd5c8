import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import {
  buildC,
  buildGo,
  makeElf,
  makeGoProject,
  makeTmp,
  removeTmp,
  run,
} from '../../../test/helpers/exec-fixtures.ts';
import { WaybillError } from '../../errors.ts';
import {
  detectExecutable,
  executableInfo,
  mayHoldExecutable,
  parseExecutable,
  readExecutableMetadata,
  wantExecutable,
} from './executable.ts';
import { findSection, readVirtual } from './sections.ts';

let tmp: string;
const bins: Record<string, Buffer> = {};
const paths: Record<string, string> = {};

before(async () => {
  tmp = await makeTmp();
  const project = await makeGoProject(tmp);
  for (const p of [
    'linux/amd64',
    'linux/arm64',
    'linux/ppc64',
    'windows/amd64',
    'darwin/arm64',
    'darwin/amd64',
  ]) {
    const [goos, goarch] = p.split('/') as [string, string];
    paths[p] = await buildGo(project, goos, goarch, join(tmp, `app-${goos}-${goarch}`));
    bins[p] = await readFile(paths[p]);
  }
  paths.c = await buildC(tmp);
  bins.c = await readFile(paths.c);
});
after(() => removeTmp(tmp));

/** `readelf -S -W`: section names and addresses, the reference for our ELF section table. */
async function readelfSections(file: string): Promise<Array<{ name: string; addr: bigint; size: number }>> {
  const out = await run('readelf', ['-S', '-W', file]);
  const rows: Array<{ name: string; addr: bigint; size: number }> = [];
  for (const line of out.split('\n')) {
    const m = /^\s*\[\s*(\d+)\]\s+(\S*)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)/.exec(line);
    if (m && m[1] !== '0')
      rows.push({ name: m[2]!, addr: BigInt(`0x${m[3]}`), size: Number.parseInt(m[4]!, 16) });
  }
  return rows;
}

describe('ELF', () => {
  for (const key of ['c', 'linux/amd64', 'linux/ppc64']) {
    test(`${key}: section table equals readelf -S`, async () => {
      const exe = parseExecutable(bins[key]!, key);
      const ours = exe.sections
        .filter((s) => s.type !== 0)
        .map((s) => ({ name: s.name, addr: s.addr, size: s.type === 8 ? -1 : s.data.length }));
      const ref = (await readelfSections(paths[key]!)).map((r) => {
        const s = exe.sections.find((x) => x.name === r.name);
        return { ...r, size: s?.type === 8 ? -1 : r.size };
      });
      assert.deepEqual(ours, ref);
    });
  }

  test('architecture names and byte order', () => {
    assert.deepEqual(executableInfo(bins['linux/amd64']!).arch, { goarch: 'amd64', native: 'x86_64' });
    assert.deepEqual(executableInfo(bins['linux/arm64']!).arch, { goarch: 'arm64', native: 'aarch64' });
    const ppc = parseExecutable(bins['linux/ppc64']!);
    assert.deepEqual(ppc.arch, { goarch: 'ppc64', native: 'ppc64' });
    assert.equal(ppc.littleEndian, false);
    assert.equal(ppc.ptrSize, 8);
  });

  test('virtual addresses map through PT_LOAD', () => {
    const exe = parseExecutable(bins.c!, 'c');
    const rodata = findSection(exe, '.rodata')!;
    const at = rodata.data.indexOf('hello');
    assert.ok(at >= 0);
    assert.equal(readVirtual(exe, rodata.addr + BigInt(at), 5)?.toString(), 'hello');
    assert.equal(readVirtual(exe, 0x7fff00000000n, 4), undefined);
  });

  test('a section past the end of the file is MALFORMED', () => {
    const buf = makeElf({
      is64: true,
      le: true,
      machine: 62,
      sections: [{ name: '.x', data: Buffer.alloc(8) }],
    });
    const shoff = Number(buf.readBigUInt64LE(40));
    buf.writeBigUInt64LE(BigInt(buf.length + 100), shoff + 64 + 24); // section 1 sh_offset
    assert.throws(
      () => parseExecutable(buf, 'x'),
      (e) => e instanceof WaybillError && e.code === 'MALFORMED',
    );
    assert.throws(
      () => parseExecutable(bins.c!.subarray(0, 200), 'cut'),
      (e) => e instanceof WaybillError && e.code === 'MALFORMED',
    );
  });

  test('32-bit big-endian synthetic ELF', () => {
    const buf = makeElf({
      is64: false,
      le: false,
      machine: 8,
      sections: [{ name: '.data', data: Buffer.from('abcd') }],
    });
    const exe = parseExecutable(buf, 'mips');
    assert.deepEqual(exe.arch, { goarch: 'mips', native: 'mips' });
    assert.equal(findSection(exe, '.data')?.data.toString(), 'abcd');
  });
});

describe('PE', () => {
  test('windows/amd64: sections equal objdump -h', async (t) => {
    const exe = parseExecutable(bins['windows/amd64']!, 'pe');
    assert.equal(exe.format, 'pe');
    assert.deepEqual(exe.arch, { goarch: 'amd64', native: 'x86_64' });
    let out: string;
    try {
      out = await run('objdump', ['-h', paths['windows/amd64']!]);
    } catch {
      return t.skip('objdump cannot read PE here');
    }
    const ref = [...out.matchAll(/^\s*\d+\s+(\S+)\s+[0-9a-f]+\s+([0-9a-f]+)/gm)].map((m) => ({
      name: m[1]!,
      addr: BigInt(`0x${m[2]}`),
    }));
    assert.deepEqual(
      exe.sections.map((s) => ({ name: s.name, addr: s.addr })),
      ref,
    );
  });
});

describe('Mach-O', () => {
  test('thin arm64: segments, sections, arch', () => {
    const info = executableInfo(bins['darwin/arm64']!);
    assert.equal(info.format, 'macho');
    assert.deepEqual(info.arch, { goarch: 'arm64', native: 'arm64' });
    assert.ok(info.sections.some((s) => s.segment === '__DATA' && s.name === '__go_buildinfo'));
    assert.ok(info.sections.some((s) => s.segment === '__TEXT' && s.name === '__text'));
  });

  test('universal (fat) binary of two slices', () => {
    const a = bins['darwin/amd64']!;
    const b = bins['darwin/arm64']!;
    const align = 1 << 14;
    const offA = align;
    const offB = offA + Math.ceil(a.length / align) * align;
    const fat = Buffer.alloc(offB + b.length);
    fat.writeUInt32BE(0xcafebabe, 0);
    fat.writeUInt32BE(2, 4);
    const entry = (i: number, cpu: number, off: number, size: number) => {
      const o = 8 + i * 20;
      fat.writeUInt32BE(cpu, o);
      fat.writeUInt32BE(off, o + 8);
      fat.writeUInt32BE(size, o + 12);
      fat.writeUInt32BE(14, o + 16);
    };
    entry(0, 0x01000007, offA, a.length);
    entry(1, 0x0100000c, offB, b.length);
    a.copy(fat, offA);
    b.copy(fat, offB);
    assert.equal(detectExecutable(fat.subarray(0, 64)), 'macho');
    const info = executableInfo(fat, 'fat');
    assert.equal(info.universal, true);
    assert.deepEqual(
      info.architectures.map((x) => x.goarch),
      ['amd64', 'arm64'],
    );
    const meta = readExecutableMetadata(fat, 'fat');
    assert.equal(meta.goMain?.path, 'example.com/app');
  });

  test('a zero cmdsize is MALFORMED, not a hang', () => {
    const buf = Buffer.from(bins['darwin/arm64']!.subarray(0, 4096));
    buf.writeUInt32LE(0, 32 + 4);
    assert.throws(
      () => parseExecutable(buf, 'm'),
      (e) => e instanceof WaybillError && e.code === 'MALFORMED',
    );
  });
});

describe('detection', () => {
  test('Java class files share 0xcafebabe with fat Mach-O', () => {
    const cls = Buffer.from('cafebabe00000041', 'hex'); // minor 0, major 65 (Java 21)
    assert.equal(detectExecutable(Buffer.concat([cls, Buffer.alloc(56)])), undefined);
    const fat = Buffer.from('cafebabe00000002', 'hex');
    assert.equal(detectExecutable(Buffer.concat([fat, Buffer.alloc(56)])), 'macho');
  });

  test('MZ needs a plausible e_lfanew', () => {
    const dos = Buffer.alloc(64);
    dos.write('MZ', 0, 'latin1');
    assert.equal(detectExecutable(dos), undefined);
    dos.writeUInt32LE(0x80, 0x3c);
    assert.equal(detectExecutable(dos), 'pe');
    assert.equal(detectExecutable(Buffer.from('#!/bin/sh\necho hi\n')), undefined);
  });

  test('non-executables are UNSUPPORTED', () => {
    assert.throws(
      () => parseExecutable(Buffer.alloc(200), 'zeros'),
      (e) => e instanceof WaybillError && e.code === 'UNSUPPORTED',
    );
  });

  test('readExecutableMetadata on a plain C program', () => {
    assert.deepEqual(readExecutableMetadata(bins.c!, 'c'), {
      format: 'elf',
      arch: { goarch: 'amd64', native: 'x86_64' },
    });
  });
});

describe('parsers never throw anything but WaybillError', () => {
  const onlyWaybill = (buf: Buffer) => {
    try {
      readExecutableMetadata(buf, 'fuzz');
    } catch (e) {
      if (!(e instanceof WaybillError)) throw e;
    }
  };
  const magics = [
    Buffer.from('7f454c460201010000000000', 'hex'),
    Buffer.from('7f454c460102010000000000', 'hex'),
    Buffer.from('4d5a', 'hex'),
    Buffer.from('cffaedfe', 'hex'),
    Buffer.from('feedface', 'hex'),
    Buffer.from('cafebabe00000002', 'hex'),
    Buffer.from('cafebabf00000001', 'hex'),
  ];

  test('random bytes behind every magic', () => {
    fc.assert(
      fc.property(fc.constantFrom(...magics), fc.uint8Array({ maxLength: 600 }), (magic, rest) => {
        onlyWaybill(Buffer.concat([magic, Buffer.from(rest)]));
      }),
      { numRuns: 2000 },
    );
  });

  for (const key of ['c', 'windows/amd64', 'darwin/arm64', 'linux/ppc64']) {
    test(`mutated headers of ${key}`, () => {
      const orig = bins[key]!;
      // Mutations land in the first 8 KiB (headers, load commands, section tables) or the ELF section table.
      const hot =
        key.startsWith('linux') || key === 'c'
          ? Number(orig.readBigUInt64BE(40) || orig.readBigUInt64LE(40))
          : 0;
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.nat(8191), fc.integer({ min: 0, max: 255 }), fc.boolean()), {
            minLength: 1,
            maxLength: 8,
          }),
          (muts) => {
            const buf = Buffer.from(orig);
            for (const [i, v, inTable] of muts) {
              const at = inTable && hot > 0 && hot < buf.length ? (hot + i) % buf.length : i % buf.length;
              buf[at] = v;
            }
            onlyWaybill(buf);
            onlyWaybill(buf.subarray(0, (muts[0]![0] * 37) % buf.length));
          },
        ),
        { numRuns: 300 },
      );
    });
  }
});

describe('which files the executable catalogers sniff', () => {
  const file = (path: string, mode: number, size = 4096) => ({ type: 'file', path, mode, size });
  test('any execute bit, or a loaded library name, is sniffed', () => {
    for (const mode of [0o755, 0o700, 0o744, 0o710, 0o701, 0o4755])
      assert.equal(wantExecutable(file('usr/bin/tool', mode)), 'sniff');
    for (const name of [
      'usr/lib/x86_64-linux-gnu/libz.so.1.2.13',
      'usr/lib/libx.so',
      'usr/lib/python3/dist-packages/_cffi_backend.cpython-311-x86_64-linux-gnu.so',
      'opt/app/node_modules/x/build/Release/addon.node',
      'Library/libfoo.dylib',
      'Plugins/x.bundle',
      'Windows/x.DLL',
      'tools/x.exe',
      'lib/_x.pyd',
    ])
      assert.equal(wantExecutable({ ...file(name, 0o644), type: 'hardlink' }), 'sniff', name);
  });
  test('data, sources and documentation without an execute bit are never opened for it', () => {
    for (const name of [
      'usr/share/doc/x/copyright',
      'usr/lib/go/src/x.go',
      'etc/x.so.conf',
      'a/libx.so.old',
      'x.node.js',
    ])
      assert.equal(wantExecutable(file(name, 0o644)), false, name);
  });
  test('fast-check: a name is a loaded library when it ends in one of the extensions, wherever its dots are', () => {
    const loaded = /\.(?:so(?:\.[0-9]+)*|node|dylib|bundle|dll|exe|pyd)$/i;
    const part = fc.constantFrom('/', '.', 'so', 'SO', '1', '12', 'node', 'dll', 'x', 'lib', '.so.', '..');
    fc.assert(
      fc.property(fc.array(part, { maxLength: 8 }), (parts) => {
        const path = parts.join('');
        assert.equal(wantExecutable(file(path, 0o644)), loaded.test(path) ? 'sniff' : false, path);
      }),
      { numRuns: 2000 },
    );
  });
  test('too small, or not a regular file: never, whatever the mode', () => {
    assert.equal(wantExecutable(file('usr/bin/tiny', 0o755, 127)), false);
    assert.equal(wantExecutable({ ...file('usr/bin/x', 0o777), type: 'symlink' }), false);
    assert.equal(wantExecutable({ ...file('usr/lib', 0o755), type: 'dir' }), false);
  });
  test('mayHoldExecutable (a machine architecture) goes by type and size alone', () => {
    assert.equal(mayHoldExecutable(file('README', 0o644)), true);
    assert.equal(mayHoldExecutable(file('README', 0o644, 127)), false);
    assert.equal(mayHoldExecutable({ ...file('x', 0o755), type: 'symlink' }), false);
  });
});
