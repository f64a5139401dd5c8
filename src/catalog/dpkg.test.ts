import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import type { FileEntry, WalkedFile } from '../sources/types.ts';
import { dpkgCataloger, dpkgOwnedFiles, parseMd5sums, wantDpkg } from './dpkg.ts';
import { parseRelationships } from './dpkg-depends.ts';
import type { CatalogContext, Component, Distro } from './types.ts';

const DPKG = new URL('../../../shared/fixtures/vectors/os-package-db/dpkg/', import.meta.url).pathname;
const DEBIAN12: Distro = { id: 'debian', versionId: '12', versionCodename: 'bookworm' };

const entry = (path: string): FileEntry => ({ path, type: 'file', size: 0, mode: 0o644 });
const walked = (path: string, data: Buffer | string): WalkedFile => ({
  entry: entry(path),
  data: Buffer.from(data),
  earlier: [],
});

async function run(files: WalkedFile[], distro: Distro | null = DEBIAN12) {
  const warnings: string[] = [];
  const ctx: CatalogContext = { warn: (p, r) => warnings.push(`${p}: ${r}`) };
  if (distro) ctx.distro = distro;
  const components = (await dpkgCataloger.catalog(files, ctx)) as Component[];
  return { components, warnings, ctx };
}

/** Go txtar archives: `-- name --` lines introduce each file. */
function txtar(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = text.split(/^-- (.+?) --$\n?/m);
  for (let i = 1; i + 1 < parts.length; i += 2) out.set(parts[i]!, parts[i + 1]!);
  return out;
}

/** dpkg-query over a status file: `name:arch version` of installed packages (dpkg's own reading). */
function dpkgQuery(admindir?: string): string[] | undefined {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format placeholders
  const format = ['${db:Status-Status}', '${Package}:${Architecture}', '${Version}'].join(' ');
  const args = ['-W', `-f=${format}\\n`];
  if (admindir) args.unshift(`--admindir=${admindir}`);
  try {
    const out = execFileSync('dpkg-query', args, {
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 64 << 20,
    }).toString();
    return out
      .split('\n')
      .filter((l) => l.startsWith('installed '))
      .map((l) => l.slice('installed '.length))
      .sort();
  } catch {
    return undefined;
  }
}

const asDpkgLine = (c: Component) => `${c.name}:${c.properties['waybill:arch']} ${c.version}`;

test('want: status, status.d control files and md5sums lists; nothing else', () => {
  const yes = [
    'var/lib/dpkg/status',
    'var/lib/dpkg/status.d/libc6',
    'var/lib/dpkg/status.d/libc6.md5sums',
    'var/lib/dpkg/info/libc6:amd64.md5sums',
    'var/lib/dpkg/status.d/python3.11',
  ];
  const no = [
    'var/lib/dpkg/status-old',
    'var/lib/dpkg/info/libc6.list',
    'var/lib/dpkg/status.d/libc6.preinst',
    'var/lib/dpkg/info/x/y.md5sums',
    'var/lib/dpkg/status.d/',
    'usr/var/lib/dpkg/status',
    'var/lib/dpkg/available',
  ];
  for (const p of yes) assert.equal(wantDpkg(entry(p)), true, p);
  for (const p of no) assert.equal(wantDpkg(entry(p)), false, p);
});

test('multi-arch: libc6:amd64 and libc6:i386 are two components, each with its own md5sums; Source with version', async () => {
  const stanza = (arch: string) =>
    `Package: libc6\nStatus: install ok installed\nMaintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>\nArchitecture: ${arch}\nMulti-Arch: same\nSource: glibc (2.36-9+deb12u4)\nVersion: 2.36-9+deb12u4+b1\nDescription: GNU C Library: Shared libraries\n Contains the standard libraries.\n`;
  const status = [
    stanza('amd64'),
    stanza('i386'),
    'Package: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.88.1-10+deb12u5\n',
    'Package: gone\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1\n',
    'Package: half\nStatus: install ok half-configured\nArchitecture: amd64\nVersion: 1\n',
    'Package: epochy\nStatus: hold ok installed\nArchitecture: all\nVersion: 1:2.0-1\n',
  ].join('\n');
  const files = [
    walked('var/lib/dpkg/status', status),
    walked(
      'var/lib/dpkg/info/libc6:amd64.md5sums',
      'd41d8cd98f00b204e9800998ecf8427e  lib/x86_64-linux-gnu/libc.so.6\nd41d8cd98f00b204e9800998ecf8427e  usr/share/doc/libc6/copyright\n',
    ),
    walked(
      'var/lib/dpkg/info/libc6:i386.md5sums',
      'd41d8cd98f00b204e9800998ecf8427e  lib/i386-linux-gnu/libc.so.6\n',
    ),
    walked('var/lib/dpkg/info/curl.md5sums', 'd41d8cd98f00b204e9800998ecf8427e  usr/bin/curl\n'),
  ];
  const { components, warnings, ctx } = await run(files);
  assert.deepEqual(warnings, []);
  assert.deepEqual(
    components.map((c) => c.purl),
    [
      'pkg:deb/debian/curl@7.88.1-10+deb12u5?arch=amd64&distro=debian-12',
      'pkg:deb/debian/epochy@1:2.0-1?arch=all&distro=debian-12',
      'pkg:deb/debian/libc6@2.36-9+deb12u4+b1?arch=amd64&distro=debian-12',
      'pkg:deb/debian/libc6@2.36-9+deb12u4+b1?arch=i386&distro=debian-12',
    ],
  );
  const libc = components[2]!;
  assert.equal(libc.properties['waybill:source-package'], 'glibc');
  assert.equal(libc.properties['waybill:source-version'], '2.36-9+deb12u4');
  assert.equal(libc.properties['waybill:owned-files'], '2');
  assert.equal(components[3]!.properties['waybill:owned-files'], '1');
  assert.equal(libc.supplier, 'GNU Libc Maintainers <debian-glibc@lists.debian.org>');
  assert.equal(libc.description, 'GNU C Library: Shared libraries');
  const owned = dpkgOwnedFiles(files, ctx);
  assert.equal(owned.get('lib/i386-linux-gnu/libc.so.6'), components[3]!.purl);
  assert.equal(owned.get('usr/bin/curl'), components[0]!.purl);
  assert.equal(owned.size, 4);
  // Without a distro the namespace falls back to debian and there is no distro qualifier.
  const bare = await run(files, null);
  assert.equal(bare.components[0]!.purl, 'pkg:deb/debian/curl@7.88.1-10+deb12u5?arch=amd64');
});

test('syft image-dpkg: status + info md5sums + os-release', async (t) => {
  const root = `${DPKG}syft/image-dpkg/`;
  if (!existsSync(root)) return t.skip(`fixtures absent: ${root}`);
  const files = [
    walked('var/lib/dpkg/status', readFileSync(`${root}var/lib/dpkg/status`)),
    walked(
      'var/lib/dpkg/info/libpam-runtime.md5sums',
      readFileSync(`${root}var/lib/dpkg/info/libpam-runtime.md5sums`),
    ),
  ];
  const { components, warnings } = await run(files);
  assert.equal(warnings.length, 1, 'the empty "Package:" stanza is reported');
  assert.equal(components.length, 1);
  const c = components[0]!;
  assert.equal(c.purl, 'pkg:deb/debian/libpam-runtime@1.1.8-3.6?arch=all&distro=debian-12');
  assert.equal(c.properties['waybill:source-package'], 'pam');
  assert.equal(c.properties['waybill:source-version'], '1.1.8-3.6');
  assert.equal(c.properties['waybill:owned-files'], String(parseMd5sums(files[1]!.data.toString()).length));
  assert.ok(Number(c.properties['waybill:owned-files']) > 0);
});

test('syft status.d edge cases: distroless layout, deinstall, corrupt, empty, no version', async (t) => {
  const dir = `${DPKG}syft/var/lib/dpkg/status.d/`;
  if (!existsSync(dir)) return t.skip('fixtures absent');
  const files = readdirSync(dir).map((n) => walked(`var/lib/dpkg/status.d/${n}`, readFileSync(dir + n)));
  const { components, warnings } = await run(files);
  const names = components.map((c) => `${c.name}:${c.properties['waybill:arch']}`);
  // deinstall: the config-files entry is not installed; the first one is.
  assert.ok(names.includes('linux-image-6.14.0-1012-aws:amd64'));
  assert.ok(!names.includes('linux-image-6.8.0-1029-aws:amd64'));
  // status.d files written without Status (doc-examples) count as installed when they have a version.
  assert.ok(names.includes('mutt:all'));
  assert.ok(names.includes('tzdata:all') && names.includes('apt:amd64') && names.includes('coreutils:arm64'));
  assert.ok(names.includes('libpam-runtime:all'));
  for (const file of ['corrupt', 'empty', 'multiple']) {
    assert.ok(
      warnings.some((w) => w.startsWith(`var/lib/dpkg/status.d/${file}:`)),
      `warning for ${file}`,
    );
  }
  const libattr = components.find((c) => c.name === 'libattr1')!;
  assert.equal(libattr.version, '1:2.5.1-4');
  const distroless = `${DPKG}syft/image-distroless-deb/var/lib/dpkg/status.d/`;
  const dl = readdirSync(distroless)
    .filter((n) => wantDpkg(entry(`var/lib/dpkg/status.d/${n}`)))
    .map((n) => walked(`var/lib/dpkg/status.d/${n}`, readFileSync(distroless + n)));
  assert.equal(dl.length, 2, 'the .preinst is not wanted');
  const r = await run(dl);
  assert.deepEqual(
    r.components.map((c) => c.purl),
    ['pkg:deb/debian/libsqlite3-0@3.34.1-3?arch=arm64&distro=debian-12'],
  );
  assert.equal(
    r.components[0]!.properties['waybill:owned-files'],
    String(parseMd5sums(readFileSync(`${distroless}libsqlite3-0.md5sums`, 'utf8')).length),
  );
});

test('trivy status files: the same installed set as dpkg-query --admindir', async (t) => {
  const dir = `${DPKG}trivy/`;
  if (!existsSync(dir)) return t.skip('fixtures absent');
  const tmp = mkdtempSync(join(tmpdir(), 'waybill-dpkg-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  let compared = 0;
  for (const name of readdirSync(dir)) {
    const status = txtar(readFileSync(dir + name, 'utf8')).get('var/lib/dpkg/status');
    if (status === undefined) continue;
    writeFileSync(join(tmp, 'status'), status);
    const reference = dpkgQuery(tmp);
    const { components } = await run([walked('var/lib/dpkg/status', status)]);
    if (!reference) {
      t.diagnostic(`${name}: dpkg-query cannot read it; ${components.length} components`);
      continue;
    }
    assert.deepEqual(components.map(asDpkgLine).sort(), reference, name);
    compared++;
  }
  assert.ok(compared >= 4, `compared ${compared} files with dpkg-query`);
});

test("this machine's /var/lib/dpkg/status: exactly dpkg-query's installed set", async (t) => {
  if (!existsSync('/var/lib/dpkg/status')) return t.skip('no dpkg database here');
  const reference = dpkgQuery();
  if (!reference) return t.skip('dpkg-query not available');
  const { components, warnings } = await run([
    walked('var/lib/dpkg/status', readFileSync('/var/lib/dpkg/status')),
  ]);
  assert.deepEqual(warnings, []);
  assert.deepEqual(components.map(asDpkgLine).sort(), reference);
});

test('Depends and Pre-Depends: alternatives, virtual packages, arch qualifiers, resolved to what is installed', () => {
  assert.deepEqual(parseRelationships('a (>= 1) | b:any, c [amd64] <!nocheck>, python3:native'), [
    [{ name: 'a' }, { name: 'b', arch: 'any' }],
    [{ name: 'c' }],
    [{ name: 'python3', arch: 'native' }],
  ]);
  const status = [
    'Package: app\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\nPre-Depends: libc6 (>= 2.36)\nDepends: mawk | awk, python3:any, debconf (>= 0.5) | debconf-2.0, missing, libfoo:i386\n',
    'Package: libc6\nStatus: install ok installed\nVersion: 2.36\nArchitecture: amd64\n',
    'Package: libfoo\nStatus: install ok installed\nVersion: 1\nArchitecture: i386\n',
    'Package: libfoo\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n',
    'Package: gawk\nStatus: install ok installed\nVersion: 5\nArchitecture: amd64\nProvides: awk\n',
    'Package: python3\nStatus: install ok installed\nVersion: 3.11\nArchitecture: amd64\n',
    'Package: cdebconf\nStatus: install ok installed\nVersion: 0.1\nArchitecture: amd64\nProvides: debconf-2.0\n',
    'Package: old\nStatus: deinstall ok config-files\nVersion: 1\nArchitecture: amd64\nProvides: awk\n',
  ].join('\n');
  const components = dpkgCataloger.catalog(
    [
      {
        entry: { path: 'var/lib/dpkg/status', type: 'file', size: status.length, mode: 0o644 },
        data: Buffer.from(status),
        earlier: [],
      },
    ],
    { warn: () => {} },
  ) as Component[];
  const app = components.find((c) => c.name === 'app')!;
  assert.deepEqual(
    app.dependsOn?.map((p) => p.replace(/^pkg:deb\/debian\//, '')),
    [
      'cdebconf@0.1?arch=amd64',
      'gawk@5?arch=amd64',
      'libc6@2.36?arch=amd64',
      'libfoo@1?arch=i386',
      'python3@3.11?arch=amd64',
    ],
  );
});

test('multi-arch: a dependency resolves to the architecture dpkg checks it against (depcon.c deparchsatisfied)', async () => {
  // Real bookworm stanzas (fields the cataloger reads) of an amd64 system with i386 added:
  // libc6, libgcc-s1 and gcc-12-base installed for both (Multi-Arch: same), and
  // libmono-posix4.0-cil, an Architecture: all package that depends on libc6.
  const status = [
    'Package: dpkg\nStatus: install ok installed\nArchitecture: amd64\nMulti-Arch: foreign\nVersion: 1.21.23\nPre-Depends: libc6 (>= 2.34)\n',
    ...['amd64', 'i386'].flatMap((arch) => [
      `Package: gcc-12-base\nStatus: install ok installed\nArchitecture: ${arch}\nMulti-Arch: same\nVersion: 12.2.0-14+deb12u1\n`,
      `Package: libc6\nStatus: install ok installed\nArchitecture: ${arch}\nMulti-Arch: same\nVersion: 2.36-9+deb12u14\nDepends: libgcc-s1\n`,
      `Package: libgcc-s1\nStatus: install ok installed\nArchitecture: ${arch}\nMulti-Arch: same\nVersion: 12.2.0-14+deb12u1\nProvides: libgcc1 (= 1:12.2.0-14+deb12u1)\nDepends: gcc-12-base (= 12.2.0-14+deb12u1), libc6 (>= 2.35)\n`,
    ]),
    'Package: libmono-posix4.0-cil\nStatus: install ok installed\nVersion: 6.8.0.105+dfsg-3.3+deb12u1\nArchitecture: all\nDepends: libc6 (>= 2.36) | libc6.1 (>= 2.36) | libc0.1 (>= 2.36), mono-runtime (>= 2.10.1)\n',
    // A foreign-architecture tool: dpkg (Multi-Arch: foreign) satisfies it from amd64; `:native`
    // names the native libc6 whatever the depending package's architecture.
    'Package: tool\nStatus: install ok installed\nArchitecture: i386\nVersion: 1\nDepends: libc6, dpkg, libgcc-s1:native, python3:any | python3-minimal, awk\n',
    // bookworm's python3 and python3-minimal are Multi-Arch: allowed, mawk is foreign: python3:any is
    // satisfied from amd64, the bare python3-minimal alternative is not; awk through mawk's Provides.
    'Package: python3\nStatus: install ok installed\nArchitecture: amd64\nMulti-Arch: allowed\nVersion: 3.11.2-1+b1\n',
    'Package: python3-minimal\nStatus: install ok installed\nArchitecture: amd64\nMulti-Arch: allowed\nVersion: 3.11.2-1+b1\n',
    'Package: mawk\nStatus: install ok installed\nArchitecture: amd64\nMulti-Arch: foreign\nVersion: 1.3.4.20200120-3.1\nProvides: awk\n',
  ].join('\n');
  const { components } = await run([walked('var/lib/dpkg/status', status)]);
  const deps = (name: string, arch: string) =>
    components
      .find((c) => c.name === name && c.purl.includes(`arch=${arch}`))
      ?.dependsOn?.map((p) => p.replace(/^pkg:deb\/debian\/([^@]+)@[^?]*\?arch=(\w+).*$/, '$1:$2'));
  assert.deepEqual(deps('libmono-posix4.0-cil', 'all'), ['libc6:amd64']);
  assert.deepEqual(deps('libgcc-s1', 'i386'), ['gcc-12-base:i386', 'libc6:i386']);
  assert.deepEqual(deps('libc6', 'amd64'), ['libgcc-s1:amd64']);
  assert.deepEqual(deps('tool', 'i386'), [
    'dpkg:amd64',
    'libc6:i386',
    'libgcc-s1:amd64',
    'mawk:amd64',
    'python3:amd64',
  ]);
});

test("a stock package's long Provides (trixie: librust-winapi-dev 75 KB) keeps the package and its edges", async () => {
  // Debian trixie's longest installed-package fields are Provides lists: node-lodash-packages
  // (20 755 bytes, pulled in by Debian's npm) and librust-winapi-dev (75 649 bytes).
  const provides = Array.from({ length: 3000 }, (_, i) => `librust-winapi-feature${i}-dev (= 0.3.9-1)`);
  const status = [
    `Package: librust-winapi-dev\nStatus: install ok installed\nVersion: 0.3.9-1\nArchitecture: amd64\nProvides: ${provides.join(', ')}\n`,
    'Package: app\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\nDepends: librust-winapi-feature2999-dev\n',
  ].join('\n');
  assert.ok(status.length > 100_000);
  const { components, warnings } = await run([walked('var/lib/dpkg/status', status)]);
  assert.deepEqual(warnings, []);
  assert.deepEqual(components.map(asDpkgLine).sort(), ['app:amd64 1', 'librust-winapi-dev:amd64 0.3.9-1']);
  const app = components.find((c) => c.name === 'app')!;
  assert.deepEqual(app.dependsOn, ['pkg:deb/debian/librust-winapi-dev@0.3.9-1?arch=amd64&distro=debian-12']);
});

test('licenses from usr/share/doc/<pkg>/copyright, through doc-folder and file symlinks', () => {
  const status =
    'Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n\nPackage: b\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n\nPackage: c\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n\nPackage: d\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n';
  const f = (path: string, data: string, extra: Partial<FileEntry> = {}): WalkedFile => ({
    entry: { path, type: 'file', size: data.length, mode: 0o644, ...extra },
    data: Buffer.from(data),
    earlier: [],
  });
  const files = [
    f('var/lib/dpkg/status', status),
    f(
      'usr/share/doc/a/copyright',
      'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-2+\n',
    ),
    f('usr/share/doc/b', '', { type: 'symlink', linkTarget: 'a' }),
    f('usr/share/doc/c/copyright', '', { type: 'symlink', linkTarget: '../a/copyright' }),
  ];
  for (const file of files) assert.equal(wantDpkg(file.entry), true, file.entry.path);
  assert.equal(wantDpkg({ path: 'usr/share/doc/a/changelog.gz', type: 'file', size: 1, mode: 0o644 }), false);
  assert.equal(
    wantDpkg({ path: 'usr/share/doc/a/copyright', type: 'file', size: 10 << 20, mode: 0o644 }),
    false,
  );
  const components = dpkgCataloger.catalog(files, { warn: () => {} }) as Component[];
  assert.deepEqual(Object.fromEntries(components.map((c) => [c.name, c.licenses])), {
    a: ['GPL-2.0-or-later'],
    b: ['GPL-2.0-or-later'],
    c: ['GPL-2.0-or-later'],
    d: [],
  });
});

/** md5sums as `md5sum -c` lines read with one regular expression: what the hand-written reader must match. */
function md5sumsByRegex(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^[0-9a-fA-F]{32} [ *]?(.+)$/.exec(line.replace(/\r$/, ''));
    if (m) out.push((m[1] as string).replace(/^\/+/, ''));
  }
  return out;
}

test('parseMd5sums: real lines, binary marks, CRLF, leading slashes, broken lines', () => {
  const hash = 'd41d8cd98f00b204e9800998ecf8427E';
  const text = [
    `${hash}  usr/bin/true`,
    `${hash} */usr/lib/x.so\r`,
    `${hash} ///etc/passwd`,
    `${hash}  `,
    `${hash} *`,
    `${hash}  a\rb`,
    `${hash.slice(1)}x  usr/bin/false`,
    `${hash}\tusr/bin/tab`,
    '',
  ].join('\n');
  assert.deepEqual(parseMd5sums(text), ['usr/bin/true', 'usr/lib/x.so', 'etc/passwd', ' ', '*']);
});

test('fast-check: parseMd5sums reads every line as the regular expression does', () => {
  const hex = fc.constantFrom(...'0123456789abcdefABCDEFg'.split(''));
  const tail = fc.constantFrom(...' */a.\r\u2028\u2029\u00e9x'.split(''));
  const line = fc
    .tuple(
      fc.array(hex, { minLength: 31, maxLength: 33 }),
      fc.constantFrom(' ', '  ', ' *', '*', ''),
      fc.array(tail, { maxLength: 6 }),
    )
    .map(([h, mark, rest]) => h.join('') + mark + rest.join(''));
  fc.assert(
    fc.property(fc.array(line, { maxLength: 5 }), (lines) => {
      const text = lines.join('\n');
      assert.deepEqual(parseMd5sums(text), md5sumsByRegex(text));
    }),
    { numRuns: 2000 },
  );
});
