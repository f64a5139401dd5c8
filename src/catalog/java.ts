/**
 * Java cataloger: Java archives (jar, war, ear, and Jenkins plugins) read with the in-memory zip
 * reader, nested archives included (WEB-INF/lib, BOOT-INF/lib, ear modules) down to a fixed depth.
 *
 * Identity comes from `META-INF/maven/<groupId>/<artifactId>/pom.properties`, which Maven writes
 * into every jar it builds (shaded jars carry one per bundled artifact). An archive without one is
 * described from `META-INF/MANIFEST.MF` (JAR File Specification; OSGi Bundle-* headers) and its file
 * name, marked with `waybill:java:inferred-from` so nobody mistakes a guess for Maven coordinates.
 */
import { PackageURL } from 'packageurl-js';
import { openZip, type ZipArchive } from '../archive/zip-reader.ts';
import { isWaybillError } from '../errors.ts';
import type { FileEntry, WalkedFile } from '../sources/types.ts';
import type { CatalogContext, Cataloger, Component } from './types.ts';

const ARCHIVE_EXTENSIONS = /\.(jar|war|ear|jpi|hpi|par|sar)$/i;
const POM_PROPERTIES = /^META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/;
/** A jar in a war in an ear: deeper nesting is not something a build tool produces. */
const MAX_NESTING = 3;
/** pom.properties and manifests are tiny; a huge one is not worth reading. */
const MAX_METADATA_FILE = 1024 * 1024;

export const javaCataloger: Cataloger = {
  name: 'java-archive',
  want: (entry) =>
    (entry.type === 'file' || entry.type === 'hardlink') && ARCHIVE_EXTENSIONS.test(entry.path),
  catalog(files, ctx) {
    const out: Component[] = [];
    for (const file of files) {
      let zip: ZipArchive;
      try {
        zip = openZip(file.data, file.entry.path, { limits: { maxDepth: MAX_NESTING } });
      } catch (e) {
        if (!isWaybillError(e)) throw e;
        ctx.warn(file.entry.path, e.reason);
        continue;
      }
      catalogArchive(zip, file, ctx, out);
    }
    return out;
  },
};

function catalogArchive(zip: ZipArchive, file: WalkedFile, ctx: CatalogContext, out: Component[]): void {
  const found: Component[] = [];
  const nestedPath = zip.depth > 0 ? zip.name : undefined;
  try {
    for (const entry of zip.entries) {
      if (entry.isDirectory || !POM_PROPERTIES.test(entry.name) || entry.uncompressedSize > MAX_METADATA_FILE)
        continue;
      const props = parseProperties(zip.read(entry).toString('utf8'));
      const c = fromPomProperties(props, entry.name, file.entry, nestedPath);
      if (c) found.push(c);
    }
    if (found.length === 0) {
      const mf = zip.find('META-INF/MANIFEST.MF');
      const manifest =
        mf && mf.uncompressedSize <= MAX_METADATA_FILE
          ? parseManifest(zip.read(mf).toString('utf8'))
          : new Map<string, string>();
      const c = fromManifest(manifest, zip.name, file.entry, nestedPath);
      if (c) found.push(c);
      else
        ctx.warn(
          zip.name,
          'Java archive without Maven coordinates, manifest identity or a versioned file name',
        );
    }
  } catch (e) {
    if (!isWaybillError(e)) throw e;
    ctx.warn(e.input || zip.name, e.reason);
  }
  out.push(...found);

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
    catalogArchive(nested, file, ctx, out);
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

/**
 * The main section of a manifest (JAR File Specification, "Manifest Specification"): `Name: value`
 * lines, continuation lines start with one space, the main section ends at the first blank line.
 * Keys are case-insensitive; stored lower-cased.
 */
export function parseManifest(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') break;
    if (line.startsWith(' ') && last !== undefined) {
      out.set(last, out.get(last)! + line.slice(1));
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim().toLowerCase();
    out.set(last, line.slice(colon + 1).trim());
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

function fromManifest(
  mf: Map<string, string>,
  archiveName: string,
  entry: FileEntry,
  nestedPath: string | undefined,
): Component | undefined {
  const fromName = nameFromFileName(archiveName);
  // OSGi: "org.example.bundle;singleton:=true"
  const symbolic = mf.get('bundle-symbolicname')?.split(';')[0]?.trim();
  const title = mf.get('implementation-title');
  const artifact = (fromName?.version ? fromName.name : undefined) || symbolic || title || fromName?.name;
  const version =
    mf.get('implementation-version') ||
    mf.get('bundle-version') ||
    mf.get('specification-version') ||
    fromName?.version ||
    '';
  if (!artifact || !version) return undefined;
  const dotted = symbolic ?? mf.get('automatic-module-name');
  const group =
    mf.get('implementation-vendor-id') ||
    (dotted?.includes('.') ? dotted.slice(0, dotted.lastIndexOf('.')) : undefined) ||
    artifact;
  const inferredFrom =
    mf.size > 0 && (mf.has('implementation-version') || mf.has('bundle-version'))
      ? 'MANIFEST.MF'
      : 'file name';
  const properties: Record<string, string> = { 'waybill:java:inferred-from': inferredFrom };
  if (group === artifact)
    properties['waybill:java:group-inferred'] = 'no group in the archive; artifactId used';
  if (nestedPath) properties['waybill:java:archive-path'] = nestedPath;
  const license = mf.get('bundle-license');
  return component(group, artifact, version, license ? [license] : [], entry, properties);
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
