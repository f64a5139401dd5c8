/**
 * CycloneDX 1.6 JSON writer. The model and serializer are the CycloneDX JavaScript library's; waybill
 * adds what the library does not model (component `evidence.occurrences`, spec 1.6) to the normalized
 * document, and re-sorts every list in code-unit order so the bytes do not depend on the locale the
 * library's `localeCompare` sorting would use.
 */
import { createRequire } from 'node:module';
import type * as CDX from '@cyclonedx/cyclonedx-library';
import { type Component, componentKey } from '../catalog/types.ts';
import { dependencyGraph } from './graph.ts';
import { type CycloneDxLicense, cycloneDxLicenses } from './license.ts';
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

type Library = Pick<typeof CDX, 'Models' | 'Enums' | 'Serialize' | 'Spec'>;
let library: Library | undefined;

/**
 * The library's parts this writer uses, loaded on first use: the package's main entry also loads
 * its validators (ajv and every schema, ~200 modules), and a walk of a large image should not carry
 * any of it in memory until it is done. The library is CommonJS, so a synchronous require keeps the
 * writer synchronous.
 */
function cdx(): Library {
  if (!library) {
    const require = createRequire(import.meta.url);
    library = {
      Models: require('@cyclonedx/cyclonedx-library/Models'),
      Enums: require('@cyclonedx/cyclonedx-library/Enums'),
      Serialize: require('@cyclonedx/cyclonedx-library/Serialize'),
      Spec: require('@cyclonedx/cyclonedx-library/Spec'),
    };
  }
  return library;
}

function licenseModel(
  l: CycloneDxLicense,
): CDX.Models.SpdxLicense | CDX.Models.NamedLicense | CDX.Models.LicenseExpression {
  const { Models } = cdx();
  if ('id' in l) return new Models.SpdxLicense(l.id);
  if ('expression' in l) return new Models.LicenseExpression(l.expression);
  return new Models.NamedLicense(l.name);
}

function properties(list: Array<{ name: string; value: string }>): CDX.Models.PropertyRepository {
  const { Models } = cdx();
  return new Models.PropertyRepository(list.map((p) => new Models.Property(p.name, p.value)));
}

function componentModel(c: Component): CDX.Models.Component {
  const { Models, Enums } = cdx();
  const hashes = new Models.HashDictionary();
  for (const h of c.hashes ?? []) hashes.set(h.alg as CDX.Enums.HashAlgorithm, h.content);
  return new Models.Component(c.type as CDX.Enums.ComponentType, c.name, {
    bomRef: componentKey(c),
    // CycloneDX 1.6 scope `optional`: "not capable of being called due to them not being installed".
    scope: c.presence === 'declared' || c.presence === 'packaged' ? Enums.ComponentScope.Optional : undefined,
    purl: c.purl as never, // the library accepts a PackageURL or its string form
    // An empty version is an unknown one (an npm package.json that states none): left out.
    version: c.version === '' ? undefined : c.version,
    description: c.description,
    supplier: c.supplier ? new Models.OrganizationalEntity({ name: c.supplier }) : undefined,
    licenses: new Models.LicenseRepository(cycloneDxLicenses(c.licenses).map(licenseModel)),
    hashes,
    properties: properties(componentProperties(c)),
  });
}

function rootModel(input: SbomInput): CDX.Models.Component {
  const { subject } = input;
  const pkg = subject.package;
  const { Models, Enums } = cdx();
  const hashes = new Models.HashDictionary();
  const hex = sha256Hex(subject.digest);
  if (hex) hashes.set(Enums.HashAlgorithm['SHA-256'], hex);
  const artifactProps = [
    ...(subject.digest !== undefined ? [{ name: 'waybill:artifact:digest', value: subject.digest }] : []),
    { name: 'waybill:artifact:kind', value: subject.kind },
  ];
  // A package file's root is the package itself: its purl, licenses and supplier (issue: a package's
  // own SBOM names the package, so it can be matched against vulnerability data).
  return new Models.Component(rootType(subject) as CDX.Enums.ComponentType, subject.name, {
    bomRef: subject.digest !== undefined ? `waybill:artifact:${subject.digest}` : 'waybill:artifact',
    version: subject.version,
    hashes,
    purl: pkg ? (pkg.purl as never) : undefined,
    description: pkg?.description,
    supplier: pkg?.supplier ? new Models.OrganizationalEntity({ name: pkg.supplier }) : undefined,
    licenses: new Models.LicenseRepository(cycloneDxLicenses(pkg?.licenses ?? []).map(licenseModel)),
    properties: properties([
      ...artifactProps,
      ...(pkg ? componentProperties(pkg).filter((p) => p.name !== 'waybill:found-at') : []),
    ]),
  });
}

function osModel(input: SbomInput): CDX.Models.Component | undefined {
  const d = input.distro;
  if (!d) return undefined;
  const { Models, Enums } = cdx();
  return new Models.Component(Enums.ComponentType.OperatingSystem, d.id, {
    bomRef: `waybill:os:${d.id}@${d.versionId ?? ''}`,
    version: d.versionId,
    description: d.prettyName,
    properties: properties(
      [
        d.versionCodename ? { name: 'waybill:os:version-codename', value: d.versionCodename } : undefined,
        d.name ? { name: 'waybill:os:name', value: d.name } : undefined,
      ].filter((p): p is { name: string; value: string } => p !== undefined),
    ),
  });
}

/** The library's model of the document (exported for callers that want to extend it). */
export function cycloneDxBom(input: SbomInput): CDX.Models.Bom {
  const { Models, Enums } = cdx();
  const root = rootModel(input);
  const bom = new Models.Bom({ serialNumber: `urn:uuid:${documentUuid(input)}` });
  bom.metadata.timestamp = documentTime(input);
  bom.metadata.component = root;
  bom.metadata.tools.components.add(
    new Models.Component(Enums.ComponentType.Application, TOOL_NAME, {
      version: input.toolVersion,
      bomRef: `waybill:tool:${input.toolVersion}`,
    }),
  );
  for (const w of warningTexts(input)) bom.metadata.properties.add(new Models.Property('waybill:warning', w));
  const os = osModel(input);
  // One component per key: a duplicate bom-ref would make the library invent a random one.
  const unique = [...new Map(input.components.map((c) => [componentKey(c), c] as const)).values()];
  const models = new Map(unique.map((c) => [componentKey(c), componentModel(c)] as const));
  for (const c of unique) {
    const model = models.get(componentKey(c))!;
    // A vendored copy nests under the package that carries it (CycloneDX `components[].components`).
    const carrier =
      c.vendoredIn !== undefined && c.vendoredIn !== componentKey(c) ? models.get(c.vendoredIn) : undefined;
    (carrier ? carrier.components : bom.components).add(model);
  }
  const graph = dependencyGraph(unique);
  for (const [key, targets] of graph.edges) {
    const from = models.get(key)!;
    for (const t of targets) from.dependencies.add(models.get(t)!.bomRef);
  }
  for (const key of graph.topLevel) root.dependencies.add(models.get(key)!.bomRef);
  if (os) {
    bom.components.add(os);
    root.dependencies.add(os.bomRef);
  }
  return bom;
}

type Json = Record<string, unknown>;

const sortByKeys =
  (...keys: string[]) =>
  (a: Json, b: Json): number => {
    for (const k of keys) {
      const r = byString(String(a[k] ?? ''), String(b[k] ?? ''));
      if (r !== 0) return r;
    }
    return 0;
  };

/** Locale-independent order for every list the library sorted with localeCompare. */
function resort(doc: Json, occurrences: Map<string, string[]>): void {
  const byName = sortByKeys('name', 'value');
  const fixComponent = (c: Json) => {
    if (Array.isArray(c.properties)) (c.properties as Json[]).sort(byName);
    const paths = occurrences.get(String(c['bom-ref']));
    // CycloneDX 1.6 §evidence.occurrences: where the component was found (the library has no model).
    if (paths && paths.length > 0) c.evidence = { occurrences: paths.map((location) => ({ location })) };
  };
  const metadata = doc.metadata as Json;
  if (Array.isArray(metadata.properties)) (metadata.properties as Json[]).sort(byName);
  if (metadata.component) fixComponent(metadata.component as Json);
  const fixAll = (list: Json[] | undefined) => {
    if (!list) return;
    list.sort(sortByKeys('bom-ref'));
    for (const c of list) {
      fixComponent(c);
      fixAll(c.components as Json[] | undefined);
    }
  };
  fixAll(doc.components as Json[] | undefined);
  const deps = (doc.dependencies as Json[] | undefined) ?? [];
  deps.sort(sortByKeys('ref'));
  for (const d of deps) if (Array.isArray(d.dependsOn)) (d.dependsOn as string[]).sort(byString);
}

/** The CycloneDX 1.6 JSON document as a plain object, every list sorted. */
export function cycloneDxDocument(input: SbomInput): Json {
  const { Serialize, Spec } = cdx();
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
  return withDocumentUuid(
    input,
    () => {
      const doc = JSON.parse(serializer.serialize(cycloneDxBom(input), { sortLists: true })) as Json;
      resort(doc, new Map(input.components.map((c) => [componentKey(c), [...c.foundAt].sort(byString)])));
      return doc;
    },
    (doc, uuid) => {
      doc.serialNumber = `urn:uuid:${uuid}`;
    },
  );
}

/** CycloneDX 1.6 JSON text: same input, same bytes. */
export function writeCycloneDx(input: SbomInput): string {
  return sbomDocumentText(cycloneDxDocument(input));
}
