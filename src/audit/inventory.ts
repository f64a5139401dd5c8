/**
 * What an audit needs from an SBOM, beyond the component list `sbom/read.ts` gives: each component's
 * identity (bom-ref / SPDXID), properties, where it was found (layer, path), the operating system the
 * document names, and the dependency graph (CycloneDX `dependencies`; SPDX DEPENDS_ON, DEPENDENCY_OF
 * and CONTAINS relationships) with its roots. Reads waybill's SBOMs and other tools' (syft, trivy,
 * cdxgen, the CycloneDX tool family): their property names for layers, paths and source packages
 * are understood too. The document is first checked by `readSbom`, so a file that is not CycloneDX
 * or SPDX JSON fails with that reader's one-line message.
 */
import { WaybillError } from '../errors.ts';
import { readSbom, type SbomFormat } from '../sbom/read.ts';

export interface ComponentLocation {
  layer?: string;
  path?: string;
}

export interface InventoryComponent {
  /** bom-ref, SPDXID, or a synthesized `#N` when the document gave none. */
  ref: string;
  name: string;
  version?: string;
  purl?: string;
  /** Property name → values, in document order. */
  properties: Map<string, string[]>;
  locations: ComponentLocation[];
  /**
   * The SBOM's subject (a package file's own SBOM names the package in CycloneDX
   * `metadata.component` / the SPDX package it DESCRIBES): audited like any component.
   */
  isSubject?: true;
}

export interface InventoryDistro {
  id: string;
  versionId?: string;
}

export interface Inventory {
  format: SbomFormat;
  specVersion: string;
  /** The artifact the SBOM describes (CycloneDX metadata.component, SPDX DESCRIBES). */
  subject?: { ref: string; name: string; version?: string; digest?: string; purl?: string };
  distro?: InventoryDistro;
  components: InventoryComponent[];
  /** ref → the refs it depends on (or contains). */
  edges: Map<string, string[]>;
  /** Where dependency paths start: the subject, else every node nothing points at. */
  roots: string[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Property names other tools use for the layer and the path a component came from. */
const LAYER_PROPERTIES = [
  /^waybill:layer$/,
  /^syft:location:\d+:layerID$/,
  /^aquasecurity:trivy:LayerDiffID$/,
];
const PATH_PROPERTIES = [/^waybill:found-at$/, /^syft:location:\d+:path$/, /^aquasecurity:trivy:FilePath$/];

function propertyMap(list: unknown): Map<string, string[]> {
  const map = new Map<string, string[]>();
  if (!Array.isArray(list)) return map;
  for (const p of list) {
    if (!isObject(p)) continue;
    const name = str(p.name);
    const value = typeof p.value === 'string' ? p.value : undefined;
    if (name === undefined || value === undefined) continue;
    const values = map.get(name);
    if (values) values.push(value);
    else map.set(name, [value]);
  }
  return map;
}

function valuesMatching(props: Map<string, string[]>, patterns: RegExp[]): string[] {
  const out: string[] = [];
  for (const [name, values] of props) if (patterns.some((p) => p.test(name))) out.push(...values);
  return out;
}

function locationsOf(props: Map<string, string[]>, occurrences: unknown): ComponentLocation[] {
  const layers = valuesMatching(props, LAYER_PROPERTIES);
  const paths = valuesMatching(props, PATH_PROPERTIES);
  if (Array.isArray(occurrences)) {
    for (const o of occurrences) if (isObject(o) && str(o.location)) paths.push(o.location as string);
  }
  const layer = layers[0];
  const unique = [...new Set(paths)].sort();
  if (unique.length === 0) return layer ? [{ layer }] : [];
  return unique.map((path) => (layer ? { layer, path } : { path }));
}

function cycloneDx(doc: Json): Omit<Inventory, 'format' | 'specVersion'> {
  const components: InventoryComponent[] = [];
  let distro: InventoryDistro | undefined;
  let synthetic = 0;
  const visit = (list: unknown, depth: number) => {
    if (!Array.isArray(list) || depth > 100) return;
    for (const c of list) {
      if (!isObject(c)) continue;
      const name = str(c.name);
      if (name !== undefined) {
        const properties = propertyMap(c.properties);
        const ref = str(c['bom-ref']) ?? `#${++synthetic}`;
        if (c.type === 'operating-system') {
          distro ??= {
            id: name.toLowerCase(),
            ...(str(c.version) ? { versionId: c.version as string } : {}),
          };
        } else {
          const group = str(c.group);
          const full = group && !name.startsWith(`${group}/`) ? `${group}/${name}` : name;
          const evidence = isObject(c.evidence) ? c.evidence.occurrences : undefined;
          const component: InventoryComponent = {
            ref,
            name: full,
            properties,
            locations: locationsOf(properties, evidence),
          };
          if (str(c.version)) component.version = c.version as string;
          if (str(c.purl)) component.purl = c.purl as string;
          components.push(component);
        }
      }
      visit(c.components, depth + 1);
    }
  };
  visit(doc.components, 0);
  const edges = new Map<string, string[]>();
  if (Array.isArray(doc.dependencies)) {
    for (const d of doc.dependencies) {
      if (!isObject(d) || !str(d.ref) || !Array.isArray(d.dependsOn)) continue;
      const targets = d.dependsOn.filter((t): t is string => typeof t === 'string');
      edges.set(d.ref as string, [...(edges.get(d.ref as string) ?? []), ...targets]);
    }
  }
  const meta =
    isObject(doc.metadata) && isObject(doc.metadata.component) ? doc.metadata.component : undefined;
  let subject: Inventory['subject'];
  if (meta && str(meta.name)) {
    const props = propertyMap(meta.properties);
    subject = { ref: str(meta['bom-ref']) ?? '#subject', name: meta.name as string };
    if (str(meta.version)) subject.version = meta.version as string;
    const digest = props.get('waybill:artifact:digest')?.[0];
    if (digest) subject.digest = digest;
    if (str(meta.purl)) subject.purl = meta.purl as string;
    addSubjectComponent(components, subject, props);
  }
  return {
    components,
    edges,
    roots: rootsOf(subject?.ref, components, edges),
    ...(subject ? { subject } : {}),
    ...(distro ? { distro } : {}),
  };
}

function spdxPurl(pkg: Json): string | undefined {
  if (!Array.isArray(pkg.externalRefs)) return undefined;
  for (const r of pkg.externalRefs)
    if (isObject(r) && r.referenceType === 'purl' && str(r.referenceLocator))
      return r.referenceLocator as string;
  return undefined;
}

function spdx(doc: Json): Omit<Inventory, 'format' | 'specVersion'> {
  const packages = Array.isArray(doc.packages) ? doc.packages.filter(isObject) : [];
  const docId = str(doc.SPDXID) ?? 'SPDXRef-DOCUMENT';
  const edges = new Map<string, string[]>();
  const described: string[] = [];
  const add = (from: string, to: string) => edges.set(from, [...(edges.get(from) ?? []), to]);
  for (const r of Array.isArray(doc.relationships) ? doc.relationships : []) {
    if (!isObject(r)) continue;
    const a = str(r.spdxElementId);
    const b = str(r.relatedSpdxElement);
    if (!a || !b) continue;
    if (a === docId && r.relationshipType === 'DESCRIBES') described.push(b);
    else if (b === docId && r.relationshipType === 'DESCRIBED_BY') described.push(a);
    else if (r.relationshipType === 'DEPENDS_ON' || r.relationshipType === 'CONTAINS') add(a, b);
    else if (r.relationshipType === 'DEPENDENCY_OF' || r.relationshipType === 'CONTAINED_BY') add(b, a);
  }
  if (Array.isArray(doc.documentDescribes))
    for (const id of doc.documentDescribes) if (typeof id === 'string') described.push(id);
  const describedSet = new Set(described);
  // A document that "describes" every package lists components, not a subject (as sbom/read.ts).
  const allDescribed = packages.length > 0 && packages.every((p) => describedSet.has(String(p.SPDXID)));
  let subject: Inventory['subject'];
  // The subject is added once every package is known, so a copy of it among them is not doubled.
  const subjects: Array<{ subject: NonNullable<Inventory['subject']>; properties: Map<string, string[]> }> =
    [];
  let distro: InventoryDistro | undefined;
  const components: InventoryComponent[] = [];
  packages.forEach((p, i) => {
    const name = str(p.name);
    if (!name) return;
    const ref = str(p.SPDXID) ?? `#${i + 1}`;
    const version = str(p.versionInfo) === 'NOASSERTION' ? undefined : str(p.versionInfo);
    const purl = spdxPurl(p);
    const properties = commentProperties(p.comment);
    if (!allDescribed && describedSet.has(ref) && !subject) {
      subject = { ref, name, ...(version ? { version } : {}), ...(purl ? { purl } : {}) };
      const digest = properties.get('waybill:artifact:digest')?.[0];
      if (digest) subject.digest = digest;
      subjects.push({ subject, properties });
      return;
    }
    if (p.primaryPackagePurpose === 'OPERATING-SYSTEM') {
      distro ??= { id: name.toLowerCase(), ...(version ? { versionId: version } : {}) };
      return;
    }
    const component: InventoryComponent = { ref, name, properties, locations: [] };
    if (version) component.version = version;
    if (purl) component.purl = purl;
    components.push(component);
  });
  for (const s of subjects) addSubjectComponent(components, s.subject, s.properties);
  const roots = subject ? [subject.ref] : rootsOf(undefined, components, edges);
  return { components, edges, roots, ...(subject ? { subject } : {}), ...(distro ? { distro } : {}) };
}

/**
 * waybill writes a package's properties into its SPDX `comment`, one `waybill:NAME=VALUE` a line
 * (sbom/spdx.ts); other comments are free text and give nothing.
 */
function commentProperties(comment: unknown): Map<string, string[]> {
  const map = new Map<string, string[]>();
  if (typeof comment !== 'string') return map;
  for (const line of comment.split('\n')) {
    const m = /^(waybill:[^=\s]+)=(.*)$/.exec(line);
    if (!m) continue;
    const [, name, value] = m as unknown as [string, string, string];
    map.set(name, [...(map.get(name) ?? []), value]);
  }
  return map;
}

/**
 * The subject, when it has a purl, is audited as a component too (a .deb's SBOM names the package
 * itself there), unless the document also lists it among its components (same ref or purl).
 */
function addSubjectComponent(
  components: InventoryComponent[],
  subject: NonNullable<Inventory['subject']>,
  properties: Map<string, string[]>,
): void {
  const purl = subject.purl;
  if (!purl) return;
  if (components.some((c) => c.ref === subject.ref || c.purl === purl)) return;
  const component: InventoryComponent = {
    ref: subject.ref,
    name: subject.name,
    purl,
    properties,
    locations: [],
    isSubject: true,
  };
  if (subject.version) component.version = subject.version;
  components.push(component);
}

/** The subject; else components nothing depends on (sorted, so paths are deterministic). */
function rootsOf(
  subject: string | undefined,
  components: InventoryComponent[],
  edges: Map<string, string[]>,
): string[] {
  if (subject !== undefined) return [subject];
  const targets = new Set<string>();
  for (const list of edges.values()) for (const t of list) targets.add(t);
  return [...new Set([...edges.keys(), ...components.map((c) => c.ref)])]
    .filter((r) => !targets.has(r))
    .sort();
}

/** Read an SBOM for an audit. Throws WaybillError (MALFORMED / UNSUPPORTED) naming `name`. */
export function readInventory(bytes: Buffer | string, name: string): Inventory {
  const checked = readSbom(bytes, name);
  const text = (typeof bytes === 'string' ? bytes : bytes.toString('utf8')).replace(/^\uFEFF/, '');
  const doc = JSON.parse(text) as unknown;
  if (!isObject(doc)) throw new WaybillError('MALFORMED', name, 'not a JSON object');
  const body = checked.format === 'cyclonedx-json' ? cycloneDx(doc) : spdx(doc);
  return { format: checked.format, specVersion: checked.specVersion, ...body };
}
