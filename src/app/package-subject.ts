/**
 * A package's own SBOM names the package: for a .deb, .rpm, .apk, wheel, sdist or jar given as the
 * artifact, the package itself (purl, version, licenses) is the SBOM's subject (CycloneDX
 * `metadata.component`, the SPDX package the document DESCRIBES) and what was found inside it are
 * its components. The identity comes from the package's own metadata (deb control, rpm header,
 * .apk .PKGINFO, core metadata), read before the walk; what only the walk sees (a .deb's copyright file) is added
 * by the catalogers through `CatalogContext.subject`, and a component the catalogers found for the
 * package itself (a wheel's METADATA, a jar's own pom.properties) is merged into the subject.
 */
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { EOCD_TAIL_BYTES, endsLikeZip } from '../archive/zip-reader.ts';
import { type ApkPackage, apkComponent } from '../catalog/apk.ts';
import { dpkgPurl, parseSource } from '../catalog/dpkg.ts';
import { pythonPurl } from '../catalog/python.ts';
import { rpmComponent } from '../catalog/rpm.ts';
import { type Component, componentKey, type Distro } from '../catalog/types.ts';
import { WaybillError } from '../errors.ts';
import { readApkPkgInfo } from '../formats/apk/apk-package.ts';
import { type PkgInfo, pkgInfoField, pkgInfoList } from '../formats/apk/pkginfo.ts';
import { controlField, readDebControl } from '../formats/deb/deb.ts';
import { assertReadableExecutable } from '../formats/executable/executable-facts.ts';
import type { NativeFacts } from '../formats/facts.ts';
import { rpmPackageInfo } from '../formats/rpm/rpm-header.ts';
import { readRpmPackage } from '../formats/rpm/rpm-package.ts';
import { type Artifact, isSingleFile } from '../sources/types.ts';
import { nativeFactsOf, nativeFormatOf } from './native-facts.ts';

/** rpm Vendor → the purl namespace distros use for their packages (purl-spec types: rpm). */
const RPM_VENDORS: Array<[RegExp, string]> = [
  [/^Fedora\b/i, 'fedora'],
  [/^Red Hat\b/i, 'redhat'],
  [/^CentOS\b/i, 'centos'],
  [/^Rocky\b/i, 'rocky'],
  [/^AlmaLinux\b/i, 'almalinux'],
  [/^(open)?SUSE\b/i, 'opensuse'],
  [/^Amazon\b/i, 'amazon'],
  [/^Oracle\b/i, 'oracle'],
  [/^Microsoft\b/i, 'mariner'],
];

function rpmVendorDistro(vendor: string | undefined): Distro | undefined {
  const id = RPM_VENDORS.find(([re]) => vendor && re.test(vendor))?.[1];
  return id ? { id } : undefined;
}

/** A .deb names no distro; Ubuntu's versions say `ubuntu`, everything else is taken as Debian's. */
function debDistro(version: string): Distro | undefined {
  return /ubuntu/i.test(version) ? { id: 'ubuntu' } : undefined;
}

function fromFacts(
  facts: NativeFacts,
  ecosystem: Component['ecosystem'],
  purl: string,
  path: string,
): Component {
  const c: Component = {
    type: 'library',
    ecosystem,
    name: facts.name!.value,
    version: facts.version!.value,
    purl,
    licenses: facts.license ? [facts.license.value] : [],
    foundAt: [basename(path)],
    properties: {},
  };
  if (facts.team) c.supplier = facts.team.value;
  return c;
}

/**
 * What the control file says beyond the identity, recorded as for installed packages
 * (catalog/dpkg.ts), so the package's own SBOM and an image's agree:
 * - the synopsis, the first line of `Description` (the extended description is left out);
 * - the source package: Debian's advisories name source packages, so `audit` of a .deb needs it.
 *   dpkg's `${source:Version}` is the binary version unless `Source:` names its own (a binNMU:
 *   `skopeo (1.9.3+ds1-1)` for `1.9.3+ds1-1+b10`).
 */
async function addDebControlFacts(c: Component, path: string): Promise<void> {
  const { fields } = await readDebControl(path);
  const synopsis = controlField(fields, 'Description')?.split('\n')[0]?.trim();
  if (synopsis) c.description ??= synopsis;
  const value = controlField(fields, 'Source');
  const source = value ? parseSource(value) : undefined;
  if (!source) return;
  c.properties['waybill:source-package'] = source.name;
  c.properties['waybill:source-version'] = source.version ?? c.version;
}

/**
 * .PKGINFO as the installed database would record the package (catalog/apk.ts): the same component,
 * purl and `waybill:source-package` (from `origin`: Alpine's advisories name source packages). A
 * package file names no release, so the purl has no `distro` qualifier (`audit --distro` gives it).
 */
function apkPackageOf(info: PkgInfo): ApkPackage | undefined {
  const name = pkgInfoField(info, 'pkgname');
  const version = pkgInfoField(info, 'pkgver');
  if (!name || !version) return undefined;
  const pkg: ApkPackage = {
    name,
    version,
    files: [],
    depends: pkgInfoList(info, 'depend'),
    provides: pkgInfoList(info, 'provides'),
    line: 0,
  };
  const optional: Array<[keyof ApkPackage, string]> = [
    ['arch', 'arch'],
    ['license', 'license'],
    ['origin', 'origin'],
    ['maintainer', 'maintainer'],
    ['description', 'pkgdesc'],
    ['url', 'url'],
    ['buildTime', 'builddate'],
    ['commit', 'commit'],
  ];
  for (const [prop, key] of optional) {
    const v = pkgInfoField(info, key);
    if (v) (pkg as unknown as Record<string, unknown>)[prop] = v;
  }
  return pkg;
}

/** Java archives carry no metadata format of their own: their own pom.properties names them. */
const JAVA_ARCHIVE = /\.(jar|war|ear|jpi|hpi)$/i;

/**
 * A Java archive given as the artifact must be a zip: a truncated or foreign one is bad input, as a
 * broken wheel or .deb is, not a file whose SBOM lists nothing (the cataloger only warns about a
 * broken archive found inside something else). Its end is enough to tell.
 */
async function refuseBrokenJavaArchive(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    // Only the end: a Spring Boot "fully executable" jar starts with a shell script.
    const tail = Buffer.alloc(Math.min(size, EOCD_TAIL_BYTES));
    await handle.read(tail, 0, tail.length, size - tail.length);
    if (!endsLikeZip(tail))
      throw new WaybillError('MALFORMED', path, 'not a Java archive: no zip end of central directory record');
  } finally {
    await handle.close();
  }
}

/**
 * The package an artifact is, from its own metadata, or undefined for anything that is not a
 * package file (an image, a directory, a tarball, an executable).
 */
export async function packageIdentity(artifact: Artifact): Promise<Component | undefined> {
  if (!isSingleFile(artifact.kind)) return undefined;
  if (artifact.kind === 'file' && JAVA_ARCHIVE.test(artifact.path))
    await refuseBrokenJavaArchive(artifact.path);
  const format = await nativeFormatOf(artifact);
  if (!format) return undefined;
  if (format.name === 'rpm') {
    const pkg = await readRpmPackage(artifact.path);
    const info = rpmPackageInfo(pkg.header, artifact.path);
    const c = rpmComponent(info, basename(artifact.path), rpmVendorDistro(info.vendor));
    delete c.properties['waybill:owned-files'];
    return c;
  }
  if (format.name === 'apk') {
    const pkg = apkPackageOf(await readApkPkgInfo(artifact.path));
    if (!pkg) return undefined;
    const c = apkComponent(pkg, basename(artifact.path), undefined);
    delete c.properties['waybill:owned-files'];
    return c;
  }
  // An executable is no package, but is read as the package readers read theirs: a broken one is
  // refused here (as `inspect` and `check` refuse it), not described as an opaque file.
  if (format.name === 'executable') await assertReadableExecutable(artifact.path);
  if (format.name !== 'deb' && format.name !== 'wheel' && format.name !== 'sdist') return undefined;
  const facts = await nativeFactsOf(artifact);
  if (!facts.name || !facts.version) return undefined;
  if (format.name === 'deb') {
    const arch = facts.architectures[0]?.value ?? 'all';
    const purl = dpkgPurl(
      { name: facts.name.value, version: facts.version.value, arch },
      debDistro(facts.version.value),
    );
    const c = fromFacts(facts, 'deb', purl, artifact.path);
    c.properties['waybill:arch'] = arch;
    await addDebControlFacts(c, artifact.path);
    return c;
  }
  return fromFacts(
    facts,
    'pypi',
    pythonPurl({ name: facts.name.value, version: facts.version.value }),
    artifact.path,
  );
}

/**
 * Copies the package carried are carried by the subject, which is now the document's root: their
 * carrier key loses the subject's key in front (`subject|a|b` → `a|b`, `subject` → none).
 */
function withoutCarrier(vendoredIn: string, subjectKey: string): string | undefined {
  if (vendoredIn === subjectKey) return undefined;
  return vendoredIn.startsWith(`${subjectKey}|`) ? vendoredIn.slice(subjectKey.length + 1) : vendoredIn;
}

/**
 * Takes the package itself out of the cataloged components: the component with the subject's purl
 * (merged into it), or for a Java archive its own artifact (the one top-level Maven component the
 * walk found in the file itself). Returns the subject and the rest.
 */
export function separateSubject(
  artifact: Artifact,
  identity: Component | undefined,
  components: readonly Component[],
): { subject?: Component; components: Component[] } {
  let subject = identity ? { ...identity, properties: { ...identity.properties } } : undefined;
  if (!subject && artifact.kind === 'file' && JAVA_ARCHIVE.test(artifact.path)) {
    const own = components.filter(
      (c) =>
        c.ecosystem === 'maven' &&
        c.vendoredIn === undefined &&
        c.properties['waybill:java:archive-path'] === undefined,
    );
    if (own.length === 1) subject = own[0];
  }
  if (!subject) return { components: [...components] };
  const self = subject;
  const rest: Component[] = [];
  for (const c of components) {
    if (c === self) continue;
    if (c.purl === self.purl && c.vendoredIn === undefined) {
      if (self.licenses.length === 0) self.licenses = [...c.licenses];
      self.supplier ??= c.supplier;
      self.description ??= c.description;
      for (const [k, v] of Object.entries(c.properties)) self.properties[k] ??= v;
      continue;
    }
    rest.push(
      c.vendoredIn === undefined ? c : { ...c, vendoredIn: withoutCarrier(c.vendoredIn, componentKey(self)) },
    );
  }
  for (const c of rest) if (c.vendoredIn === undefined) delete c.vendoredIn;
  return { subject: self, components: rest };
}
