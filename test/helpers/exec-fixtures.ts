/**
 * Real executables for the format and cataloger tests: Go programs cross-compiled with the local
 * toolchain (modules served from a file:// proxy written here, so there is no network and every dep
 * has a real go.sum hash), a gcc-built C program, and Go binaries shipped in npm packages (cached
 * under test/fixtures/cache/npm, skipped when the registry is unreachable).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const NPM_CACHE = fileURLToPath(new URL('../fixtures/cache/npm', import.meta.url));

export async function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const { stdout } = await exec(cmd, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    maxBuffer: 64 * 1024 * 1024,
    encoding: 'utf8',
  });
  return stdout;
}

export async function hasTool(cmd: string): Promise<boolean> {
  try {
    await exec('sh', ['-c', `command -v ${cmd}`]);
    return true;
  } catch {
    return false;
  }
}

export async function makeTmp(prefix = 'waybill-exec-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeTmp(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** A zip file as a module proxy serves it: every path under `<module>@<version>/`. */
async function moduleZip(
  dir: string,
  mod: string,
  version: string,
  files: Record<string, string>,
): Promise<void> {
  const src = join(dir, 'zipsrc');
  await rm(src, { recursive: true, force: true });
  const root = join(src, `${mod}@${version}`);
  for (const [name, body] of Object.entries(files)) {
    await mkdir(join(root, name, '..'), { recursive: true });
    await writeFile(join(root, name), body);
  }
  const out = join(dir, `${version}.zip`);
  await run('python3', [
    '-c',
    'import sys,os,zipfile\nz=zipfile.ZipFile(sys.argv[1],"w")\nfor d,_,fs in os.walk(sys.argv[2]):\n  for f in sorted(fs):\n    p=os.path.join(d,f); z.write(p, os.path.relpath(p, sys.argv[2]))\nz.close()',
    out,
    src,
  ]);
  await rm(src, { recursive: true, force: true });
}

async function proxyModule(proxy: string, mod: string, version: string, pkgFile: string, body: string) {
  const dir = join(proxy, mod, '@v');
  await mkdir(dir, { recursive: true });
  const gomod = `module ${mod}\n\ngo 1.17\n`;
  await writeFile(join(dir, 'list'), `${version}\n`);
  await writeFile(
    join(dir, `${version}.info`),
    JSON.stringify({ Version: version, Time: '2023-01-02T03:04:05Z' }),
  );
  await writeFile(join(dir, `${version}.mod`), gomod);
  await moduleZip(dir, mod, version, { 'go.mod': gomod, [pkgFile]: body });
}

export interface GoProject {
  dir: string;
  env: NodeJS.ProcessEnv;
}

/**
 * example.com/app with three deps: example.com/greet v1.2.0 (plain, with a go.sum hash),
 * example.com/orig v1.0.0 replaced by example.com/fork v0.3.0 (versioned replacement) and
 * example.com/local replaced by the directory ./local.
 */
export async function makeGoProject(tmp: string): Promise<GoProject> {
  const proxy = join(tmp, 'proxy');
  await proxyModule(
    proxy,
    'example.com/greet',
    'v1.2.0',
    'greet.go',
    'package greet\n\nfunc Hello() string { return "hello" }\n',
  );
  await proxyModule(
    proxy,
    'example.com/fork',
    'v0.3.0',
    'orig.go',
    'package orig\n\nfunc Name() string { return "fork" }\n',
  );
  const dir = join(tmp, 'app');
  await mkdir(join(dir, 'local'), { recursive: true });
  await writeFile(join(dir, 'local', 'go.mod'), 'module example.com/local\n\ngo 1.17\n');
  await writeFile(join(dir, 'local', 'local.go'), 'package local\n\nconst Where = "here"\n');
  await writeFile(
    join(dir, 'go.mod'),
    [
      'module example.com/app',
      '',
      'go 1.17',
      '',
      'require (',
      '\texample.com/greet v1.2.0',
      '\texample.com/local v0.0.0',
      '\texample.com/orig v1.0.0',
      ')',
      '',
      'replace example.com/orig v1.0.0 => example.com/fork v0.3.0',
      '',
      'replace example.com/local => ./local',
      '',
    ].join('\n'),
  );
  await writeFile(
    join(dir, 'main.go'),
    [
      'package main',
      '',
      'import (',
      '\t"fmt"',
      '',
      '\t"example.com/greet"',
      '\t"example.com/local"',
      '\t"example.com/orig"',
      ')',
      '',
      'var version = "dev"',
      '',
      'func main() { fmt.Println(greet.Hello(), orig.Name(), local.Where, version) }',
      '',
    ].join('\n'),
  );
  const env: NodeJS.ProcessEnv = {
    GOFLAGS: '-mod=mod -modcacherw',
    GOPROXY: `file://${proxy}`,
    GOSUMDB: 'off',
    GONOSUMDB: '*',
    GOPRIVATE: '',
    GOMODCACHE: join(tmp, 'modcache'),
    GOWORK: 'off',
    CGO_ENABLED: '0',
    // go needs a build cache; CI may run without HOME. The default one is kept between runs when it can be.
    ...(process.env.GOCACHE || process.env.HOME || process.env.XDG_CACHE_HOME
      ? {}
      : { GOCACHE: join(tmpdir(), 'waybill-go-build-cache') }),
  };
  return { dir, env };
}

/** Build the project for one platform; `-ldflags` with a space makes a quoted build setting. */
export async function buildGo(
  project: GoProject,
  goos: string,
  goarch: string,
  out: string,
): Promise<string> {
  await run('go', ['build', '-buildvcs=false', '-ldflags=-X main.version=1.2.3 -s', '-o', out, '.'], {
    cwd: project.dir,
    env: { ...project.env, GOOS: goos, GOARCH: goarch },
  });
  return out;
}

/** A small C program, compiled natively: a real ELF with the usual sections. */
export async function buildC(tmp: string): Promise<string> {
  const src = join(tmp, 'hello.c');
  await writeFile(src, '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n');
  const out = join(tmp, 'hello-c');
  await run('gcc', ['-O1', '-o', out, src]);
  return out;
}

/**
 * One file from an npm package, downloaded with `npm pack` into the gitignored cache once.
 * Undefined (the caller skips) when the registry cannot be reached.
 */
export async function npmPackageFile(spec: string, inner: string): Promise<Buffer | undefined> {
  const key = createHash('sha256').update(spec).digest('hex').slice(0, 16);
  const dest = join(NPM_CACHE, `exec-${key}`);
  if (!existsSync(join(dest, 'package'))) {
    await mkdir(NPM_CACHE, { recursive: true });
    const work = await mkdtemp(join(tmpdir(), 'waybill-pack-'));
    try {
      await run('npm', ['pack', '--silent', spec, '--pack-destination', work], { cwd: work });
      const tgz = (await run('sh', ['-c', 'ls *.tgz'], { cwd: work })).trim().split('\n')[0]!;
      await run('tar', ['xzf', tgz], { cwd: work });
      await rm(join(work, tgz));
      await rename(work, dest).catch(async () => removeTmp(work)); // another test process won the race
    } catch {
      await removeTmp(work);
      return undefined;
    }
  }
  try {
    return await readFile(join(dest, 'package', inner));
  } catch {
    return undefined;
  }
}

export interface SyntheticSection {
  name: string;
  data: Buffer;
  /** ELF sh_type; default SHT_PROGBITS (1). */
  type?: number;
}

/** Where makeElf maps the file (one PT_LOAD segment from offset 0) and puts its first section. */
export const SYNTHETIC_BASE = 0x400000n;
export const SYNTHETIC_FIRST_SECTION = 0x100;

/**
 * A minimal ELF executable built byte by byte: header, one read/write PT_LOAD mapping the whole file
 * at SYNTHETIC_BASE, the given sections (16-byte aligned from offset 0x100, sh_addr = base + offset),
 * a .shstrtab and the section header table. For layouts no toolchain here produces (big-endian,
 * 32-bit, pre-1.18 Go build info).
 */
export function makeElf(opts: {
  is64: boolean;
  le: boolean;
  machine: number;
  sections: SyntheticSection[];
}): Buffer {
  const { is64, le } = opts;
  const ehsize = is64 ? 64 : 52;
  const phsize = is64 ? 56 : 32;
  const shsize = is64 ? 64 : 40;
  const names = ['', ...opts.sections.map((s) => s.name), '.shstrtab'];
  const nameOffsets: number[] = [];
  let strtab = '';
  for (const n of names) {
    nameOffsets.push(strtab.length);
    strtab += `${n}\0`;
  }
  const all = [...opts.sections, { name: '.shstrtab', data: Buffer.from(strtab, 'latin1'), type: 3 }];
  const offsets: number[] = [];
  let off = SYNTHETIC_FIRST_SECTION;
  for (const s of all) {
    offsets.push(off);
    off = (off + s.data.length + 15) & ~15;
  }
  const shoff = off;
  const total = shoff + shsize * (all.length + 1);
  const b = Buffer.alloc(total);
  const u16 = (v: number, o: number) => (le ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
  const u32 = (v: number, o: number) => (le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  const u64 = (v: bigint, o: number) => (le ? b.writeBigUInt64LE(v, o) : b.writeBigUInt64BE(v, o));
  const word = (v: bigint | number, o: number) => (is64 ? u64(BigInt(v), o) : u32(Number(v), o));
  b.write('\x7fELF', 0, 'latin1');
  b[4] = is64 ? 2 : 1;
  b[5] = le ? 1 : 2;
  b[6] = 1;
  u16(2, 16); // ET_EXEC
  u16(opts.machine, 18);
  u32(1, 20);
  word(SYNTHETIC_BASE, 24);
  word(ehsize, is64 ? 32 : 28); // e_phoff
  word(shoff, is64 ? 40 : 32); // e_shoff
  u16(ehsize, is64 ? 52 : 40);
  u16(phsize, is64 ? 54 : 42);
  u16(1, is64 ? 56 : 44);
  u16(shsize, is64 ? 58 : 46);
  u16(all.length + 1, is64 ? 60 : 48);
  u16(all.length, is64 ? 62 : 50); // .shstrtab is last
  const ph = ehsize;
  u32(1, ph); // PT_LOAD
  if (is64) {
    u32(6, ph + 4); // PF_R | PF_W
    u64(0n, ph + 8);
    u64(SYNTHETIC_BASE, ph + 16);
    u64(SYNTHETIC_BASE, ph + 24);
    u64(BigInt(total), ph + 32);
    u64(BigInt(total), ph + 40);
    u64(0x1000n, ph + 48);
  } else {
    u32(0, ph + 4);
    u32(Number(SYNTHETIC_BASE), ph + 8);
    u32(Number(SYNTHETIC_BASE), ph + 12);
    u32(total, ph + 16);
    u32(total, ph + 20);
    u32(6, ph + 24);
    u32(0x1000, ph + 28);
  }
  all.forEach((s, i) => {
    s.data.copy(b, offsets[i]!);
    const h = shoff + shsize * (i + 1);
    u32(nameOffsets[i + 1]!, h);
    u32(s.type ?? 1, h + 4);
    if (is64) {
      u64(2n, h + 8); // SHF_ALLOC
      u64(SYNTHETIC_BASE + BigInt(offsets[i]!), h + 16);
      u64(BigInt(offsets[i]!), h + 24);
      u64(BigInt(s.data.length), h + 32);
      u64(4n, h + 48);
    } else {
      u32(2, h + 8);
      u32(Number(SYNTHETIC_BASE) + offsets[i]!, h + 12);
      u32(offsets[i]!, h + 16);
      u32(s.data.length, h + 20);
      u32(4, h + 32);
    }
  });
  return b;
}

/** The shape cargo-auditable writes (rust-audit-info prints the same JSON). */
export const AUDIT_JSON = {
  packages: [
    { name: 'mytool', version: '0.4.1', source: 'local', dependencies: [1, 2], root: true },
    { name: 'serde', version: '1.0.197', source: 'crates.io', dependencies: [] },
    { name: 'cc', version: '1.0.90', source: 'crates.io', kind: 'build', dependencies: [] },
  ],
};

/** Copy `src` with a `.dep-v0` section holding `payload` (objcopy), as cargo-auditable would link it. */
export async function addDepSection(src: string, payload: Buffer, out: string, dir: string): Promise<string> {
  const p = join(dir, `${out}.dep`);
  await writeFile(p, payload);
  await run('objcopy', ['--add-section', `.dep-v0=${p}`, src, join(dir, out)]);
  return join(dir, out);
}
