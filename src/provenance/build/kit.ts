/**
 * The rebuild kit: everything `waybill rebuild` needs to make a release's outputs again, in one
 * deterministic, uncompressed tar published next to them as `NAME-VERSION.rebuild.tar`:
 *
 *   waybill-rebuild-kit.json   the manifest (first, so a kit is identified by reading one entry)
 *   waybill.yaml               the project configuration as committed at the tag (the recipe's source)
 *   source.tar                 the exported source archive, byte for byte
 *
 * Every entry has mode 0644, uid/gid 0 and the tagged commit's time as mtime. The manifest format
 * (https://waybill.dev/rebuild-kit/v1) is documented in docs/build.md.
 *
 * A kit is read by people who did not write it, so `readKit` treats it as hostile: exactly those
 * three members, bounded sizes, every manifest field type-checked, the recipe held to the same rules
 * as waybill.yaml (no output outside the tree, no code-injecting variables, tools as bare names).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import {
  indexTarFile,
  openIndexedEntry,
  type TarIndex,
  type TarIndexEntry,
} from '../../archive/tar-reader.ts';
import { tarChunks } from '../../archive/tar-writer.ts';
import type { Settings } from '../../config/merge.ts';
import { WaybillError } from '../../errors.ts';
import type { SourceFact } from '../../record/types.ts';
import { writeStreamAtomic } from '../../util/atomic-write.ts';
import {
  type BuildRecipe,
  envNameProblem,
  MAX_TIMEOUT_SECONDS,
  outputPatternProblem,
  RECIPE_SET_VARIABLES,
  toolSpecProblem,
} from './recipe.ts';
import type { ToolRecord } from './tools.ts';

export const KIT_TYPE = 'https://waybill.dev/rebuild-kit/v1';
export const KIT_SUFFIX = '.rebuild.tar';
export const KIT_MANIFEST = 'waybill-rebuild-kit.json';
export const KIT_CONFIG = 'waybill.yaml';
export const KIT_SOURCE = 'source.tar';

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_CONFIG_BYTES = 1024 * 1024;

export interface KitOutput {
  /** Where the recipe leaves it, relative to the build directory. */
  path: string;
  /** The published file (or layout directory) name, next to the kit. */
  name: string;
  kind: 'file' | 'oci-layout';
  /** SHA-256 (hex) of what the recipe produced (a file's bytes; a layout's image manifest). */
  built: string;
  /** SHA-256 (hex) of what was published, after `stamp` wrote the native metadata. */
  published: string;
}

/** The settings `stamp` ran with, so a rebuild stamps the same way. */
export interface KitStamp
  extends Pick<
    Settings,
    | 'name'
    | 'version'
    | 'architecture'
    | 'team'
    | 'contact'
    | 'bugTracker'
    | 'docsUrl'
    | 'license'
    | 'disclaimer'
    | 'support'
  > {
  sbomFormat: 'cyclonedx-json' | 'spdx-json';
  /** RFC 3339 build date the records and native metadata carry. */
  built: string;
  source: SourceFact;
}

export interface KitManifest {
  kitType: typeof KIT_TYPE;
  name: string;
  version: string;
  repository: string;
  tag: string;
  commit: string;
  tagObject: string | null;
  tree: string;
  /** Path of waybill.yaml in the tagged tree. */
  configPath: string;
  recipe: BuildRecipe;
  /** SOURCE_DATE_EPOCH, TZ, LC_ALL and the allow-listed variables, with the values used. */
  environment: Record<string, string>;
  tools: ToolRecord[];
  sourceArchive: { sha256: string; size: number };
  outputs: KitOutput[];
  stamp: KitStamp;
  builder: { id: string; waybill: string };
}

/** `hello`, `1.2.3` → `hello-1.2.3.rebuild.tar`, with anything unsafe in a file name replaced. */
export function kitFileName(name: string, version: string): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._+-]/g, '_').replace(/^\.+/, '_');
  return `${safe(name)}-${safe(version)}${KIT_SUFFIX}`;
}

export function serializeKitManifest(manifest: KitManifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
}

/** Writes the kit atomically; returns its SHA-256 (hex) and size. */
export async function writeKit(
  target: string,
  manifest: KitManifest,
  config: Buffer,
  sourceArchive: string,
  mtime: number,
): Promise<{ sha256: string; size: number }> {
  const { size } = await stat(sourceArchive);
  const entries = [
    { path: KIT_MANIFEST, data: serializeKitManifest(manifest) },
    { path: KIT_CONFIG, data: config },
    { path: KIT_SOURCE, data: { size, open: () => createReadStream(sourceArchive) } },
  ];
  const hash = createHash('sha256');
  let total = 0;
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const chunk of tarChunks(entries, { mtime })) {
      hash.update(chunk);
      total += chunk.length;
      yield chunk;
    }
  }
  await writeStreamAtomic(target, hashed());
  return { sha256: hash.digest('hex'), size: total };
}

export interface OpenedKit {
  path: string;
  manifest: KitManifest;
  config: Buffer;
  /** The source archive's place inside the kit file. */
  source: TarIndexEntry;
}

async function readMember(path: string, entry: TarIndexEntry, max: number): Promise<Buffer> {
  if (entry.size > max) throw new WaybillError('LIMIT', path, `${entry.path} is larger than ${max} bytes`);
  const chunks: Buffer[] = [];
  for await (const chunk of openIndexedEntry(path, entry)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function member(index: TarIndex, path: string, name: string): TarIndexEntry {
  const entry = index.get(name);
  if (entry?.type !== 'file') {
    throw new WaybillError('MALFORMED', path, `not a rebuild kit: no ${name} member`);
  }
  return entry as TarIndexEntry;
}

/** Opens a kit file: its members located, the manifest parsed and checked. Nothing is extracted. */
export async function openKit(path: string): Promise<OpenedKit> {
  const index = await indexTarFile(path);
  const names = [...index.keys()].sort();
  const expected = [KIT_CONFIG, KIT_SOURCE, KIT_MANIFEST].sort();
  if (names.length !== expected.length || names.some((n, i) => n !== expected[i])) {
    if (!index.has(KIT_MANIFEST))
      throw new WaybillError('MALFORMED', path, `not a rebuild kit: no ${KIT_MANIFEST} member`);
    throw new WaybillError(
      'MALFORMED',
      path,
      `rebuild kit must hold exactly ${expected.join(', ')}; it holds ${names.map((n) => JSON.stringify(n)).join(', ')}`,
    );
  }
  const manifestBytes = await readMember(path, member(index, path, KIT_MANIFEST), MAX_MANIFEST_BYTES);
  const config = await readMember(path, member(index, path, KIT_CONFIG), MAX_CONFIG_BYTES);
  const source = member(index, path, KIT_SOURCE);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(manifestBytes));
  } catch {
    throw new WaybillError('MALFORMED', path, `${KIT_MANIFEST} is not valid UTF-8 JSON`);
  }
  const manifest = parseKitManifest(json, `${path}: ${KIT_MANIFEST}`);
  if (manifest.sourceArchive.size !== source.size) {
    throw new WaybillError(
      'DIGEST_MISMATCH',
      path,
      `${KIT_SOURCE} is ${source.size} bytes but the kit records ${manifest.sourceArchive.size}`,
    );
  }
  return { path, manifest, config, source };
}

/** A stream of the kit's source archive bytes. */
export function openKitSource(kit: OpenedKit): NodeJS.ReadableStream {
  return openIndexedEntry(kit.path, kit.source);
}

// ---------------------------------------------------------------------------------------------
// Parsing the manifest: every field checked, nothing taken on trust.

class Reader {
  readonly input: string;

  constructor(input: string) {
    this.input = input;
  }

  fail(field: string, reason: string): never {
    throw new WaybillError('MALFORMED', this.input, `${field}: ${reason}`);
  }

  object(v: unknown, field: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(field, 'must be an object');
    return v as Record<string, unknown>;
  }

  string(v: unknown, field: string, check?: (s: string) => string | undefined): string {
    if (typeof v !== 'string' || v === '' || v.includes('\0')) this.fail(field, 'must be a non-empty string');
    const problem = check?.(v);
    if (problem) this.fail(field, problem);
    return v;
  }

  nullableString(v: unknown, field: string): string | null {
    return v === null ? null : this.string(v, field);
  }

  sha256(v: unknown, field: string): string {
    return this.string(v, field, (s) =>
      /^[0-9a-f]{64}$/.test(s) ? undefined : 'must be 64 lowercase hex digits',
    );
  }

  gitId(v: unknown, field: string): string {
    return this.string(v, field, (s) =>
      /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(s) ? undefined : 'must be a git object id',
    );
  }

  integer(v: unknown, field: string, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
      this.fail(field, `must be a whole number from ${min} to ${max}`);
    return v;
  }

  list<T>(v: unknown, field: string, item: (x: unknown, f: string) => T, max = 10_000): T[] {
    if (!Array.isArray(v)) this.fail(field, 'must be a list');
    if (v.length > max) this.fail(field, `has more than ${max} items`);
    return v.map((x, i) => item(x, `${field}[${i}]`));
  }
}

const FIXED_ENVIRONMENT = new Set(['SOURCE_DATE_EPOCH', 'TZ', 'LC_ALL']);

function parseRecipe(r: Reader, v: unknown): BuildRecipe {
  const o = r.object(v, 'recipe');
  return {
    commands: r.list(o.commands, 'recipe.commands', (x, f) => r.string(x, f)),
    outputs: r.list(o.outputs, 'recipe.outputs', (x, f) => r.string(x, f, outputPatternProblem)),
    env: r.list(o.env, 'recipe.env', (x, f) => r.string(x, f, envNameProblem)),
    timeout: r.integer(o.timeout, 'recipe.timeout', 1, MAX_TIMEOUT_SECONDS),
    tools: r.list(o.tools, 'recipe.tools', (x, f) => r.string(x, f, toolSpecProblem)),
  };
}

function parseEnvironment(r: Reader, v: unknown, recipe: BuildRecipe): Record<string, string> {
  const o = r.object(v, 'environment');
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(o)) {
    const field = `environment.${name}`;
    if (!FIXED_ENVIRONMENT.has(name)) {
      if (RECIPE_SET_VARIABLES.includes(name)) r.fail(field, 'is set by waybill, not by the kit');
      const problem = envNameProblem(name);
      if (problem) r.fail(field, problem);
      if (!recipe.env.includes(name)) r.fail(field, 'is not in the recipe’s env allow-list');
    }
    if (typeof value !== 'string' || value.includes('\0')) r.fail(field, 'must be a string');
    out[name] = value;
  }
  if (!/^\d{1,12}$/.test(out.SOURCE_DATE_EPOCH ?? ''))
    r.fail('environment.SOURCE_DATE_EPOCH', 'must be whole seconds');
  return out;
}

function parseTool(r: Reader, v: unknown, f: string): ToolRecord {
  const o = r.object(v, f);
  const spec = r.string(o.spec, `${f}.spec`, toolSpecProblem);
  return {
    spec,
    name: r.string(o.name, `${f}.name`, toolSpecProblem),
    path: r.nullableString(o.path, `${f}.path`),
    sha256: o.sha256 === null ? null : r.sha256(o.sha256, `${f}.sha256`),
    version: r.nullableString(o.version, `${f}.version`),
  };
}

function plainFileName(s: string): string | undefined {
  return s.includes('/') || s.includes('\\') || s === '.' || s === '..'
    ? 'must be a plain file name'
    : undefined;
}

function parseOutput(r: Reader, v: unknown, f: string): KitOutput {
  const o = r.object(v, f);
  const kind = o.kind;
  if (kind !== 'file' && kind !== 'oci-layout') r.fail(`${f}.kind`, 'must be "file" or "oci-layout"');
  return {
    path: r.string(o.path, `${f}.path`, outputPatternProblem),
    name: r.string(o.name, `${f}.name`, plainFileName),
    kind,
    built: r.sha256(o.built, `${f}.built`),
    published: r.sha256(o.published, `${f}.published`),
  };
}

function parseSourceFact(r: Reader, v: unknown): SourceFact {
  const o = r.object(v, 'stamp.source');
  const sig = r.object(o.signature, 'stamp.source.signature');
  const format = sig.format;
  if (format !== null && format !== 'ssh' && format !== 'openpgp' && format !== 'x509') {
    r.fail('stamp.source.signature.format', 'must be ssh, openpgp, x509 or null');
  }
  if (typeof sig.verified !== 'boolean') r.fail('stamp.source.signature.verified', 'must be true or false');
  return {
    repository: r.nullableString(o.repository, 'stamp.source.repository'),
    tag: r.nullableString(o.tag, 'stamp.source.tag'),
    commit: o.commit === null ? null : r.gitId(o.commit, 'stamp.source.commit'),
    tagObject: o.tagObject === null ? null : r.gitId(o.tagObject, 'stamp.source.tagObject'),
    signature: {
      verified: sig.verified,
      format,
      signer: r.nullableString(sig.signer, 'stamp.source.signature.signer'),
      reason: r.string(sig.reason, 'stamp.source.signature.reason'),
    },
  };
}

function parseStamp(r: Reader, v: unknown): KitStamp {
  const o = r.object(v, 'stamp');
  const s = (key: string) => r.nullableString(o[key], `stamp.${key}`);
  const sbomFormat = o.sbomFormat;
  if (sbomFormat !== 'cyclonedx-json' && sbomFormat !== 'spdx-json')
    r.fail('stamp.sbomFormat', 'must be cyclonedx-json or spdx-json');
  return {
    name: s('name'),
    version: s('version'),
    architecture: s('architecture'),
    team: s('team'),
    contact: s('contact'),
    bugTracker: s('bugTracker'),
    docsUrl: s('docsUrl'),
    license: r.string(o.license, 'stamp.license'),
    disclaimer: s('disclaimer'),
    support: s('support'),
    sbomFormat,
    built: r.string(o.built, 'stamp.built', (x) =>
      Number.isNaN(Date.parse(x)) ? 'must be an RFC 3339 date' : undefined,
    ),
    source: parseSourceFact(r, o.source),
  };
}

export function parseKitManifest(json: unknown, input: string): KitManifest {
  const r = new Reader(input);
  const o = r.object(json, 'manifest');
  if (o.kitType !== KIT_TYPE) r.fail('kitType', `must be ${KIT_TYPE}`);
  const recipe = parseRecipe(r, o.recipe);
  const outputs = r.list(o.outputs, 'outputs', (x, f) => parseOutput(r, x, f));
  if (outputs.length === 0) r.fail('outputs', 'lists no outputs');
  const names = new Set<string>();
  for (const out of outputs) {
    if (names.has(out.name)) r.fail('outputs', `two outputs are published as ${JSON.stringify(out.name)}`);
    names.add(out.name);
  }
  const archive = r.object(o.sourceArchive, 'sourceArchive');
  const builder = r.object(o.builder, 'builder');
  return {
    kitType: KIT_TYPE,
    name: r.string(o.name, 'name'),
    version: r.string(o.version, 'version'),
    repository: r.string(o.repository, 'repository'),
    tag: r.string(o.tag, 'tag'),
    commit: r.gitId(o.commit, 'commit'),
    tagObject: o.tagObject === null ? null : r.gitId(o.tagObject, 'tagObject'),
    tree: r.gitId(o.tree, 'tree'),
    configPath: r.string(o.configPath, 'configPath', outputPatternProblem),
    recipe,
    environment: parseEnvironment(r, o.environment, recipe),
    tools: r.list(o.tools, 'tools', (x, f) => parseTool(r, x, f)),
    sourceArchive: {
      sha256: r.sha256(archive.sha256, 'sourceArchive.sha256'),
      size: r.integer(archive.size, 'sourceArchive.size', 0, Number.MAX_SAFE_INTEGER),
    },
    outputs,
    stamp: parseStamp(r, o.stamp),
    builder: {
      id: r.string(builder.id, 'builder.id'),
      waybill: r.string(builder.waybill, 'builder.waybill'),
    },
  };
}

/** True when the first bytes of `path` are a tar whose first member is a kit manifest. */
export async function looksLikeKit(path: string): Promise<boolean> {
  try {
    const index = await indexTarFile(path);
    return index.has(KIT_MANIFEST);
  } catch {
    return false;
  }
}
