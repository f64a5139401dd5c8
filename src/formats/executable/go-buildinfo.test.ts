import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import {
  buildGo,
  makeElf,
  makeGoProject,
  makeTmp,
  npmPackageFile,
  removeTmp,
  run,
  SYNTHETIC_BASE,
  SYNTHETIC_FIRST_SECTION,
} from '../../../test/helpers/exec-fixtures.ts';
import { WaybillError } from '../../errors.ts';
import { parseExecutable } from './executable.ts';
import { type GoBuildInfo, type GoModule, parseModinfo, readGoBuildInfo } from './go-buildinfo.ts';

/** Go's quoting rule for build settings (runtime/debug BuildInfo.String): quote when needed. */
const quoteKey = (k: string) => (k === '' || /[= \t\r\n"`]/.test(k) ? JSON.stringify(k) : k);
const quoteValue = (v: string) => (/[ \t\r\n"`]/.test(v) ? JSON.stringify(v) : v);

/** Our parse, rendered as the lines `go version -m` prints (blank lines dropped). */
function render(info: GoBuildInfo): string[] {
  const lines = [`path\t${info.path}`];
  const mod = (word: string, m: GoModule) => {
    if (m.replace) {
      lines.push(`${word}\t${m.path}\t${m.version}`);
      mod('=>', m.replace);
    } else {
      lines.push(`${word}\t${m.path}\t${m.version}\t${m.sum}`);
    }
  };
  if (info.main) mod('mod', info.main);
  for (const d of info.deps) mod('dep', d);
  for (const s of info.settings) lines.push(`build\t${quoteKey(s.key)}=${quoteValue(s.value)}`);
  return lines;
}

/** `go version -m FILE`: the reference reader. */
async function goVersionM(file: string): Promise<{ goVersion: string; lines: string[] }> {
  const out = await run('go', ['version', '-m', file]);
  const [first, ...rest] = out.split('\n');
  return {
    goVersion: first!.slice(first!.lastIndexOf(': ') + 2),
    lines: rest.filter((l) => l.trim() !== '').map((l) => l.replace(/^\t/, '')),
  };
}

async function assertMatchesGo(file: string) {
  const buf = await readFile(file);
  const info = readGoBuildInfo(parseExecutable(buf, file), file);
  assert.ok(info, `${file}: no build info found`);
  const ref = await goVersionM(file);
  assert.equal(info.goVersion, ref.goVersion);
  assert.deepEqual(render(info), ref.lines);
  return info;
}

describe('Go build info from binaries built here (compared with go version -m)', () => {
  let tmp: string;
  const built = new Map<string, string>();
  const platforms = ['linux/amd64', 'linux/arm64', 'windows/amd64', 'darwin/arm64'];

  before(async () => {
    tmp = await makeTmp();
    const project = await makeGoProject(tmp);
    // Sequential: the first build fills the module cache the others read.
    for (const p of platforms) {
      const [goos, goarch] = p.split('/') as [string, string];
      built.set(p, await buildGo(project, goos, goarch, join(tmp, `app-${goos}-${goarch}`)));
    }
  });
  after(() => removeTmp(tmp));

  for (const p of platforms) {
    test(p, async () => {
      const info = await assertMatchesGo(built.get(p)!);
      assert.equal(info.layout, 'inline');
      assert.equal(info.main?.path, 'example.com/app');
      assert.equal(info.main?.version, '(devel)');
      const greet = info.deps.find((d) => d.path === 'example.com/greet');
      assert.match(greet?.sum ?? '', /^h1:[A-Za-z0-9+/]{43}=$/);
      const orig = info.deps.find((d) => d.path === 'example.com/orig');
      assert.deepEqual(orig?.replace && { path: orig.replace.path, version: orig.replace.version }, {
        path: 'example.com/fork',
        version: 'v0.3.0',
      });
      assert.equal(info.deps.find((d) => d.path === 'example.com/local')?.replace?.path, './local');
      const ldflags = info.settings.find((s) => s.key === '-ldflags');
      assert.equal(ldflags?.value, '-X main.version=1.2.3 -s');
      const [goos, goarch] = p.split('/');
      assert.equal(info.settings.find((s) => s.key === 'GOOS')?.value, goos);
      assert.equal(info.settings.find((s) => s.key === 'GOARCH')?.value, goarch);
    });
  }
});

describe('Go build info from published binaries (npm packages)', () => {
  test('lefthook-linux-x64: ELF with module info and dozens of deps', async (t) => {
    const buf = await npmPackageFile('lefthook-linux-x64@2.2.2', 'bin/lefthook');
    if (!buf) return t.skip('npm registry unreachable: lefthook-linux-x64 not available');
    const tmp = await makeTmp();
    try {
      const file = join(tmp, 'lefthook');
      await writeFile(file, buf, { mode: 0o755 }); // go version -m skips files that are not executable
      const info = await assertMatchesGo(file);
      assert.equal(info.main?.path, 'github.com/evilmartians/lefthook/v2');
      assert.equal(info.main?.version, 'v2.2.2');
      assert.ok(info.deps.length >= 40, `only ${info.deps.length} deps`);
    } finally {
      await removeTmp(tmp);
    }
  });

  test('@bazel/bazelisk: Go version without module info, on ELF, PE and Mach-O', async (t) => {
    const names = ['bazelisk-linux_arm64', 'bazelisk-windows_amd64.exe', 'bazelisk-darwin_amd64'];
    for (const n of names) {
      const buf = await npmPackageFile('@bazel/bazelisk@1.28.1', n);
      if (!buf) return t.skip('npm registry unreachable: @bazel/bazelisk not available');
      const info = readGoBuildInfo(parseExecutable(buf, n), n);
      assert.equal(info?.goVersion, 'go1.24.0', n);
      assert.equal(info?.main, undefined);
      assert.deepEqual(info?.deps, []);
    }
  });
});

const START = Buffer.from('3077af0c9274080241e1c107e6d618e6', 'hex');
const END = Buffer.from('f932433186182072008242104116d8f2', 'hex');
const MODINFO =
  'path\texample.com/old/cmd\nmod\texample.com/old\tv0.9.1\th1:abc=\ndep\tgolang.org/x/sys\tv0.0.1\th1:def=\n';

/**
 * Pre-1.18 layout (no Go older than 1.18 is installed here, so the binary is synthesized): header
 * with two pointers to Go string headers {ptr, len}, dereferenced through the segment map.
 */
function pointerFormatElf(is64: boolean, le: boolean): Buffer {
  const ptr = is64 ? 8 : 4;
  const version = Buffer.from('go1.16.15');
  const modinfo = Buffer.concat([START, Buffer.from(MODINFO), END]);
  const hdrV = 32;
  const hdrM = 32 + 2 * ptr;
  const dataV = 32 + 4 * ptr;
  const dataM = dataV + version.length;
  const sec = Buffer.alloc(dataM + modinfo.length);
  Buffer.from('\xff Go buildinf:', 'latin1').copy(sec, 0);
  sec[14] = ptr;
  sec[15] = le ? 0 : 1;
  const addr = SYNTHETIC_BASE + BigInt(SYNTHETIC_FIRST_SECTION);
  const put = (v: bigint, o: number) => {
    if (ptr === 8) le ? sec.writeBigUInt64LE(v, o) : sec.writeBigUInt64BE(v, o);
    else le ? sec.writeUInt32LE(Number(v), o) : sec.writeUInt32BE(Number(v), o);
  };
  put(addr + BigInt(hdrV), 16);
  put(addr + BigInt(hdrM), 16 + ptr);
  put(addr + BigInt(dataV), hdrV);
  put(BigInt(version.length), hdrV + ptr);
  put(addr + BigInt(dataM), hdrM);
  put(BigInt(modinfo.length), hdrM + ptr);
  version.copy(sec, dataV);
  modinfo.copy(sec, dataM);
  return makeElf({ is64, le, machine: is64 ? 62 : 20, sections: [{ name: '.go.buildinfo', data: sec }] });
}

describe('pre-1.18 pointer layout (synthetic)', () => {
  for (const [is64, le] of [
    [true, true],
    [false, false],
  ] as const) {
    test(`${is64 ? 64 : 32}-bit ${le ? 'little' : 'big'}-endian`, () => {
      const buf = pointerFormatElf(is64, le);
      const info = readGoBuildInfo(parseExecutable(buf, 'old'), 'old');
      assert.equal(info?.layout, 'pointer');
      assert.equal(info?.goVersion, 'go1.16.15');
      assert.equal(info?.path, 'example.com/old/cmd');
      assert.deepEqual(info?.main, { path: 'example.com/old', version: 'v0.9.1', sum: 'h1:abc=' });
      assert.deepEqual(info?.deps, [{ path: 'golang.org/x/sys', version: 'v0.0.1', sum: 'h1:def=' }]);
    });
  }

  test('a pointer to an unmapped address is MALFORMED', () => {
    const buf = pointerFormatElf(true, true);
    const at = buf.indexOf('\xff Go buildinf:', 0, 'latin1');
    buf.writeBigUInt64LE(0xdead0000n, at + 16);
    assert.throws(
      () => readGoBuildInfo(parseExecutable(buf, 'old'), 'old'),
      (e) => e instanceof WaybillError && e.code === 'MALFORMED',
    );
  });
});

describe('modinfo text', () => {
  test('quoted keys and values, unknown words, replacement without a module before it', () => {
    const info = parseModinfo('build\t"odd key"="a \\"b\\"\\tc"\nbuild\tX=\nfuture\tthing\n', 'm');
    assert.deepEqual(info.settings, [
      { key: 'odd key', value: 'a "b"\tc' },
      { key: 'X', value: '' },
    ]);
    assert.throws(() => parseModinfo('=>\ta\tv1\t\n', 'm'), /no module before it/);
    assert.throws(() => parseModinfo('build\tnovalue\n', 'm'), WaybillError);
  });

  test('a length past the section is MALFORMED', () => {
    const sec = Buffer.alloc(64);
    Buffer.from('\xff Go buildinf:', 'latin1').copy(sec, 0);
    sec[14] = 8;
    sec[15] = 2;
    sec[32] = 0x7f; // version length 127 > what is left
    const buf = makeElf({
      is64: true,
      le: true,
      machine: 62,
      sections: [{ name: '.go.buildinfo', data: sec }],
    });
    assert.throws(
      () => readGoBuildInfo(parseExecutable(buf, 'x'), 'x'),
      (e) => e instanceof WaybillError && e.code === 'MALFORMED',
    );
  });
});

describe('never throws anything but WaybillError', () => {
  const onlyWaybill = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof WaybillError)) throw e;
    }
  };

  test('random build info blobs in a synthetic ELF', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 200 }),
        fc.constantFrom(2, 0, 1, 3),
        (tail, flags) => {
          const head = Buffer.alloc(16);
          Buffer.from('\xff Go buildinf:', 'latin1').copy(head, 0);
          head[14] = 8;
          head[15] = flags;
          const data = Buffer.concat([head, Buffer.from(tail)]);
          const buf = makeElf({
            is64: true,
            le: true,
            machine: 62,
            sections: [{ name: '.go.buildinfo', data }],
          });
          onlyWaybill(() => readGoBuildInfo(parseExecutable(buf, 'f'), 'f'));
        },
      ),
      { numRuns: 500 },
    );
  });

  test('mutated pointer-layout binaries', () => {
    const base = pointerFormatElf(true, true);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }),
        (muts) => {
          const buf = Buffer.from(base);
          for (const [i, v] of muts) buf[i] = v;
          onlyWaybill(() => readGoBuildInfo(parseExecutable(buf, 'f'), 'f'));
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('random modinfo text', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom('\t', '\n', '"', '\\', '=', 'x', 'u', '7', ' ', 'd', 'e', 'p', '>'),
        }),
        (s) => {
          onlyWaybill(() => parseModinfo(s, 'm'));
          onlyWaybill(() => parseModinfo(`build\t${s}`, 'm'));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
