/**
 * `waybill rebuild ARTIFACT|KIT`: make a release's outputs again from its rebuild kit and say whether
 * they come out bit for bit the same.
 *
 *   1. find the kit (given, or next to the artifact) and check its source archive against the digest
 *      it records: a kit that contradicts itself is refused before anything runs;
 *   2. the recipe comes from the kit, which the person rebuilding did not write: it runs only when
 *      they trust it (`trustRecipe`, or `approveRecipe` after being shown the commands);
 *   3. unpack the source in a fresh private directory and run the recipe with the recorded
 *      environment (the rebuilder's own PATH), under the recorded deadline, watching for outside writes;
 *   4. stamp each output as the build did (same settings, source fact and date) and compare with the
 *      published digest; where they differ, compare the files entry by entry (and with diffoscope);
 *   5. write the verdict, negative as well as positive.
 *
 * Exit meaning for the CLI: `reproduced` true → 0, false → 1; a thrown WaybillError → 2.
 */
import { createHash } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { stampArtifact } from '../../app/stamp.ts';
import { resolveSettings, type Settings } from '../../config/merge.ts';
import { WaybillError } from '../../errors.ts';
import type { Signer } from '../../sign/signer.ts';
import { writeStreamAtomic } from '../../util/atomic-write.ts';
import { sha256File } from '../../util/digest.ts';
import { rebuildEnvironment } from '../build/environment.ts';
import { extractSourceArchive } from '../build/extract.ts';
import type { OutsideWriteCheck } from '../build/isolation.ts';
import {
  KIT_SUFFIX,
  type KitManifest,
  type KitOutput,
  type KitStamp,
  type OpenedKit,
  openKitSource,
} from '../build/kit.ts';
import { outputDigest } from '../build/output-digest.ts';
import { publishOutput } from '../build/publish.ts';
import { describeRecipeFailure } from '../build/run-recipe.ts';
import { makeScratch, runWatched, type Scratch, SNAPSHOT_ONLY_ENV } from '../build/scratch.ts';
import { recordTools, type ToolRecord } from '../build/tools.ts';
import { compareOutputs } from '../compare/compare.ts';
import { runDiffoscope } from '../compare/diffoscope.ts';
import { type StoredStatement, statementPath, storeStatement } from '../statement-store.ts';
import { locateRebuildTarget, type RebuildTarget } from './locate.ts';
import {
  buildVerdict,
  type OutputVerdict,
  type RebuildVerdictStatement,
  type ToolVerdict,
} from './verdict.ts';

export type RebuildStep =
  | { step: 'kit'; path: string }
  | { step: 'verify-source' }
  | { step: 'command'; index: number; total: number; command: string }
  | { step: 'compare'; output: string }
  | { step: 'diffoscope'; output: string };

export interface RebuildOptions {
  /** An artifact (file, OCI layout directory, `oci:DIR`) or a rebuild kit. */
  input: string;
  /** Keep the rebuilt outputs, the log, diffoscope reports and the verdict here. */
  outDir?: string;
  /** The user trusts the kit's recipe to run on this machine. */
  trustRecipe?: boolean;
  /** Asked when `trustRecipe` is not set: show the recipe, return whether to run it. */
  approveRecipe?: (manifest: KitManifest) => Promise<boolean>;
  diffoscope?: boolean;
  signer?: Signer;
  env?: NodeJS.ProcessEnv;
  tmpDir?: string;
  maxDifferences?: number;
  onStep?: (step: RebuildStep) => void;
}

export interface RebuildResult {
  reproduced: boolean;
  reason: string;
  kit: { path: string; sha256: string };
  outputs: OutputVerdict[];
  tools: ToolVerdict[];
  recipeFailure: string | null;
  outsideWrites: string[];
  /** How writes outside the build directory were checked: a private mount namespace, or a snapshot. */
  outsideWriteCheck: OutsideWriteCheck;
  log: string | null;
  verdict: StoredStatement;
  statement: RebuildVerdictStatement;
  diffoscopeMissing: boolean;
}

async function sha256OfFile(path: string): Promise<string> {
  return (await sha256File(path)).slice('sha256:'.length);
}

/** Copies the kit's source archive into the scratch root, hashing it on the way; refuses a mismatch. */
async function copyVerifiedSource(kit: OpenedKit, scratch: Scratch): Promise<void> {
  const hash = createHash('sha256');
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const chunk of openKitSource(kit)) {
      hash.update(chunk as Buffer);
      yield chunk as Buffer;
    }
  }
  await writeStreamAtomic(scratch.archive, hashed());
  const actual = hash.digest('hex');
  if (actual !== kit.manifest.sourceArchive.sha256) {
    throw new WaybillError(
      'DIGEST_MISMATCH',
      kit.path,
      `source archive digest is sha256:${actual} but the kit records sha256:${kit.manifest.sourceArchive.sha256}; the kit was altered — nothing was run`,
    );
  }
}

/**
 * The settings the build stamped with, rebuilt from the kit. `build` takes the name from waybill.yaml
 * and the version from the tag: both only fill in for outputs that do not name themselves
 * (app/identity.ts), so the rebuild stamps the same way.
 */
function stampSettings(stamp: KitStamp): Settings {
  return {
    ...resolveSettings(undefined, {}),
    name: stamp.name,
    nameFrom: stamp.name === null ? null : 'config',
    version: stamp.version,
    versionFrom: 'default',
    architecture: stamp.architecture,
    team: stamp.team,
    contact: stamp.contact,
    bugTracker: stamp.bugTracker,
    docsUrl: stamp.docsUrl,
    license: stamp.license,
    disclaimer: stamp.disclaimer,
    support: stamp.support,
  };
}

function compareTools(expected: readonly ToolRecord[], actual: readonly ToolRecord[]): ToolVerdict[] {
  return expected.map((e) => {
    const a = actual.find((t) => t.spec === e.spec);
    const pick = (t: ToolRecord | undefined) => ({ version: t?.version ?? null, sha256: t?.sha256 ?? null });
    return {
      name: e.name,
      expected: pick(e),
      actual: pick(a),
      same: a !== undefined && a.sha256 === e.sha256 && a.version === e.version,
    };
  });
}

/** Where the verdict goes: next to the artifact, or next to the kit as NAME-VERSION.rebuild.json. */
function verdictPathFor(target: RebuildTarget, outDir: string | undefined): string {
  const beside = target.artifact
    ? statementPath(target.artifact.path, 'rebuild')
    : target.kit.path.replace(new RegExp(`${KIT_SUFFIX.replace(/\./g, '\\.')}$`), '.rebuild.json');
  return outDir ? join(outDir, basename(beside)) : beside;
}

interface Judged {
  verdict: OutputVerdict;
  rebuilt?: string;
  reference?: string;
}

async function judgeOutput(
  o: KitOutput,
  target: RebuildTarget,
  scratch: Scratch,
  workDir: string,
  stamp: KitStamp,
  maxDifferences: number | undefined,
): Promise<Judged> {
  const isArtifact = target.artifact?.output === o;
  const expected = isArtifact ? (target.artifact?.sha256 as string) : o.published;
  const referencePath = isArtifact ? target.artifact?.path : join(dirname(target.kit.path), o.name);
  const reference =
    referencePath && (await stat(referencePath).catch(() => undefined)) ? referencePath : undefined;
  const base = { name: o.name, kind: o.kind, expected: { sha256: expected } };
  const buildPath = join(scratch.src, ...o.path.split('/'));
  const info = await stat(buildPath).catch(() => undefined);
  if (!info || (o.kind === 'file') !== info.isFile()) {
    return {
      verdict: {
        ...base,
        actual: null,
        built: { expected: o.built, actual: null },
        reproduced: false,
        differences: [{ path: o.path, aspect: 'presence', expected: 'present', actual: 'absent' }],
        note: 'the recipe did not produce this output',
      },
    };
  }
  const built = await outputDigest(buildPath, o.kind);
  const rebuilt = await publishOutput(buildPath, join(workDir, o.name), o.kind);
  await stampArtifact(o.kind === 'oci-layout' ? `oci:${rebuilt}` : rebuilt, {
    settings: stampSettings(stamp),
    source: stamp.source,
    built: stamp.built,
    sbomFormat: stamp.sbomFormat,
  });
  const actual = await outputDigest(rebuilt, o.kind);
  const reproduced = actual === expected;
  const notes: string[] = [];
  if (isArtifact && expected !== o.published)
    notes.push(`the artifact is not the one the kit records (sha256:${o.published})`);
  if (built === o.built && !reproduced && o.published === actual)
    notes.push('the recipe reproduced the kit’s output; the artifact was changed after publication');
  else if (built === o.built && !reproduced)
    notes.push('the recipe’s output is identical; stamping it gave different bytes');
  let differences: OutputVerdict['differences'] = [];
  if (!reproduced) {
    if (reference) differences = await compareOutputs(reference, rebuilt, o.name, { maxDifferences });
    else notes.push('no published copy next to the kit to compare with: digests only');
  }
  return {
    verdict: {
      ...base,
      actual: { sha256: actual },
      built: { expected: o.built, actual: built },
      reproduced,
      differences,
      ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
    },
    rebuilt,
    reference,
  };
}

export async function rebuildRelease(options: RebuildOptions): Promise<RebuildResult> {
  const step = options.onStep ?? (() => undefined);
  const env = options.env ?? process.env;
  const target = await locateRebuildTarget(options.input);
  const { kit } = target;
  const manifest = kit.manifest;
  step({ step: 'kit', path: kit.path });
  const kitSha = await sha256OfFile(kit.path);
  const outDir = options.outDir ? resolve(options.outDir) : undefined;
  if (outDir) {
    // Rebuilt outputs carry the published names: in the published directory they would replace the
    // very files they are compared with.
    const published = [dirname(kit.path), ...(target.artifact ? [dirname(target.artifact.path)] : [])];
    if (published.includes(outDir)) {
      throw new WaybillError(
        'USAGE',
        '--out',
        `${outDir} holds the published artifacts; choose another directory`,
      );
    }
    await mkdir(outDir, { recursive: true });
  }

  const scratch = await makeScratch(options.tmpDir ?? tmpdir());
  try {
    step({ step: 'verify-source' });
    await copyVerifiedSource(kit, scratch);
    const approved =
      options.trustRecipe || (options.approveRecipe ? await options.approveRecipe(manifest) : false);
    if (!approved) {
      throw new WaybillError(
        'USAGE',
        kit.path,
        'the kit’s recipe runs commands on this machine: review them and pass --trust-recipe to run them',
      );
    }
    await extractSourceArchive(scratch.archive, scratch.src, `${kit.path}: source.tar`);
    const environment = rebuildEnvironment(manifest.environment, env, {
      home: scratch.home,
      tmp: scratch.tmp,
      sourceDateEpoch: Number(manifest.environment.SOURCE_DATE_EPOCH),
    });
    const tools = compareTools(manifest.tools, await recordTools(manifest.recipe.tools, environment.run));
    const workDir = outDir ?? join(scratch.root, 'out');
    await mkdir(workDir, { recursive: true });
    const { run, outsideWrites, outsideWriteCheck, startedOn, finishedOn } = await runWatched({
      scratch,
      commands: manifest.recipe.commands,
      timeoutSeconds: manifest.recipe.timeout,
      env: environment.run,
      realHome: env.HOME,
      snapshotOnly: env[SNAPSHOT_ONLY_ENV] === '1',
      places: [{ dir: dirname(kit.path) }, ...(outDir ? [{ dir: outDir }] : [])],
      onCommand: (index, command) =>
        step({ step: 'command', index, total: manifest.recipe.commands.length, command }),
    });
    const log = outDir ? join(outDir, basename(kit.path).replace(KIT_SUFFIX, '.rebuild.log')) : null;
    if (log) await writeStreamAtomic(log, [run.log]);

    const outputs: OutputVerdict[] = [];
    const recipeFailure = run.failure ? describeRecipeFailure(run.failure) : null;
    for (const o of manifest.outputs) {
      step({ step: 'compare', output: o.name });
      if (recipeFailure) {
        outputs.push({
          name: o.name,
          kind: o.kind,
          expected: { sha256: target.artifact?.output === o ? target.artifact.sha256 : o.published },
          actual: null,
          built: { expected: o.built, actual: null },
          reproduced: false,
          differences: [],
          note: 'not rebuilt: the recipe failed',
        });
        continue;
      }
      const judged = await judgeOutput(o, target, scratch, workDir, manifest.stamp, options.maxDifferences);
      if (options.diffoscope && !judged.verdict.reproduced && judged.reference && judged.rebuilt) {
        step({ step: 'diffoscope', output: o.name });
        const reportDir = outDir ?? dirname(verdictPathFor(target, outDir));
        const outcome = await runDiffoscope(
          judged.reference,
          judged.rebuilt,
          join(reportDir, `${o.name}.diffoscope.txt`),
          { env },
        );
        if ('report' in outcome && outcome.report) judged.verdict.diffoscope = outcome.report;
        if (outcome.status === 'missing')
          judged.verdict.note = [judged.verdict.note, 'diffoscope is not installed']
            .filter(Boolean)
            .join('; ');
        if (outcome.status === 'error')
          judged.verdict.note = [judged.verdict.note, `diffoscope failed: ${outcome.message}`]
            .filter(Boolean)
            .join('; ');
      }
      outputs.push(judged.verdict);
    }

    const failed = outputs.filter((o) => !o.reproduced);
    const reason = recipeFailure
      ? `the recipe failed: ${recipeFailure}`
      : outsideWrites.length > 0
        ? `the recipe wrote outside its build directory: ${outsideWrites.slice(0, 5).join(', ')}`
        : failed.length > 0
          ? `not reproduced: ${failed.map((o) => o.name).join(', ')}`
          : `every output reproduced bit for bit (${outputs.length})`;
    const reproduced = !recipeFailure && outsideWrites.length === 0 && failed.length === 0;
    const statement = buildVerdict(
      {
        reproduced,
        reason,
        kit: { name: basename(kit.path), digest: { sha256: kitSha } },
        source: {
          repository: manifest.repository,
          tag: manifest.tag,
          commit: manifest.commit,
          signature: manifest.stamp.source.signature,
          sourceArchive: { digest: { sha256: manifest.sourceArchive.sha256 } },
        },
        outputs,
        recipe: { failure: recipeFailure, outsideWrites, outsideWriteCheck },
        tools,
      },
      startedOn,
      finishedOn,
    );
    // The verdict is kept as files (statement and, signed, its bundle) beside the artifact or the kit
    // (or in --out): rebuilding never rewrites the artifact it judges.
    const verdict = await storeStatement(
      { path: target.artifact?.path ?? kit.path, kind: 'file' },
      'rebuild',
      statement,
      options.signer,
      verdictPathFor(target, outDir),
    );
    return {
      reproduced,
      reason,
      kit: { path: kit.path, sha256: kitSha },
      outputs,
      tools,
      recipeFailure,
      outsideWrites,
      outsideWriteCheck,
      log,
      verdict,
      statement,
      diffoscopeMissing: outputs.some((o) => o.note?.includes('diffoscope is not installed')),
    };
  } finally {
    await rm(scratch.root, { recursive: true, force: true });
  }
}
