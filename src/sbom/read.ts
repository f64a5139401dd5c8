/**
 * Reads SBOMs written by other tools (syft, trivy, cdxgen, the CycloneDX tool family) far enough to
 * list their components: CycloneDX JSON 1.2–1.7 and SPDX 2.2/2.3 JSON. Other SBOM formats are
 * recognised and refused with UNSUPPORTED (so the user knows it is the format, not the file), and
 * anything that is not one of them is MALFORMED.
 */
import { WaybillError } from '../errors.ts';
import { checkedDepth } from '../util/json-depth.ts';

export type SbomFormat = 'cyclonedx-json' | 'spdx-json';

export interface SbomComponentRef {
  name: string;
  version?: string;
  purl?: string;
}

/** What a document says it describes: CycloneDX `metadata.component`, SPDX `documentDescribes`. */
export interface SbomSubjectRef {
  name?: string;
  version?: string;
  purl?: string;
  /** SHA-256 hashes the document gives for it, lowercase hex. */
  sha256: string[];
  /** Where in the document: `metadata.component`, `SPDXRef-Package-x (documentDescribes)`. */
  where: string;
}

export interface ReadSbom {
  format: SbomFormat;
  /** `1.6` for CycloneDX, `2.3` for SPDX. */
  specVersion: string;
  /** Every component except the document's subject, sorted by name, version, purl. */
  components: SbomComponentRef[];
  /**
   * Everything the document says it describes, with the hashes it gives (to match an SBOM with an
   * artifact, app/sbom-subject.ts); empty when it does not say.
   */
  subjects: SbomSubjectRef[];
  /**
   * What the document describes (CycloneDX `metadata.component`, the SPDX package it DESCRIBES) when
   * it is one package; an SBOM of a package names the package here and may list no components.
   */
  subject?: SbomComponentRef;
  /**
   * The licenses the document declares for its subject (CycloneDX `metadata.component.licenses`: ids,
   * expressions, names; SPDX: the described package's `licenseDeclared`, a `LicenseRef-` given as
   * its extracted name); empty when it declares none (or NOASSERTION).
   */
  subjectLicenses: string[];
}

/**
 * The number of components an SBOM lists (nested ones included, the subject excluded): the one count
 * `sbom`, `stamp`, `check` and `inspect` all report for the same document.
 */
export function componentCount(sbom: Pick<ReadSbom, 'components'>): number {
  return sbom.components.length;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

const CYCLONEDX_JSON_VERSIONS = new Set(['1.2', '1.3', '1.4', '1.5', '1.6', '1.7']);
const SPDX_JSON_VERSIONS = new Set(['2.2', '2.3']);

function ref(name: string, version: string | undefined, purl: string | undefined): SbomComponentRef {
  const r: SbomComponentRef = { name };
  if (version !== undefined) r.version = version;
  if (purl !== undefined) r.purl = purl;
  return r;
}

/** CycloneDX components nest (`components[].components`, assemblies): all of them, depth first. */
function cycloneDxComponents(list: unknown, out: SbomComponentRef[], depth = 0): void {
  if (!Array.isArray(list) || depth > 100) return;
  for (const c of list) {
    if (!isObject(c)) continue;
    const name = str(c.name);
    if (name !== undefined) {
      const group = str(c.group);
      // Maven/composer groups are part of the identity; npm scopes are written into `group` too.
      const full = group && !name.startsWith(`${group}/`) ? `${group}/${name}` : name;
      out.push(ref(full, str(c.version), str(c.purl)));
    }
    cycloneDxComponents(c.components, out, depth + 1);
  }
}

function readCycloneDx(doc: Json, input: string): ReadSbom {
  const specVersion = str(doc.specVersion);
  if (specVersion === undefined)
    throw new WaybillError('MALFORMED', input, 'CycloneDX document without specVersion');
  if (!CYCLONEDX_JSON_VERSIONS.has(specVersion)) {
    throw new WaybillError(
      'UNSUPPORTED',
      input,
      `CycloneDX ${specVersion} JSON is not supported (1.2 to 1.7 are)`,
    );
  }
  const components: SbomComponentRef[] = [];
  cycloneDxComponents(doc.components, components);
  const subjects: SbomSubjectRef[] = [];
  const meta = isObject(doc.metadata) ? doc.metadata : undefined;
  if (meta && isObject(meta.component)) {
    const c = meta.component;
    const name = str(c.name);
    const group = str(c.group);
    subjects.push(
      subjectRef(
        name && group && !name.startsWith(`${group}/`) ? `${group}/${name}` : name,
        str(c.version),
        str(c.purl),
        [...hashValues(c.hashes, 'alg', 'content', 'SHA-256'), ...imageIdProperties(c.properties)],
        'metadata.component',
      ),
    );
  }
  const result: ReadSbom = {
    format: 'cyclonedx-json',
    specVersion,
    components,
    subjects,
    subjectLicenses: isObject(meta?.component) ? cycloneDxLicenseTexts(meta.component.licenses) : [],
  };
  const described: SbomComponentRef[] = [];
  cycloneDxComponents(meta?.component ? [meta.component] : [], described);
  if (described[0]) result.subject = described[0];
  return result;
}

/**
 * Trivy names the image it scanned by properties, not hashes: `aquasecurity:trivy:ImageID` (the
 * config digest) and `aquasecurity:trivy:RepoDigest` (`repo@sha256:…`, the manifest digest).
 */
const IMAGE_ID_PROPERTIES = new Set(['aquasecurity:trivy:ImageID', 'aquasecurity:trivy:RepoDigest']);

function imageIdProperties(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  const out: string[] = [];
  for (const p of list) {
    // typeof, not String(): a name nested 100 000 arrays deep overflows the stack when stringified.
    if (!isObject(p) || typeof p.name !== 'string' || !IMAGE_ID_PROPERTIES.has(p.name)) continue;
    const hex = /(?:^|@)sha256:([0-9a-f]{64})$/.exec(str(p.value)?.toLowerCase() ?? '')?.[1];
    if (hex) out.push(hex);
  }
  return out;
}

/** SHA-256 values of a CycloneDX `hashes` or SPDX `checksums` list, lowercase hex. */
function hashValues(list: unknown, algKey: string, valueKey: string, sha256Name: string): string[] {
  if (!Array.isArray(list)) return [];
  const out: string[] = [];
  for (const h of list) {
    if (!isObject(h) || h[algKey] !== sha256Name) continue;
    const value = str(h[valueKey])?.toLowerCase();
    if (value && /^[0-9a-f]{64}$/.test(value)) out.push(value);
  }
  return out;
}

function subjectRef(
  name: string | undefined,
  version: string | undefined,
  purl: string | undefined,
  sha256: string[],
  where: string,
): SbomSubjectRef {
  const r: SbomSubjectRef = { sha256, where };
  if (name !== undefined) r.name = name;
  if (version !== undefined) r.version = version;
  if (purl !== undefined) r.purl = purl;
  return r;
}

function purlOf(pkg: Json): string | undefined {
  if (!Array.isArray(pkg.externalRefs)) return undefined;
  for (const r of pkg.externalRefs) {
    // SPDX 2.2 spells the category PACKAGE_MANAGER, 2.3 PACKAGE-MANAGER; the type is what matters.
    if (isObject(r) && r.referenceType === 'purl') {
      const locator = str(r.referenceLocator);
      if (locator) return locator;
    }
  }
  return undefined;
}

/** The packages the document DESCRIBES are its subject, not its components (like CycloneDX metadata.component). */
function describedIds(doc: Json): Set<string> {
  const ids = new Set<string>();
  if (Array.isArray(doc.documentDescribes))
    for (const id of doc.documentDescribes) if (typeof id === 'string') ids.add(id);
  const docId = str(doc.SPDXID) ?? 'SPDXRef-DOCUMENT';
  if (Array.isArray(doc.relationships)) {
    for (const r of doc.relationships) {
      if (!isObject(r)) continue;
      const related = str(r.relatedSpdxElement);
      if (!related) continue;
      if (r.spdxElementId === docId && r.relationshipType === 'DESCRIBES') ids.add(related);
      if (
        r.relatedSpdxElement === docId &&
        r.relationshipType === 'DESCRIBED_BY' &&
        typeof r.spdxElementId === 'string'
      ) {
        ids.add(r.spdxElementId);
      }
    }
  }
  return ids;
}

function readSpdx(doc: Json, input: string): ReadSbom {
  const version = /^SPDX-(\d+\.\d+)$/.exec(str(doc.spdxVersion) ?? '')?.[1];
  if (version === undefined)
    throw new WaybillError('MALFORMED', input, `not an SPDX version: ${JSON.stringify(doc.spdxVersion)}`);
  if (!SPDX_JSON_VERSIONS.has(version)) {
    throw new WaybillError('UNSUPPORTED', input, `SPDX ${version} JSON is not supported (2.2 and 2.3 are)`);
  }
  const packages = Array.isArray(doc.packages) ? doc.packages.filter(isObject) : [];
  const described = describedIds(doc);
  // A document that "describes" every package lists components, not a subject: keep them all.
  const subject = packages.every((p) => described.has(String(p.SPDXID))) ? new Set<string>() : described;
  const components: SbomComponentRef[] = [];
  const subjects: SbomComponentRef[] = [];
  for (const p of packages) {
    const name = str(p.name);
    if (name === undefined) continue;
    const pkgVersion = str(p.versionInfo);
    const found = ref(name, pkgVersion === 'NOASSERTION' ? undefined : pkgVersion, purlOf(p));
    (subject.has(String(p.SPDXID)) ? subjects : components).push(found);
  }
  // The subject: every package (or file, as syft writes for a single file) the document describes.
  const subjectRefs: SbomSubjectRef[] = [];
  const files = Array.isArray(doc.files) ? doc.files.filter(isObject) : [];
  for (const id of [...described].sort()) {
    const where = `${id} (documentDescribes)`;
    const pkg = packages.find((p) => p.SPDXID === id);
    if (pkg) {
      const v = str(pkg.versionInfo);
      subjectRefs.push(
        subjectRef(
          str(pkg.name),
          v === 'NOASSERTION' ? undefined : v,
          purlOf(pkg),
          hashValues(pkg.checksums, 'algorithm', 'checksumValue', 'SHA256'),
          where,
        ),
      );
      continue;
    }
    const file = files.find((f) => f.SPDXID === id);
    if (file) {
      const fileName = str(file.fileName)?.replace(/^.*\//, '');
      subjectRefs.push(
        subjectRef(
          fileName,
          undefined,
          undefined,
          hashValues(file.checksums, 'algorithm', 'checksumValue', 'SHA256'),
          where,
        ),
      );
    }
  }
  const result: ReadSbom = {
    format: 'spdx-json',
    specVersion: version,
    components,
    subjects: subjectRefs,
    subjectLicenses: [],
  };
  if (subjects.length === 1) result.subject = subjects[0];
  // One described package is the subject whose licenses these are (also when it is the only package).
  const describedPackages = packages.filter((p) => described.has(String(p.SPDXID)));
  if (describedPackages.length === 1)
    result.subjectLicenses = spdxDeclaredLicenses(doc, describedPackages[0]!);
  return result;
}

/** CycloneDX `licenses`: `{license: {id | name}}` entries, or `{expression}`. */
function cycloneDxLicenseTexts(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  const out: string[] = [];
  for (const entry of list) {
    if (!isObject(entry)) continue;
    const license = isObject(entry.license) ? entry.license : undefined;
    const text = str(entry.expression) ?? str(license?.id) ?? str(license?.name);
    if (text !== undefined && !out.includes(text)) out.push(text);
  }
  return out;
}

/**
 * SPDX `licenseDeclared` (NOASSERTION and NONE declare nothing). A lone `LicenseRef-` stands for
 * text that is no SPDX license: its extracted name (waybill writes the name as found there) is the
 * license as declared.
 */
function spdxDeclaredLicenses(doc: Json, pkg: Json): string[] {
  const declared = str(pkg.licenseDeclared)?.trim();
  if (declared === undefined || declared === 'NOASSERTION' || declared === 'NONE') return [];
  if (/^LicenseRef-[A-Za-z0-9.-]+$/.test(declared)) {
    const infos = Array.isArray(doc.hasExtractedLicensingInfos) ? doc.hasExtractedLicensingInfos : [];
    const info = infos.find((i): i is Json => isObject(i) && i.licenseId === declared);
    const name = str(info?.name) ?? str(info?.extractedText);
    if (name !== undefined && name !== 'NOASSERTION') return [name];
  }
  return [declared];
}

function sortRefs(list: SbomComponentRef[]): SbomComponentRef[] {
  const key = (r: SbomComponentRef) => [r.name, r.version ?? '', r.purl ?? ''];
  return list.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
    return 0;
  });
}

/** An SBOM document's text, as `readSbom` parses it: UTF-8, a leading byte order mark dropped. */
export function sbomText(bytes: Uint8Array | string): string {
  return (
    typeof bytes === 'string'
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
  ).replace(/^\uFEFF/, '');
}

/**
 * Whether a JSON-LD `@context` (SPDX 3) names SPDX: a string, or the strings of an array or object.
 * Never stringified whole: a hostile one nested deep enough overflows the stack (found by fuzzing).
 */
function mentionsSpdx(context: unknown): boolean {
  const values = Array.isArray(context) ? context : isObject(context) ? Object.values(context) : [context];
  return values.some((v) => typeof v === 'string' && v.includes('spdx'));
}

/** Parse an SBOM document; `name` is the file or reference, for error messages. */
export function readSbom(bytes: Uint8Array | string, name: string): ReadSbom {
  const text = sbomText(bytes);
  const head = text.trimStart();
  if (head.startsWith('<'))
    throw new WaybillError('UNSUPPORTED', name, 'XML SBOMs are not supported; use the JSON form');
  if (/^SPDXVersion:/m.test(head.slice(0, 4096))) {
    throw new WaybillError('UNSUPPORTED', name, 'SPDX tag-value is not supported; use SPDX JSON');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new WaybillError('MALFORMED', name, `not JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  return readSbomDocument(parsed, name);
}

/**
 * `readSbom` of a document already parsed (or built: `encodeSbom` counts what it is about to write
 * from the document itself rather than parsing its own output again). `doc` must be plain JSON.
 */
export function readSbomDocument(doc: unknown, name: string): ReadSbom {
  if (!isObject(doc)) throw new WaybillError('MALFORMED', name, 'not a JSON object');
  checkedDepth(doc, name);

  let result: ReadSbom;
  if (doc.bomFormat === 'CycloneDX') result = readCycloneDx(doc, name);
  else if (typeof doc.spdxVersion === 'string') result = readSpdx(doc, name);
  else if ('@context' in doc && mentionsSpdx(doc['@context'])) {
    throw new WaybillError(
      'UNSUPPORTED',
      name,
      'SPDX 3 JSON-LD is not supported (SPDX 2.2 and 2.3 JSON are)',
    );
  } else if (Array.isArray(doc.artifacts) && isObject(doc.schema) && /syft/i.test(String(doc.schema.url))) {
    throw new WaybillError(
      'UNSUPPORTED',
      name,
      'syft-json is not supported; export CycloneDX or SPDX JSON from syft',
    );
  } else {
    throw new WaybillError('MALFORMED', name, 'neither a CycloneDX nor an SPDX JSON document');
  }
  result.components = sortRefs(result.components);
  return result;
}
