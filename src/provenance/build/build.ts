/**
 * `waybill build`: make a release's outputs from a signed tag, and say how.
 *
 *   1. verify the tag exactly as `stamp --source` does; an unverified tag is never built;
 *   2. export the tagged tree from git's raw objects into a deterministic source archive and unpack
 *      it into a fresh private directory (never the working tree);
 *   3. run the recipe from waybill.yaml *as committed at the tag* there, with a scrubbed environment,
 *      SOURCE_DATE_EPOCH = the commit time, TZ=UTC, LC_ALL=C, umask 022, under a deadline, watching
 *      for writes outside the build directory;
 *   4. copy each declared output into the output folder and stamp it (record, SBOM, native metadata);
 *   5. pack the rebuild kit and write SLSA provenance v1 next to every output.
 *
 * A build that does not happen for a reason about the release (the tag does not verify, the recipe
 * fails, hangs or writes outside its directory, an output is missing) is a `BuildRefusal`: the
 * result says why and nothing is recorded as good. Unusable input (no build section, a config that is
 * not the committed one, a missing tool) throws a WaybillError.
 */
import { lstat, mkdir, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve, sep } from 'node:path';
import type { SbomFormat } from '../../app/attachments.ts';
import { stampArtifact } from '../../app/stamp.ts';
import type { Settings } from '../../config/merge.ts';
import type { BuildConfig } from '../../config/schema.ts';
import { WaybillError } from '../../errors.ts';
import type { CheckReport } from '../../policy/types.ts';
import type { SourceFact } from '../../record/types.ts';
import type { Signer } from '../../sign/signer.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { sha256File, sha256Hex } from '../../util/digest.ts';
import { toolVersion } from '../../version.ts';
import { type GitRunner, gitOk, gitRunner } from '../git-exec.ts';
import { type TrustPolicy, verifySourceTag } from '../git-tag.ts';
import { type StoredStatement, storeStatement } from '../statement-store.ts';
import { displayBytes } from '../tag-object.ts';
import { worktreeChanges } from '../worktree-changes.ts';
import { recipeEnvironment } from './environment.ts';
import { extractSourceArchive } from './extract.ts';
import type { OutsideWriteCheck } from './isolation.ts';
import { type KitManifest, type KitOutput, kitFileName, writeKit } from './kit.ts';
import { outputDigest } from './output-digest.ts';
import { matchOutputs, type OutputMatch } from './output-glob.ts';
import { publishedName, publishOutput } from './publish.ts';
import { type BuildRecipe, DEFAULT_TIMEOUT_SECONDS } from './recipe.ts';
import { describeRecipeFailure, type RecipeFailure } from './run-recipe.ts';
import { makeScratch, runWatched, SNAPSHOT_ONLY_ENV } from './scratch.ts';
import { buildProvenance, checkSlsaProvenance, DEFAULT_BUILDER_ID, type SlsaProvenance } from './slsa.ts';
import { exportSourceArchive, type SourceArchive } from './source-archive.ts';
import { recordTools, type ToolRecord } from './tools.ts';

export type BuildStep =
  | { step: 'verify-tag'; tag: string | undefined }
  | { step: 'export'; commit: string }
  | { step: 'command'; index: number; total: number; command: string }
  | { step: 'outputs' }
  | { step: 'stamp'; output: string }
  | { step: 'kit'; path: string }
  | { step: 'provenance' };

export interface BuildOptions {
  /** The git checkout (HEAD at the tag, clean). */
  checkout: string;
  /** The tag to build; default the highest tag at HEAD. */
  tag?: string;
  outDir: string;
  trust: TrustPolicy;
  /** Project settings (from waybill.yaml and flags): the record's facts. */
  settings: Settings;
  /** The waybill.yaml in use: it must be the copy committed at the tag. */
  configFile: string;
  build: BuildConfig | undefined;
  /** The release version; default the tag without a leading `v`. */
  version?: string;
  builderId?: string;
  sbomFormat?: SbomFormat;
  signer?: Signer;
  /** The builder's environment: PATH and the allow-listed variables come from it. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where the private build directory is made. Default the system temp directory. */
  tmpDir?: string;
  /** Keep the build directory (for debugging a recipe); its path is in the result. */
  keepBuildDir?: boolean;
  onStep?: (step: BuildStep) => void;
  /** Clock for start/finish times (tests). */
  now?: () => Date;
}

export interface PublishedOutput {
  name: string;
  kind: 'file' | 'oci-layout';
  /** Where it was published. */
  path: string;
  /** Path inside the build directory. */
  buildPath: string;
  builtSha256: string;
  publishedSha256: string;
  record: string;
  sbom: string;
  /** The record and SBOM attestation bundles, when a signer was given. */
  bundles?: { record: string; sbom: string };
  provenance: StoredStatement;
  check: CheckReport;
}

export interface BuildSuccess {
  ok: true;
  source: SourceFact;
  name: string;
  version: string;
  outputs: PublishedOutput[];
  kit: { path: string; sha256: string; size: number };
  log: string;
  sourceArchive: { sha256: string; size: number; entries: number };
  tools: ToolRecord[];
  provenance: SlsaProvenance;
  leftovers: number[];
  /** How writes outside the build directory were checked: a private mount namespace, or a snapshot. */
  outsideWriteCheck: OutsideWriteCheck;
  buildDir?: string;
}

export interface BuildRefusal {
  ok: false;
  stage: 'tag' | 'recipe' | 'outside-writes' | 'outputs';
  /** One line: what failed. */
  reason: string;
  source: SourceFact;
  /** The build log, when the recipe ran. */
  log?: string;
  outsideWrites?: string[];
  /** When the recipe ran: how writes outside the build directory were checked. */
  outsideWriteCheck?: OutsideWriteCheck;
  recipeFailure?: RecipeFailure;
  buildDir?: string;
}

export type BuildResult = BuildSuccess | BuildRefusal;

/** `v1.2.3` → `1.2.3`; other tags are the version as they are. */
export function versionFromTag(tag: string): string {
  return /^v\d/.test(tag) ? tag.slice(1) : tag;
}

/** The recipe with defaults applied; a missing or empty section is a CONFIG error. */
export function recipeFrom(build: BuildConfig | undefined, configFile: string): BuildRecipe {
  if (!build)
    throw new WaybillError(
      'CONFIG',
      configFile,
      'has no build section: nothing to build (see docs/build.md)',
    );
  if (build.commands.length === 0) throw new WaybillError('CONFIG', configFile, 'build.commands is empty');
  if (build.outputs.length === 0) throw new WaybillError('CONFIG', configFile, 'build.outputs is empty');
  return {
    commands: [...build.commands],
    outputs: [...build.outputs],
    env: [...(build.env ?? [])],
    timeout: build.timeout ?? DEFAULT_TIMEOUT_SECONDS,
    tools: [...(build.tools ?? [])],
  };
}

function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep);
}

/** The repository root of the checkout, and where the config file sits in its tree. */
async function locateConfig(git: GitRunner, configFile: string): Promise<{ root: string; inTree: string }> {
  // Both through realpath: git prints the top level with symlinks resolved (/tmp → /private/tmp).
  const root = await realpath((await gitOk(git, ['rev-parse', '--show-toplevel'])).toString('utf8').trim());
  const file = await realpath(configFile).catch(() => resolve(configFile));
  if (!isInside(root, file)) {
    throw new WaybillError(
      'CONFIG',
      configFile,
      `is outside the repository ${root}: build reads its recipe from waybill.yaml as committed at the tag`,
    );
  }
  return { root, inTree: relative(root, file).split(sep).join('/') };
}

/** The committed copy must be the one in use: the recipe that runs is the one the tag signs. */
async function requireCommittedConfig(
  srcDir: string,
  inTree: string,
  configFile: string,
  tag: string,
): Promise<Buffer> {
  const committedPath = join(srcDir, ...inTree.split('/'));
  const info = await lstat(committedPath).catch(() => undefined);
  if (!info?.isFile()) {
    throw new WaybillError(
      'CONFIG',
      configFile,
      `is not committed at tag ${tag} (${inTree} is not a file in the tagged tree)`,
    );
  }
  const committed = await readFile(committedPath);
  const inUse = await readFile(configFile);
  if (!committed.equals(inUse)) {
    throw new WaybillError(
      'CONFIG',
      configFile,
      `differs from ${inTree} as committed at tag ${tag}; commit it and tag again`,
    );
  }
  return committed;
}

export async function buildRelease(options: BuildOptions): Promise<BuildResult> {
  const env = options.env ?? process.env;
  const recipe = recipeFrom(options.build, options.configFile);
  const step = options.onStep ?? (() => undefined);

  step({ step: 'verify-tag', tag: options.tag });
  const source = await verifySourceTag(options.checkout, options.trust, { tag: options.tag });
  if (!source.signature.verified || source.tag === null || source.commit === null) {
    return { ok: false, stage: 'tag', reason: `tag not verified: ${source.signature.reason}`, source };
  }
  const tag = source.tag;
  const commit = source.commit;
  const git = gitRunner(resolve(options.checkout));
  const { root: repoRoot, inTree: configInTree } = await locateConfig(git, options.configFile);
  const repo = gitRunner(repoRoot);
  const version = options.version ?? versionFromTag(tag);
  const name = options.settings.name ?? basename(repoRoot);
  const outDir = resolve(options.outDir);
  await mkdir(outDir, { recursive: true });

  const scratch = await makeScratch(options.tmpDir ?? tmpdir());
  try {
    step({ step: 'export', commit });
    const archive = await exportSourceArchive(repo, commit, scratch.archive);
    await extractSourceArchive(scratch.archive, scratch.src);
    const config = await requireCommittedConfig(scratch.src, configInTree, options.configFile, tag);

    const environment = recipeEnvironment(recipe, env, {
      home: scratch.home,
      tmp: scratch.tmp,
      sourceDateEpoch: archive.commitTime,
    });
    const tools = await recordTools(recipe.tools, environment.run);
    const missing = tools.find((t) => t.path === null);
    if (missing)
      throw new WaybillError('NOT_FOUND', `build.tools: ${missing.spec}`, `${missing.name} is not on PATH`);

    const { run, outsideWrites, outsideWriteCheck, startedOn, finishedOn } = await runWatched({
      scratch,
      commands: recipe.commands,
      timeoutSeconds: recipe.timeout,
      env: environment.run,
      realHome: env.HOME,
      snapshotOnly: env[SNAPSHOT_ONLY_ENV] === '1',
      places: [{ dir: outDir }, { dir: repoRoot }, { dir: join(repoRoot, '.git') }],
      onCommand: (index, command) => step({ step: 'command', index, total: recipe.commands.length, command }),
      // The tag check found the checkout identical to the commit, by content: anything that differs
      // now was written by the recipe. (Not `git status`: it runs the repository's clean filters.)
      afterRun: async () =>
        (await worktreeChanges(repo, commit, { openRunner: (dir) => gitRunner(dir) })).map((p) =>
          join(repoRoot, displayBytes(p)),
        ),
    });

    const logPath = join(outDir, `${kitFileName(name, version).replace(/\.rebuild\.tar$/, '')}.build.log`);
    await writeFileAtomic(logPath, run.log);
    const refuse = (
      stage: BuildRefusal['stage'],
      reason: string,
      extra: Partial<BuildRefusal> = {},
    ): BuildRefusal => ({
      ok: false,
      stage,
      reason,
      source,
      log: logPath,
      outsideWriteCheck,
      ...extra,
      ...(options.keepBuildDir ? { buildDir: scratch.root } : {}),
    });
    if (run.failure || outsideWrites.length > 0) {
      const reasons = [
        ...(run.failure ? [`recipe failed: ${describeRecipeFailure(run.failure)}`] : []),
        ...(outsideWrites.length > 0
          ? [`recipe wrote outside its build directory: ${summarize(outsideWrites)}`]
          : []),
      ];
      return refuse(run.failure ? 'recipe' : 'outside-writes', reasons.join('; '), {
        ...(outsideWrites.length > 0 ? { outsideWrites } : {}),
        ...(run.failure ? { recipeFailure: run.failure } : {}),
      });
    }
    // The recipe could write to the build root: the archive packed into the kit must be the one
    // exported, byte for byte (the watch above sees a change too; this does not depend on it).
    if ((await sha256File(scratch.archive)) !== archive.digest) {
      return refuse('outside-writes', 'the source archive changed while the recipe ran');
    }

    step({ step: 'outputs' });
    let matches: OutputMatch[];
    try {
      matches = await matchOutputs(scratch.src, recipe.outputs);
      const seen = new Map<string, string>();
      for (const m of matches) {
        const other = seen.get(publishedName(m.path));
        if (other)
          throw new WaybillError(
            'SOURCE',
            m.path,
            `has the same file name as ${other}; outputs are published side by side`,
          );
        seen.set(publishedName(m.path), m.path);
      }
    } catch (e) {
      if (e instanceof WaybillError && e.code === 'SOURCE') {
        return refuse('outputs', e.message);
      }
      throw e;
    }

    const published = await publishAll(matches, scratch.src, outDir, options, source, version, archive, step);
    const logSha = sha256Hex(run.log);
    const kitPath = join(outDir, kitFileName(name, version));
    step({ step: 'kit', path: kitPath });
    const manifest: KitManifest = {
      kitType: 'https://waybill.dev/rebuild-kit/v1',
      name,
      version,
      repository: source.repository ?? repoRoot,
      tag,
      commit,
      tagObject: source.tagObject,
      tree: archive.tree,
      configPath: configInTree,
      recipe,
      environment: environment.recorded,
      tools,
      sourceArchive: { sha256: archive.digest.slice(7), size: archive.size },
      outputs: published.map((p) => p.kit),
      stamp: {
        name: options.settings.name,
        version,
        architecture: options.settings.architecture,
        team: options.settings.team,
        contact: options.settings.contact,
        bugTracker: options.settings.bugTracker,
        docsUrl: options.settings.docsUrl,
        license: options.settings.license,
        disclaimer: options.settings.disclaimer,
        support: options.settings.support,
        sbomFormat: options.sbomFormat ?? 'cyclonedx-json',
        built: builtDate(archive),
        source,
      },
      builder: { id: builderIdOf(options), waybill: toolVersion() },
    };
    const kit = await writeKit(kitPath, manifest, config, scratch.archive, archive.commitTime);

    step({ step: 'provenance' });
    const provenance = buildProvenance({
      subjects: published.map((p) => ({ name: p.kit.name, sha256: p.kit.published })),
      repository: manifest.repository,
      tag,
      commit,
      tagObject: source.tagObject,
      configPath: configInTree,
      recipe,
      environment: environment.recorded,
      sourceArchive: {
        name: `${name}-${version}.source.tar`,
        sha256: manifest.sourceArchive.sha256,
        size: archive.size,
      },
      tools,
      builderId: manifest.builder.id,
      startedOn,
      finishedOn,
      byproducts: [
        { name: basename(logPath), sha256: logSha, mediaType: 'text/plain' },
        { name: basename(kitPath), sha256: kit.sha256, mediaType: 'application/x-tar' },
      ],
    });
    const issue = checkSlsaProvenance(provenance);
    if (issue)
      throw new Error(`internal error: provenance is not valid SLSA v1: ${issue.pointer} ${issue.reason}`);
    const outputs: PublishedOutput[] = [];
    for (const p of published) {
      const stored = await storeStatement(
        { path: p.output.path, kind: p.output.kind, attach: true },
        'provenance',
        provenance,
        options.signer,
      );
      outputs.push({ ...p.output, provenance: stored });
    }
    return {
      ok: true,
      source,
      name,
      version,
      outputs,
      kit: { path: kitPath, sha256: kit.sha256, size: kit.size },
      log: logPath,
      sourceArchive: { sha256: manifest.sourceArchive.sha256, size: archive.size, entries: archive.entries },
      tools,
      provenance,
      leftovers: run.leftovers,
      outsideWriteCheck,
      ...(options.keepBuildDir ? { buildDir: scratch.root } : {}),
    };
  } finally {
    if (!options.keepBuildDir) await rm(scratch.root, { recursive: true, force: true });
  }
}

function builderIdOf(options: BuildOptions): string {
  return options.builderId ?? options.build?.builderId ?? DEFAULT_BUILDER_ID;
}

function builtDate(archive: SourceArchive): string {
  return new Date(archive.commitTime * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

function summarize(paths: readonly string[]): string {
  const shown = paths.slice(0, 5).join(', ');
  return paths.length > 5 ? `${shown} (+${paths.length - 5} more)` : shown;
}

interface PublishedPart {
  output: Omit<PublishedOutput, 'provenance'>;
  kit: KitOutput;
}

async function publishAll(
  matches: readonly OutputMatch[],
  buildDir: string,
  outDir: string,
  options: BuildOptions,
  source: SourceFact,
  version: string,
  archive: SourceArchive,
  step: (s: BuildStep) => void,
): Promise<PublishedPart[]> {
  const parts: PublishedPart[] = [];
  for (const match of matches) {
    const buildPath = join(buildDir, ...match.path.split('/'));
    const built = await outputDigest(buildPath, match.kind);
    const name = publishedName(match.path);
    const target = await publishOutput(buildPath, join(outDir, name), match.kind);
    step({ step: 'stamp', output: name });
    const stamped = await stampArtifact(match.kind === 'oci-layout' ? `oci:${target}` : target, {
      // The tag's version only fills in for outputs that do not carry one (a package keeps its own).
      settings: {
        ...options.settings,
        version,
        versionFrom: options.version === undefined ? 'default' : 'flag',
        sourceDir: null,
        sbom: null,
      },
      source,
      built: builtDate(archive),
      sbomFormat: options.sbomFormat,
      now: (options.now ?? (() => new Date()))(),
      // stamp signs the record and the SBOM attestation inside its transaction.
      ...(options.signer ? { signer: options.signer } : {}),
    });
    // A file's subject is its own bytes (what sha256sum says), even when the record binds to an image
    // inside it (oci-archive); a layout's is its image manifest, as for the record.
    const publishedSha = await outputDigest(target, match.kind);
    parts.push({
      output: {
        name,
        kind: match.kind,
        path: target,
        buildPath: match.path,
        builtSha256: built,
        publishedSha256: publishedSha,
        record: stamped.recordLocation,
        sbom: stamped.sbomLocation,
        ...(stamped.bundles ? { bundles: stamped.bundles } : {}),
        check: stamped.report,
      },
      kit: { path: match.path, name, kind: match.kind, built, published: publishedSha },
    });
  }
  return parts;
}
