/**
 * Which distribution release an OS package belongs to when its SBOM does not say: a package file
 * (.deb, .apk) names no release, and Debian's, Ubuntu's and Alpine's advisories are scoped to one
 * (`Debian:12`, `Ubuntu:22.04:LTS`, `Alpine:v3.20`). The user says it with `--distro ID-VERSION`
 * (written as the purl `distro` qualifier the catalogers write: `debian-12`, `ubuntu-24.04`,
 * `alpine-3.20`); otherwise the release is read from the version only where the distribution's own
 * versioning convention makes it certain, and never guessed.
 */
import { WaybillError } from '../errors.ts';
import type { InventoryDistro } from './inventory.ts';

/** The distro IDs `--distro` accepts: the purl namespaces of OS packages with advisories. */
export const DISTRO_IDS: readonly string[] = [
  'almalinux',
  'alpine',
  'chainguard',
  'debian',
  'mariner',
  'opensuse',
  'redhat',
  'rocky',
  'suse',
  'ubuntu',
  'wolfi',
];

/** `--distro debian-12` → `{id: 'debian', versionId: '12'}`. Throws WaybillError (USAGE). */
export function parseDistroOption(value: string): InventoryDistro {
  const m = /^([a-z][a-z0-9]*)-(\d+(?:\.\d+)*)$/.exec(value);
  if (!m || !DISTRO_IDS.includes(m[1] as string)) {
    throw new WaybillError(
      'USAGE',
      '--distro',
      `expected ID-VERSION with ID one of ${DISTRO_IDS.join(', ')} (e.g. debian-12, ubuntu-24.04, alpine-3.20), got ${JSON.stringify(value)}`,
    );
  }
  return { id: m[1] as string, versionId: m[2] as string };
}

/**
 * Debian's security and stable updates end the version with `+debNNuM` (`~debNNuM` when the
 * same upstream goes to several releases), a rebuild for one release with `+debNN`; a binNMU may
 * follow (`+b1`). Anything after that (an `ubuntu` or `build` suffix of a derivative) is not
 * Debian's and gives nothing.
 */
const DEBIAN_RELEASE = /(?:[+~]deb(\d{1,2})u\d+|\+deb(\d{1,2}))(?:\+b\d+)?$/;
/**
 * Ubuntu's stable release updates of one version for several releases: `ubuntu0.22.04.1` — the
 * release is `YY.MM`, with MM 04 or 10 (Ubuntu releases only in April and October).
 */
const UBUNTU_RELEASE = /ubuntu\d+\.(\d{2}\.(?:04|10))(?:\.\d+)?$/;

/**
 * The release a Debian-format package's version names, when its convention makes it certain:
 * `2.38.1-5+deb12u3` → Debian 12, `1.2-3ubuntu0.22.04.1` → Ubuntu 22.04; otherwise undefined.
 * `vendor` is the purl namespace: a Debian version suffix inside an Ubuntu package is not Debian's.
 */
export function releaseFromDebVersion(vendor: string, version: string): InventoryDistro | undefined {
  if (vendor === 'debian' && !/ubuntu|build\d/i.test(version)) {
    const m = DEBIAN_RELEASE.exec(version);
    const release = m?.[1] ?? m?.[2];
    if (release) return { id: 'debian', versionId: String(Number(release)) };
  }
  const u = UBUNTU_RELEASE.exec(version);
  if (u) return { id: 'ubuntu', versionId: u[1] as string };
  return undefined;
}
