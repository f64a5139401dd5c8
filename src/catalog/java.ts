/**
 * Java cataloger: Java archives (jar, war, ear, and Jenkins plugins) read with the in-memory zip
 * reader, nested archives included (WEB-INF/lib, BOOT-INF/lib, ear modules) down to a fixed depth,
 * and Java runtimes, from the `release` file at the top of every JDK and JRE image (JEP 220).
 *
 * Identity comes from `META-INF/maven/<groupId>/<artifactId>/pom.properties`, which Maven writes
 * into every jar it builds (shaded jars carry one per bundled artifact). An archive without one has
 * no Maven coordinates, and none are made up for it from its manifest or file name: a JDK's
 * `jrt-fs.jar` or Debian's `ca-certificates-java.jar` is part of something else (the runtime, a
 * distro package), not a Maven artifact. It is left out, without a warning: such jars are normal.
 *
 * Licenses come from the same folder's `pom.xml` (its `<licenses>`), and for the archive's own
 * artifact, when its POM names none, from the manifest's OSGi `Bundle-License` (java-licenses.ts).
 *
 * Containment is kept: an archive nested in another (WEB-INF/lib/x.jar) and an artifact shaded into
 * a jar are copies carried by the archive's own artifact (`vendoredIn`), nested under it in the SBOM.
 */
import { PackageURL } from 'packageurl-js';
import { openZip, type ZipArchive } from '../archive/zip-reader.ts';
import { isWaybillError } from '../errors.ts';
import { type FileEntry, hasContent, type WalkedFile } from '../sources/types.ts';
import { manifestMainAttributes } from './jar-manifest.ts';
import { bundleDeclaredLicenses, licenseFileDeclaredLicenses, pomDeclaredLicenses } from './java-licenses.ts';
import { type CatalogContext, type Cataloger, type Component, componentKey } from './types.ts';

const ARCHIVE_EXTENSIONS = /\.(jar|war|ear|jpi|hpi|par|sar)$/i;
const POM_PROPERTIES = /^META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/;
/** A jar in a war in an ear: deeper nesting is not something a build tool produces. */
const MAX_NESTING = 3;
/** pom.properties and manifests are tiny; a huge one is not worth reading. */
const MAX_METADATA_FILE = 1024 * 1024;

const LICENSE_FILES = ['META-INF/LICENSE', 'META-INF/LICENSE.txt', 'META-INF/LICENSE.md'];

/** A JDK/JRE image's `release` file (JEP 220): `KEY="value"` lines, a few hundred bytes. */
const MAX_RELEASE_FILE = 64 * 1024;

function isReleaseFile(entry: FileEntry): boolean {
  return (entry.path === 'release' || entry.path.endsWith('/release')) && entry.size <= MAX_RELEASE_FILE;
}

/** `KEY="value"` lines of a release file (shell syntax as the JDK build writes it). */
export function parseReleaseFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^([A-Z][A-Z0-9_]*)=(?:"([^"]*)"|'([^']*)'|(\S*))\s*$/.exec(line.trim());
    if (m) out.set(m[1]!, m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
}

/**
 * The Java runtime a `release` file describes, as one component: its version (JAVA_VERSION) and who
 * built it (IMPLEMENTOR). There is no purl type for a JDK, so it is `pkg:generic/openjdk` (or
 * `pkg:generic/oracle/jdk` for Oracle's own), as other SBOM tools name it.
 */
export function jdkComponent(file: WalkedFile): Component | undefined {
  const release = parseReleaseFile(file.data.toString('utf8'));
  const version = release.get('JAVA_VERSION');
  if (!version || !/^[0-9][0-9A-Za-z.+_-]*$/.test(version)) return undefined;
  const implementor = release.get('IMPLEMENTOR') ?? '';
  const oracle = /^Oracle\b/.test(implementor) && !/openjdk/i.test(release.get('IMPLEMENTOR_VERSION') ?? '');
  const home = file.entry.path.slice(0, Math.max(0, file.entry.path.lastIndexOf('/')));
  const properties: Record<string, string> = { 'waybill:java:home': home || '.' };
  if (implementor) properties['waybill:java:implementor'] = implementor;
  const runtime = release.get('JAVA_RUNTIME_VERSION');
  if (runtime) properties['waybill:java:runtime-version'] = runtime;
  return {
    type: 'application',
    ecosystem: 'generic',
    name: oracle ? 'jdk' : 'openjdk',
    version,
    purl: new PackageURL(
      'generic',
      oracle ? 'oracle' : undefined,
      oracle ? 'jdk' : 'openjdk',
      version,
    ).toString(),
    licenses: [],
    foundAt: [file.entry.path],
    properties,
    ...(file.entry.layer !== undefined ? { layer: file.entry.layer } : {}),
  };
}

export const javaCataloger: Cataloger = {
  name: 'java-archive',
  want: (entry) => hasContent(entry) && (ARCHIVE_EXTENSIONS.test(entry.path) || isReleaseFile(entry)),
  // Any program's `release` file is wanted by name; only a Java runtime's is worth keeping.
  keep: (entry, data) => !isReleaseFile(entry) || data.includes('JAVA_VERSION='),
  catalog(files, ctx) {
    const out: Component[] = [];
    for (const file of files) {
      if (isReleaseFile(file.entry)) {
        const jdk = jdkComponent(file);
        if (jdk) out.push(jdk);
        continue;
      }
      let zip: ZipArchive;
      try {
        zip = openZip(file.data, file.entry.path, { limits: { maxDepth: MAX_NESTING } });
      } catch (e) {
        if (!isWaybillError(e)) throw e;
        ctx.warn(file.entry.path, e.reason);
        continue;
      }
      catalogArchive(zip, file, ctx, out, undefined);
    }
    return out;
  },
};

/**
 * The archive's own artifact among the pom.properties it holds: the only one, else the one its file
 * name names (`guava-32.1.2-jre.jar`); a jar with several and no match has no own artifact we can tell.
 */
function ownArtifact(found: Component[], archiveName: string): Component | undefined {
  if (found.length === 1) return found[0];
  const fromName = nameFromFileName(archiveName);
  return found.find(
    (c) => c.name === fromName?.name && (fromName.version === '' || c.version === fromName.version),
  );
}

function catalogArchive(
  zip: ZipArchive,
  file: WalkedFile,
  ctx: CatalogContext,
  out: Component[],
  carrier: string | undefined,
): void {
  const found: Component[] = [];
  const nestedPath = zip.depth > 0 ? zip.name : undefined;
  try {
    for (const entry of zip.entries) {
      if (entry.isDirectory || !POM_PROPERTIES.test(entry.name) || entry.uncompressedSize > MAX_METADATA_FILE)
        continue;
      const props = parseProperties(zip.read(entry).toString('utf8'));
      const c = fromPomProperties(props, entry.name, file.entry, nestedPath);
      if (!c) continue;
      c.licenses = pomLicensesBeside(zip, entry.name, ctx);
      found.push(c);
    }
  } catch (e) {
    if (!isWaybillError(e)) throw e;
    ctx.warn(e.input || zip.name, e.reason);
  }
  const own = ownArtifact(found, zip.name);
  if (own && own.licenses.length === 0) own.licenses = archiveLicenses(zip, ctx);
  // The archive's own artifact sits inside its carrier; shaded artifacts inside the own one.
  if (own && carrier !== undefined) own.vendoredIn = carrier;
  const ownKey = own ? componentKey(own) : undefined;
  for (const c of found) {
    const inside = c === own ? undefined : (ownKey ?? carrier);
    if (inside !== undefined && inside !== componentKey(c)) c.vendoredIn = inside;
  }
  for (const c of found) out.push(c);

  for (const entry of zip.entries) {
    if (entry.isDirectory || !ARCHIVE_EXTENSIONS.test(entry.name)) continue;
    let nested: ZipArchive;
    try {
      nested = zip.openNested(entry);
    } catch (e) {
      if (!isWaybillError(e)) throw e;
      ctx.warn(e.input || `${zip.name}!/${entry.name}`, e.reason);
      continue;
    }
    catalogArchive(nested, file, ctx, out, ownKey ?? carrier);
  }
}

/** The licenses of the `pom.xml` in the same folder as a pom.properties (none when there is none). */
function pomLicensesBeside(zip: ZipArchive, propertiesName: string, ctx: CatalogContext): string[] {
  const pomName = propertiesName.replace(/pom\.properties$/, 'pom.xml');
  return readMetadata(zip, pomName, ctx, pomDeclaredLicenses);
}

/**
 * For the archive's own artifact when its POM names no license: the manifest's `Bundle-License`
 * (OSGi), else a license file that is the Apache License 2.0 text.
 */
function archiveLicenses(zip: ZipArchive, ctx: CatalogContext): string[] {
  const fromManifest = readMetadata(zip, 'META-INF/MANIFEST.MF', ctx, (text) => {
    const value = manifestMainAttributes(text).get('bundle-license');
    return value === undefined ? [] : bundleDeclaredLicenses(value);
  });
  if (fromManifest.length > 0) return fromManifest;
  for (const name of LICENSE_FILES) {
    const found = readMetadata(zip, name, ctx, licenseFileDeclaredLicenses);
    if (found.length > 0) return found;
  }
  return [];
}

/** A small metadata member read as text and parsed; none (with a warning if unreadable) otherwise. */
function readMetadata(
  zip: ZipArchive,
  name: string,
  ctx: CatalogContext,
  parse: (text: string) => string[],
): string[] {
  const member = zip.entries.find((e) => e.name === name && !e.isDirectory);
  if (!member || member.uncompressedSize > MAX_METADATA_FILE) return [];
  try {
    return parse(zip.read(member).toString('utf8'));
  } catch (e) {
    if (!isWaybillError(e)) throw e;
    ctx.warn(e.input || `${zip.name}!/${name}`, e.reason);
    return [];
  }
}

/** java.util.Properties text format, enough of it for Maven's generated files. */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^((?:\\.|[^=:\s\\])+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (!m) continue;
    const unescapeJava = (s: string) => s.replace(/\\(.)/g, '$1');
    out.set(unescapeJava(m[1]!), unescapeJava(m[2]!).trim());
  }
  return out;
}

function mavenPurl(group: string, artifact: string, version: string): string {
  return new PackageURL('maven', group, artifact, version || undefined).toString();
}

function fromPomProperties(
  props: Map<string, string>,
  entryName: string,
  entry: FileEntry,
  nestedPath: string | undefined,
): Component | undefined {
  // The path names the coordinates too (META-INF/maven/<g>/<a>/); the file's own values win.
  const [, , pathGroup, pathArtifact] = entryName.split('/');
  const group = props.get('groupId') || pathGroup || '';
  const artifact = props.get('artifactId') || pathArtifact || '';
  const version = props.get('version') ?? '';
  if (!group || !artifact) return undefined;
  const properties: Record<string, string> = { 'waybill:java:metadata': entryName };
  if (nestedPath) properties['waybill:java:archive-path'] = nestedPath;
  return component(group, artifact, version, [], entry, properties);
}

/** `commons-lang3-3.12.0.jar` → commons-lang3, 3.12.0 (a version starts with a digit). */
export function nameFromFileName(path: string): { name: string; version: string } | undefined {
  const base = path.slice(path.lastIndexOf('/') + 1).replace(ARCHIVE_EXTENSIONS, '');
  const m = /^(.+?)-(\d[\w.+-]*)$/.exec(base);
  if (m) return { name: m[1]!, version: m[2]! };
  return base ? { name: base, version: '' } : undefined;
}

function component(
  group: string,
  artifact: string,
  version: string,
  licenses: string[],
  entry: FileEntry,
  properties: Record<string, string>,
): Component {
  return {
    type: 'library',
    ecosystem: 'maven',
    name: artifact,
    version,
    purl: mavenPurl(group, artifact, version),
    licenses,
    foundAt: [entry.path],
    properties,
    ...(entry.layer !== undefined ? { layer: entry.layer } : {}),
  };
}
