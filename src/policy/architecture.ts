/**
 * Architecture names differ by format: OCI and Debian say amd64/arm64, RPM and ELF say x86_64/aarch64,
 * wheels carry platform tags (manylinux_2_17_x86_64, win_amd64, macosx_11_0_arm64). The identity rule
 * compares them after mapping each to one canonical (Go/OCI) spelling.
 */

const CANONICAL: Record<string, string> = {
  amd64: 'amd64',
  x86_64: 'amd64',
  'x86-64': 'amd64',
  x64: 'amd64',
  arm64: 'arm64',
  aarch64: 'arm64',
  '386': '386',
  i386: '386',
  i486: '386',
  i586: '386',
  i686: '386',
  x86: '386',
  win32: '386',
  // ARM: the variant matters (armhf binaries do not run on armel), so it stays in the name.
  armhf: 'arm/v7',
  armv7: 'arm/v7',
  armv7l: 'arm/v7',
  armv7hl: 'arm/v7',
  'arm/v7': 'arm/v7',
  armv6: 'arm/v6',
  armv6l: 'arm/v6',
  armv6hl: 'arm/v6',
  'arm/v6': 'arm/v6',
  armel: 'arm/v5',
  armv5: 'arm/v5',
  armv5tel: 'arm/v5',
  'arm/v5': 'arm/v5',
  arm: 'arm',
  ppc64le: 'ppc64le',
  ppc64el: 'ppc64le',
  powerpc64le: 'ppc64le',
  ppc64: 'ppc64',
  powerpc64: 'ppc64',
  s390x: 's390x',
  riscv64: 'riscv64',
  mips64el: 'mips64le',
  mips64le: 'mips64le',
  loong64: 'loong64',
  loongarch64: 'loong64',
  // "Runs anywhere": deb `all`, rpm `noarch`, wheel `any`.
  all: 'noarch',
  noarch: 'noarch',
  any: 'noarch',
  universal2: 'universal2',
};

/** Wheel platform tags end in the architecture: `manylinux_2_17_x86_64`, `musllinux_1_1_aarch64`, `win_amd64`. */
const PLATFORM_TAG = /^(?:manylinux\d*|musllinux|linux|macosx|win|ios|android)(?:_\d+)*_(.+)$/;

/** Canonical name of an architecture (or `os/arch[/variant]` platform); unknown names pass through lower-cased. */
export function normalizeArchitecture(arch: string): string {
  let a = arch.trim().toLowerCase();
  // An OCI platform `linux/arm64/v8` or `linux/arm/v7`: drop the OS.
  const parts = a.split('/');
  if (parts.length >= 2 && !(parts[0] ?? '').startsWith('arm')) a = parts.slice(1).join('/');
  if (a === 'arm64/v8') a = 'arm64';
  const tag = PLATFORM_TAG.exec(a);
  if (tag?.[1]) a = tag[1];
  return CANONICAL[a] ?? a;
}

/** The canonical set of a list of architectures, sorted, without duplicates. */
export function architectureSet(archs: readonly string[]): string[] {
  return [...new Set(archs.map(normalizeArchitecture))].sort();
}
