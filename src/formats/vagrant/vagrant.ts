/**
 * Vagrant boxes and box catalogs.
 *
 * A box file is a tarball (optionally gzip) with `metadata.json` at its root: `{provider,
 * architecture?, format?, virtual_size?}` (Vagrant "Box File Format"). It has no place for a name or
 * a version — those live in the catalog — so a box's facts are its architecture and provider, and
 * its release record is a sidecar.
 *
 * A catalog ("box metadata" JSON, what `vagrant box add URL` reads) is `{name, description,
 * versions: [{version, providers: [{name, url, checksum_type, checksum, architecture,
 * default_architecture}]}]}`. Vagrant reads the keys it knows and ignores the rest (its BoxMetadata
 * classes look keys up by name), so waybill's own facts go under one extra top-level key,
 * `"waybill"`, instead of being mixed into `description`, which Vagrant shows to users.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { detectCompression } from '../../archive/decompress.ts';
import { WaybillError } from '../../errors.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { emptyFacts, type Fact, type NativeFacts } from '../facts.ts';
import {
  type ConfirmableNativeFormat,
  confirmedBy,
  type NativeStampFacts,
  type NativeStampResult,
} from '../native.ts';
import { firstTarEntryName, scanTarball } from '../shared/tar-scan.ts';

// ---- box files ----------------------------------------------------------------------------------

export interface BoxMetadata {
  provider: string;
  architecture?: string;
  format?: string;
}

function isMetadataJson(p: string): boolean {
  return p === 'metadata.json';
}

export function parseBoxMetadata(data: Buffer, input: string): BoxMetadata {
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch {
    throw new WaybillError('MALFORMED', input, 'metadata.json is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WaybillError('MALFORMED', input, 'metadata.json is not a JSON object');
  }
  const v = value as Record<string, unknown>;
  if (typeof v.provider !== 'string' || v.provider === '') {
    throw new WaybillError('MALFORMED', input, 'metadata.json has no "provider"');
  }
  const out: BoxMetadata = { provider: v.provider };
  if (typeof v.architecture === 'string' && v.architecture !== '') out.architecture = v.architecture;
  if (typeof v.format === 'string' && v.format !== '') out.format = v.format;
  return out;
}

export async function readBoxMetadata(path: string): Promise<BoxMetadata | undefined> {
  const scan = await scanTarball(path, { want: isMetadataJson, done: (s) => s.files.has('metadata.json') });
  const data = scan.files.get('metadata.json');
  return data ? parseBoxMetadata(data, `${path}!/metadata.json`) : undefined;
}

export async function readBoxFacts(path: string): Promise<NativeFacts> {
  const meta = await readBoxMetadata(path);
  if (!meta) throw new WaybillError('MALFORMED', path, 'not a Vagrant box: no metadata.json at the root');
  const facts = emptyFacts('vagrant');
  if (meta.architecture)
    facts.architectures.push({ value: meta.architecture, field: 'vagrant box metadata.json architecture' });
  facts.texts.push({ value: meta.provider, field: 'vagrant box metadata.json provider' });
  if (meta.format) facts.texts.push({ value: meta.format, field: 'vagrant box metadata.json format' });
  return facts;
}

export const vagrantBoxFormat: ConfirmableNativeFormat = {
  name: 'vagrant-box',
  // A .box that is gzip but whose head does not decode (cut inside its first block) is a box too:
  // `confirm` then reports the broken stream instead of the file passing for a plain one.
  detect: (head, path) =>
    /\.box$/i.test(path) && (firstTarEntryName(head) !== undefined || detectCompression(head) === 'gzip'),
  readFacts: readBoxFacts,
  confirm: (path) => confirmedBy(async () => (await readBoxMetadata(path)) !== undefined),
};

// ---- catalogs -----------------------------------------------------------------------------------

export interface CatalogProvider {
  name: string;
  url?: string;
  checksum_type?: string;
  checksum?: string;
  architecture?: string;
  default_architecture?: boolean;
  [key: string]: unknown;
}

export interface CatalogVersion {
  version: string;
  providers: CatalogProvider[];
  [key: string]: unknown;
}

export interface VagrantCatalog {
  name: string;
  description?: string;
  versions: CatalogVersion[];
  [key: string]: unknown;
}

/** What waybill keeps in the catalog's `"waybill"` key. */
export interface CatalogWaybillFields {
  team?: string;
  contact?: string;
  bugTracker?: string;
  docs?: string;
  source?: string;
  revision?: string;
  license?: string;
  created?: string;
}

const WAYBILL_KEYS: Array<keyof CatalogWaybillFields> = [
  'team',
  'contact',
  'bugTracker',
  'docs',
  'source',
  'revision',
  'license',
  'created',
];
const MAX_CATALOG_BYTES = 16 * 1024 * 1024;

export function parseCatalog(data: Buffer, input: string): VagrantCatalog {
  if (data.length > MAX_CATALOG_BYTES)
    throw new WaybillError('LIMIT', input, 'catalog JSON larger than 16 MiB');
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch {
    throw new WaybillError('MALFORMED', input, 'Vagrant catalog is not valid JSON');
  }
  const bad = (why: string) => new WaybillError('MALFORMED', input, `Vagrant catalog: ${why}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('not a JSON object');
  const v = value as Record<string, unknown>;
  if (typeof v.name !== 'string' || v.name === '') throw bad('no "name"');
  if (!Array.isArray(v.versions)) throw bad('"versions" is not a list');
  v.versions.forEach((ver, i) => {
    if (typeof ver !== 'object' || ver === null || typeof (ver as CatalogVersion).version !== 'string') {
      throw bad(`versions[${i}] has no "version"`);
    }
    const providers = (ver as CatalogVersion).providers;
    if (providers !== undefined && !Array.isArray(providers))
      throw bad(`versions[${i}].providers is not a list`);
    for (const [j, p] of (providers ?? []).entries()) {
      if (typeof p !== 'object' || p === null || typeof (p as CatalogProvider).name !== 'string') {
        throw bad(`versions[${i}].providers[${j}] has no "name"`);
      }
    }
  });
  return value as VagrantCatalog;
}

/** Compare version strings the way Vagrant orders them (Gem::Version-like: numeric segments first). */
export function compareBoxVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
    } else if (nx !== ny)
      return nx ? 1 : -1; // 1.0 > 1.0.beta
    else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Facts of a catalog: its name, the newest version and that version's provider architectures. */
export function catalogFacts(catalog: VagrantCatalog): NativeFacts {
  const facts = emptyFacts('vagrant');
  facts.hasIdentityFields = true;
  facts.name = { value: catalog.name, field: 'vagrant catalog name' };
  const newest = [...catalog.versions].sort((x, y) => compareBoxVersions(y.version, x.version))[0];
  if (newest) {
    facts.version = { value: newest.version, field: 'vagrant catalog versions[].version' };
    const seen = new Set<string>();
    for (const p of newest.providers ?? []) {
      if (typeof p.architecture === 'string' && p.architecture !== '' && !seen.has(p.architecture)) {
        seen.add(p.architecture);
        facts.architectures.push({
          value: p.architecture,
          field: `vagrant catalog provider ${p.name} architecture`,
        });
      }
    }
  }
  if (typeof catalog.description === 'string' && catalog.description !== '') {
    facts.texts.push({ value: catalog.description, field: 'vagrant catalog description' });
  }
  const w = catalog.waybill;
  if (typeof w === 'object' && w !== null) {
    const get = (k: keyof CatalogWaybillFields): Fact | undefined => {
      const value = (w as Record<string, unknown>)[k];
      return typeof value === 'string' && value !== ''
        ? { value, field: `vagrant catalog waybill.${k}` }
        : undefined;
    };
    const team = get('team');
    if (team) facts.team = team;
    const bugs = get('bugTracker');
    if (bugs) facts.bugTracker = bugs;
    const docs = get('docs');
    if (docs) facts.docs = docs;
    const source = get('source');
    if (source) facts.sourceRepository = source;
    const revision = get('revision');
    if (revision) facts.revision = revision;
    const license = get('license');
    if (license) facts.license = license;
    const created = get('created');
    if (created) facts.created = created;
    if (team) facts.texts.push(team);
  }
  return facts;
}

export async function readCatalogFacts(path: string): Promise<NativeFacts> {
  return catalogFacts(parseCatalog(await readFile(path), path));
}

export interface CatalogBox {
  /** The box file: its sha256 becomes the provider checksum. */
  path: string;
  /** Where the box will be downloaded from. */
  url: string;
  /** Provider name; default: the box's metadata.json provider. */
  provider?: string;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Sort keys recursively so the same catalog gives the same bytes. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
  return out;
}

/**
 * Write the facts into a catalog: `name`; a `versions` entry for `version` (created if missing;
 * with a box, its provider entry gets url, `checksum_type: "sha256"`, checksum and architecture);
 * and the waybill fields under `"waybill"`. Versions stay in their order (Vagrant sorts itself).
 */
export async function stampVagrantCatalog(
  path: string,
  facts: NativeStampFacts,
  box?: CatalogBox,
): Promise<NativeStampResult> {
  const catalog = parseCatalog(await readFile(path), path);
  const fields: string[] = [];
  if (facts.name) {
    catalog.name = facts.name;
    fields.push('vagrant catalog name');
  }
  if (box && !facts.version)
    throw new WaybillError('USAGE', path, 'a box can only be added to the catalog with a version');
  if (facts.version) {
    let entry = catalog.versions.find((v) => v.version === facts.version);
    if (!entry) {
      entry = { version: facts.version, providers: [] };
      catalog.versions.push(entry);
      fields.push('vagrant catalog versions[].version');
    }
    if (box) {
      const meta = await readBoxMetadata(box.path);
      const providerName = box.provider ?? meta?.provider;
      if (!providerName)
        throw new WaybillError('USAGE', box.path, 'box has no provider in metadata.json; pass one');
      const architecture = facts.architecture ?? meta?.architecture;
      entry.providers = entry.providers ?? [];
      const same = (p: CatalogProvider) =>
        p.name === providerName &&
        (architecture === undefined || p.architecture === undefined || p.architecture === architecture);
      const provider: CatalogProvider = entry.providers.find(same) ?? { name: providerName };
      if (!entry.providers.includes(provider)) entry.providers.push(provider);
      provider.url = box.url;
      provider.checksum_type = 'sha256';
      provider.checksum = await sha256File(box.path);
      if (architecture) {
        provider.architecture = architecture;
        // Vagrant picks the default_architecture provider when the host's is not listed; the first
        // architecture of a provider is the default unless one already is.
        if (
          !entry.providers.some((p) => p !== provider && p.name === providerName && p.default_architecture)
        ) {
          provider.default_architecture = provider.default_architecture ?? true;
        }
      }
      fields.push(`vagrant catalog provider ${providerName} checksum`);
    }
  }
  const extra: CatalogWaybillFields = {
    team: facts.team ?? undefined,
    contact: facts.contact ?? undefined,
    bugTracker: facts.bugTracker ?? undefined,
    docs: facts.docs ?? undefined,
    source: facts.source ?? undefined,
    revision: facts.revision ?? undefined,
    license: facts.license ?? undefined,
    created: facts.created ?? undefined,
  };
  const current = (
    typeof catalog.waybill === 'object' && catalog.waybill !== null ? catalog.waybill : {}
  ) as Record<string, unknown>;
  for (const k of WAYBILL_KEYS) {
    if (extra[k]) {
      current[k] = extra[k];
      fields.push(`vagrant catalog waybill.${k}`);
    }
  }
  if (Object.keys(current).length > 0) catalog.waybill = current;
  if (fields.length === 0) return { changed: false, fields };
  await writeFileAtomic(path, `${JSON.stringify(sortKeys(catalog), null, 2)}\n`);
  return { changed: true, fields };
}

export const vagrantCatalogFormat: ConfirmableNativeFormat = {
  name: 'vagrant-catalog',
  /** A .json file whose first bytes mention "versions" (the rest is checked by `confirm`). */
  detect(head, path) {
    if (!/\.json$/i.test(path)) return false;
    const text = head.toString('utf8').trimStart();
    return text.startsWith('{') && text.includes('"versions"');
  },
  readFacts: readCatalogFacts,
  writesIdentity: true,
  stamp: (path, facts) => stampVagrantCatalog(path, facts),
  async confirm(path) {
    try {
      parseCatalog(await readFile(path), path);
      return true;
    } catch {
      return false;
    }
  },
};
