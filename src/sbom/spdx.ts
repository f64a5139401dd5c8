/**
 * SPDX 2.3 JSON writer (SPDX 2.3 spec, clauses 6 document creation, 7 packages, 10 other licensing
 * information, 11 relationships). One package for the artifact, one per component; the document
 * DESCRIBES the artifact and the artifact CONTAINS each component. Ids, namespace and time are
 * derived from the input only, and every list is sorted, so the same input gives the same bytes.
 */
import { createHash } from 'node:crypto';
import { type Component, componentKey } from '../catalog/types.ts';
import { spdxLicense } from './license.ts';
import {
  byString,
  componentProperties,
  documentTime,
  documentUuid,
  rootType,
  type SbomInput,
  sbomDocumentText,
  sha256Hex,
  TOOL_NAME,
  warningTexts,
  withDocumentUuid,
} from './subject.ts';

type Json = Record<string, unknown>;

/** SPDX 2.3 §7.9 checksum algorithm names. */
const CHECKSUM_ALG: Record<NonNullable<Component['hashes']>[number]['alg'], string> = {
  MD5: 'MD5',
  'SHA-1': 'SHA1',
  'SHA-256': 'SHA256',
  'SHA-512': 'SHA512',
};

/** SPDX 2.3 §7.24 primary package purpose. */
const PURPOSE: Record<Component['type'] | 'container', string> = {
  library: 'LIBRARY',
  application: 'APPLICATION',
  'operating-system': 'OPERATING_SYSTEM',
  framework: 'FRAMEWORK',
  file: 'FILE',
  container: 'CONTAINER',
};

/** SPDXID idstring: letters, digits, `.` and `-` only (§3.2). */
function idPart(text: string): string {
  return text
    .replace(/[^A-Za-z0-9.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/**
 * Readable and stable: ecosystem, name and version, plus a hash of the component's key (its purl, or
 * carrier and purl for a vendored copy) for uniqueness.
 */
export function spdxIdFor(c: Component): string {
  return `SPDXRef-Package-${idPart(c.ecosystem)}-${idPart(c.name)}-${idPart(c.version)}-${shortHash(componentKey(c))}`;
}

/** `YYYY-MM-DDThh:mm:ssZ` (§6.9): no fractional seconds. */
function spdxTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

function componentPackage(c: Component, extracted: Map<string, string>): Json {
  const license = spdxLicense(c.licenses);
  for (const [ref, text] of license.extracted) extracted.set(ref, text);
  const props = componentProperties(c).filter((p) => p.name !== 'waybill:found-at');
  const pkg: Json = {
    name: c.name,
    SPDXID: spdxIdFor(c),
    // An empty version is an unknown one (an npm package.json that states none): left out.
    versionInfo: c.version === '' ? undefined : c.version,
    supplier: c.supplier ? `Organization: ${c.supplier.replace(/[\r\n]+/g, ' ')}` : 'NOASSERTION',
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
    checksums:
      c.hashes && c.hashes.length > 0
        ? c.hashes
            .map((h) => ({ algorithm: CHECKSUM_ALG[h.alg], checksumValue: h.content }))
            .sort((a, b) => byString(a.algorithm, b.algorithm) || byString(a.checksumValue, b.checksumValue))
        : undefined,
    sourceInfo:
      c.foundAt.length > 0
        ? `acquired package info from: ${[...c.foundAt].sort(byString).join(', ')}`
        : undefined,
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: license.expression,
    copyrightText: 'NOASSERTION',
    description: c.description,
    comment: props.length > 0 ? props.map((p) => `${p.name}=${p.value}`).join('\n') : undefined,
    externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: c.purl }],
    primaryPackagePurpose: PURPOSE[c.type],
  };
  return pkg;
}

const ROOT_ID = 'SPDXRef-Artifact';

function rootPackage(input: SbomInput, extracted: Map<string, string>): Json {
  const { subject } = input;
  const pkg = subject.package;
  const hex = sha256Hex(subject.digest);
  const license = spdxLicense(pkg?.licenses ?? []);
  for (const [ref, text] of license.extracted) extracted.set(ref, text);
  const props = pkg ? componentProperties(pkg).filter((p) => p.name !== 'waybill:found-at') : [];
  return {
    name: subject.name,
    SPDXID: ROOT_ID,
    versionInfo: subject.version,
    supplier: pkg?.supplier ? `Organization: ${pkg.supplier.replace(/[\r\n]+/g, ' ')}` : 'NOASSERTION',
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
    checksums: hex ? [{ algorithm: 'SHA256', checksumValue: hex }] : undefined,
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: license.expression,
    copyrightText: 'NOASSERTION',
    description: pkg?.description,
    comment: [
      ...(subject.digest !== undefined ? [`waybill:artifact:digest=${subject.digest}`] : []),
      `waybill:artifact:kind=${subject.kind}`,
      ...props.map((p) => `${p.name}=${p.value}`),
    ].join('\n'),
    externalRefs: pkg
      ? [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: pkg.purl }]
      : undefined,
    primaryPackagePurpose: PURPOSE[rootType(subject)],
  };
}

function osPackage(input: SbomInput): Json | undefined {
  const d = input.distro;
  if (!d) return undefined;
  return {
    name: d.id,
    SPDXID: `SPDXRef-OperatingSystem-${idPart(d.id)}-${idPart(d.versionId ?? 'unknown')}`,
    versionInfo: d.versionId,
    supplier: 'NOASSERTION',
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: 'NOASSERTION',
    copyrightText: 'NOASSERTION',
    description: d.prettyName,
    primaryPackagePurpose: 'OPERATING_SYSTEM',
  };
}

function urlSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'artifact';
}

/** The SPDX 2.3 JSON document as a plain object, every list sorted. */
export function spdxDocument(input: SbomInput): Json {
  const extracted = new Map<string, string>();
  // One package per key, as in the CycloneDX document.
  const unique = [...new Map(input.components.map((c) => [componentKey(c), c] as const)).values()];
  const idOf = new Map(unique.map((c) => [componentKey(c), spdxIdFor(c)] as const));
  const components: Json[] = unique.map((c) => componentPackage(c, extracted));
  const os = osPackage(input);
  if (os) components.push(os);
  const packages = [rootPackage(input, extracted), ...components].sort((a, b) =>
    byString(String(a.SPDXID), String(b.SPDXID)),
  );
  const relation = (from: string, type: string, to: string) => ({
    spdxElementId: from,
    relationshipType: type,
    relatedSpdxElement: to,
  });
  // SPDX 2.3 §11: the artifact CONTAINS what is installed in it, a carrier CONTAINS the copies
  // vendored inside it, and a package DEPENDS_ON each installed package it requires.
  const contained = unique.map((c) =>
    relation((c.vendoredIn !== undefined && idOf.get(c.vendoredIn)) || ROOT_ID, 'CONTAINS', spdxIdFor(c)),
  );
  if (os) contained.push(relation(ROOT_ID, 'CONTAINS', String(os.SPDXID)));
  const dependsOn = unique.flatMap((c) =>
    (c.dependsOn ?? [])
      .filter((k) => idOf.has(k) && k !== componentKey(c))
      .map((k) => relation(spdxIdFor(c), 'DEPENDS_ON', idOf.get(k)!)),
  );
  const relationships = [
    relation('SPDXRef-DOCUMENT', 'DESCRIBES', ROOT_ID),
    ...[...contained, ...dependsOn].sort(
      (a, b) =>
        byString(a.spdxElementId, b.spdxElementId) ||
        byString(a.relationshipType, b.relationshipType) ||
        byString(a.relatedSpdxElement, b.relatedSpdxElement),
    ),
  ];
  const warnings = warningTexts(input);
  const time = documentTime(input) ?? new Date(0); // SPDX requires a time; epoch 0 rather than the clock
  const docName = input.subject.version
    ? `${input.subject.name}-${input.subject.version}`
    : input.subject.name;
  const namespace = (uuid: string) => `https://waybill.dev/spdx/${urlSafe(docName)}-${uuid}`;
  const doc: Json = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: docName,
    documentNamespace: namespace(documentUuid(input)),
    creationInfo: {
      created: spdxTime(time),
      creators: [`Tool: ${TOOL_NAME}-${input.toolVersion}`],
      comment: warnings.length > 0 ? warnings.map((w) => `waybill:warning ${w}`).join('\n') : undefined,
    },
    packages,
    relationships,
    hasExtractedLicensingInfos:
      extracted.size > 0
        ? [...extracted]
            .sort(([a], [b]) => byString(a, b))
            .map(([licenseId, text]) => ({ licenseId, extractedText: text, name: text }))
        : undefined,
  };
  // JSON round trip drops the undefined members, so the object equals what is written.
  return withDocumentUuid(
    input,
    () => JSON.parse(JSON.stringify(doc)) as Json,
    (written, uuid) => {
      written.documentNamespace = namespace(uuid);
    },
  );
}

/** SPDX 2.3 JSON text: same input, same bytes. */
export function writeSpdx(input: SbomInput): string {
  return sbomDocumentText(spdxDocument(input));
}
