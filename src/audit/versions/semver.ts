/**
 * Semantic Versioning 2.0.0 (§11 precedence; build metadata ignored) through npm's `semver` package,
 * and the schemes built on it: the OSV `SEMVER` range type, npm, crates.io, and Go modules (`v`
 * prefix; pseudo-versions are SemVer pre-releases of the next version so they order correctly as
 * they are; `+incompatible` is build metadata; the Go toolchain's `go1.21rc2` spelling of the
 * standard library is converted to `1.21.0-rc.2` as the Go vulnerability database writes it).
 */
import semver from 'semver';
import type { VersionScheme } from './scheme.ts';

function parseStrict(v: string): semver.SemVer | undefined {
  // `loose: false`: exactly SemVer 2.0.0 (npm's `v` prefix and `=` are still accepted by the
  // package; OSV SEMVER strings never carry them, so refusing them would change nothing real).
  const parsed = semver.parse(v, { loose: false });
  return parsed ?? undefined;
}

const cache = new Map<string, semver.SemVer | null>();

/** Parse with a small cache: the same range bounds are compared against many components. */
function cached(v: string): semver.SemVer | undefined {
  let hit = cache.get(v);
  if (hit === undefined) {
    hit = parseStrict(v) ?? null;
    if (cache.size > 50_000) cache.clear();
    cache.set(v, hit);
  }
  return hit ?? undefined;
}

export function compareSemver(a: string, b: string): number {
  const x = cached(a);
  const y = cached(b);
  if (!x || !y) throw new TypeError(`not a semantic version: ${!x ? a : b}`);
  return x.compare(y);
}

export const semverScheme: VersionScheme = {
  name: 'semver',
  valid: (v) => cached(v) !== undefined,
  compare: compareSemver,
};

export const npmScheme: VersionScheme = { ...semverScheme, name: 'npm' };
export const cratesScheme: VersionScheme = { ...semverScheme, name: 'crates.io' };

/**
 * A Go version as the Go vulnerability database writes it: module versions without the `v`, the
 * toolchain as `1.21.5`, `1.21.0-rc.2`, `1.9.0-beta.1`.
 */
export function goToOsvVersion(v: string): string | undefined {
  const toolchain = /^go(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:(rc|beta)(\d+))?$/.exec(v);
  if (toolchain) {
    const [, major, minor = '0', patch = '0', pre, n] = toolchain;
    return `${major}.${minor}.${patch}${pre ? `-${pre}.${n}` : ''}`;
  }
  const plain = v.startsWith('v') ? v.slice(1) : v;
  return cached(plain) ? plain : undefined;
}

export const goScheme: VersionScheme = {
  name: 'go',
  valid: (v) => goToOsvVersion(v) !== undefined,
  compare: (a, b) => {
    const x = goToOsvVersion(a);
    const y = goToOsvVersion(b);
    if (x === undefined || y === undefined)
      throw new TypeError(`not a Go version: ${x === undefined ? a : b}`);
    return compareSemver(x, y);
  },
};
