/**
 * SLSA provenance v1 (https://slsa.dev/spec/v1.0/provenance) for a `waybill build`: an in-toto
 * Statement v1 whose subjects are the published outputs and whose predicate says how they were made.
 *
 * buildType https://waybill.dev/build/v1 is documented in docs/build.md: externalParameters carry the
 * repository, the tag and the recipe (the only inputs a release team chooses); internalParameters the
 * environment waybill gave the recipe; resolvedDependencies the tagged commit, the exported source
 * archive and every declared tool; runDetails the builder id and the start and finish times.
 *
 * No JSON Schema is published for SLSA v1. `checkSlsaProvenance` checks what the normative CUE and
 * protobuf schemas (spec/schema/provenance.{cue,proto}) and the field tables in build-provenance.md
 * require: the REQUIRED fields, the field types, ResourceDescriptors and the `<YYYY>-<MM>-<DD>T<hh>:<mm>:<ss>Z` timestamps.
 */
import { checkResourceDescriptor, checkStatement, type StatementIssue } from '../../record/intoto.ts';
import { STATEMENT_TYPE } from '../../record/types.ts';
import { toolVersion } from '../../version.ts';
import type { BuildRecipe } from './recipe.ts';
import type { ToolRecord } from './tools.ts';

export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const WAYBILL_BUILD_TYPE = 'https://waybill.dev/build/v1';
export const DEFAULT_BUILDER_ID = 'https://waybill.dev/builder/local';
/** Annotation value naming the format of the exported source archive (docs/build.md). */
export const SOURCE_ARCHIVE_FORMAT = 'https://waybill.dev/source-archive/v1';

export interface ResourceDescriptorV1 {
  name?: string;
  uri?: string;
  digest?: Record<string, string>;
  mediaType?: string;
  annotations?: Record<string, unknown>;
}

export interface SlsaProvenance {
  _type: typeof STATEMENT_TYPE;
  subject: Array<{ name: string; digest: { sha256: string } }>;
  predicateType: typeof SLSA_PROVENANCE_V1;
  predicate: {
    buildDefinition: {
      buildType: string;
      externalParameters: Record<string, unknown>;
      internalParameters: Record<string, unknown>;
      resolvedDependencies: ResourceDescriptorV1[];
    };
    runDetails: {
      builder: { id: string; version: Record<string, string> };
      metadata: { startedOn: string; finishedOn: string };
      byproducts: ResourceDescriptorV1[];
    };
  };
}

export interface ProvenanceInput {
  subjects: ReadonlyArray<{ name: string; sha256: string }>;
  repository: string;
  tag: string;
  commit: string;
  tagObject: string | null;
  /** Path of waybill.yaml in the tagged tree (where the recipe came from). */
  configPath: string;
  recipe: BuildRecipe;
  /** What the recipe ran with, minus the per-run paths (HOME, TMPDIR, PATH). */
  environment: Readonly<Record<string, string>>;
  sourceArchive: { name: string; sha256: string; size: number };
  tools: readonly ToolRecord[];
  builderId: string;
  startedOn: Date;
  finishedOn: Date;
  byproducts: ReadonlyArray<{ name: string; sha256: string; mediaType?: string }>;
}

/** RFC 3339 in UTC to the second, the form the SLSA schema gives (`#Timestamp`). */
export function slsaTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `git+<repository>@refs/tags/<tag>`, the SPDX download-location form the SLSA examples use. */
export function gitSourceUri(repository: string, tag: string): string {
  return `git+${repository}@refs/tags/${tag}`;
}

export function buildProvenance(input: ProvenanceInput): SlsaProvenance {
  const source: ResourceDescriptorV1 = {
    uri: gitSourceUri(input.repository, input.tag),
    digest: { gitCommit: input.commit },
    ...(input.tagObject ? { annotations: { tagObject: input.tagObject } } : {}),
  };
  const archive: ResourceDescriptorV1 = {
    name: input.sourceArchive.name,
    digest: { sha256: input.sourceArchive.sha256 },
    mediaType: 'application/x-tar',
    annotations: { format: SOURCE_ARCHIVE_FORMAT, size: input.sourceArchive.size },
  };
  const tools: ResourceDescriptorV1[] = input.tools.map((t) => ({
    name: t.name,
    ...(t.path ? { uri: `file://${encodeURI(t.path)}` } : {}),
    ...(t.sha256 ? { digest: { sha256: t.sha256 } } : {}),
    annotations: { version: t.version, versionCommand: t.spec },
  }));
  return {
    _type: STATEMENT_TYPE,
    subject: [...input.subjects]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((s) => ({ name: s.name, digest: { sha256: s.sha256 } })),
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: WAYBILL_BUILD_TYPE,
        externalParameters: {
          repository: input.repository,
          ref: `refs/tags/${input.tag}`,
          tag: input.tag,
          config: input.configPath,
          recipe: {
            commands: input.recipe.commands,
            outputs: input.recipe.outputs,
            env: input.recipe.env,
            timeout: input.recipe.timeout,
            tools: input.recipe.tools,
          },
        },
        internalParameters: {
          environment: sortedRecord(input.environment),
          umask: '0022',
          shell: '/bin/sh',
        },
        resolvedDependencies: [source, archive, ...tools],
      },
      runDetails: {
        builder: { id: input.builderId, version: { waybill: toolVersion() } },
        metadata: { startedOn: slsaTimestamp(input.startedOn), finishedOn: slsaTimestamp(input.finishedOn) },
        byproducts: input.byproducts.map((b) => ({
          name: b.name,
          digest: { sha256: b.sha256 },
          ...(b.mediaType ? { mediaType: b.mediaType } : {}),
        })),
      },
    },
  };
}

function sortedRecord(record: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

// ---------------------------------------------------------------------------------------------
// Checking a statement against the SLSA v1 provenance schema.

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const URI = /^[a-zA-Z][a-zA-Z0-9+.-]*:\S*$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

type Check = (value: unknown, pointer: string) => StatementIssue | undefined;

const object: Check = (v, p) => (isObject(v) ? undefined : { pointer: p, reason: 'must be an object' });
const uri: Check = (v, p) =>
  typeof v === 'string' && URI.test(v) ? undefined : { pointer: p, reason: 'must be a URI' };
const timestamp: Check = (v, p) =>
  typeof v === 'string' && TIMESTAMP.test(v) && !Number.isNaN(Date.parse(v))
    ? undefined
    : { pointer: p, reason: 'must be an RFC 3339 timestamp in UTC (YYYY-MM-DDThh:mm:ssZ)' };
const string: Check = (v, p) =>
  typeof v === 'string' ? undefined : { pointer: p, reason: 'must be a string' };
const stringMap: Check = (v, p) => {
  if (!isObject(v)) return { pointer: p, reason: 'must be an object of strings' };
  for (const [k, x] of Object.entries(v))
    if (typeof x !== 'string') return { pointer: `${p}/${k}`, reason: 'must be a string' };
  return undefined;
};
const descriptors: Check = (v, p) => {
  if (!Array.isArray(v)) return { pointer: p, reason: 'must be an array of ResourceDescriptors' };
  for (const [i, rd] of v.entries()) {
    const issue = checkResourceDescriptor(rd, `${p}/${i}`);
    if (issue) return issue;
    const annotations = (rd as Record<string, unknown>).annotations;
    if (annotations !== undefined && !isObject(annotations)) {
      return { pointer: `${p}/${i}/annotations`, reason: 'must be an object' };
    }
  }
  return undefined;
};

/** [field, required, check] for one object of the predicate. */
type Fields = ReadonlyArray<readonly [string, boolean, Check]>;

function checkFields(value: unknown, pointer: string, fields: Fields): StatementIssue | undefined {
  if (!isObject(value)) return { pointer, reason: 'must be an object' };
  for (const [name, required, check] of fields) {
    const v = value[name];
    if (v === undefined) {
      if (required) return { pointer: `${pointer}/${name}`, reason: 'is required' };
      continue;
    }
    const issue = check(v, `${pointer}/${name}`);
    if (issue) return issue;
  }
  return undefined;
}

const nonEmpty: Check = (v, p) =>
  typeof v === 'string' && v !== '' ? undefined : { pointer: p, reason: 'must be a non-empty string' };

/** The first way `value` fails to be an in-toto Statement v1 carrying SLSA provenance v1, or undefined. */
export function checkSlsaProvenance(
  value: unknown,
  options: { strictUris?: boolean } = {},
): StatementIssue | undefined {
  const statement = checkStatement(value);
  if (statement) return statement;
  const s = value as Record<string, unknown>;
  if (s.predicateType !== SLSA_PROVENANCE_V1) {
    return { pointer: '/predicateType', reason: `must be ${SLSA_PROVENANCE_V1}` };
  }
  return checkSlsaPredicate(s.predicate, '/predicate', options);
}

/**
 * The predicate alone. buildType and builder.id are TypeURIs in the spec; `strictUris: false` accepts
 * any non-empty string there, as the in-toto reference implementation's validator does.
 */
export function checkSlsaPredicate(
  predicate: unknown,
  pointer = '',
  options: { strictUris?: boolean } = {},
): StatementIssue | undefined {
  const typeUri = options.strictUris === false ? nonEmpty : uri;
  return checkFields(predicate, pointer, [
    [
      'buildDefinition',
      true,
      (v, p) =>
        checkFields(v, p, [
          ['buildType', true, typeUri],
          ['externalParameters', true, object],
          ['internalParameters', false, object],
          ['resolvedDependencies', false, descriptors],
        ]),
    ],
    [
      'runDetails',
      true,
      (v, p) =>
        checkFields(v, p, [
          [
            'builder',
            true,
            (b, bp) =>
              checkFields(b, bp, [
                ['id', true, typeUri],
                ['version', false, stringMap],
                ['builderDependencies', false, descriptors],
              ]),
          ],
          [
            'metadata',
            false,
            (m, mp) =>
              checkFields(m, mp, [
                ['invocationId', false, string],
                ['startedOn', false, timestamp],
                ['finishedOn', false, timestamp],
              ]),
          ],
          ['byproducts', false, descriptors],
        ]),
    ],
  ]);
}
