/**
 * `waybill build`: build the release from the signed tag, stamp its outputs, and write the SLSA
 * provenance and the rebuild kit next to them. Exit 0 built; 1 refused (the tag does not verify) or
 * failed (the recipe failed, hung, wrote outside its directory, or an output is missing); 2 bad input.
 */
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { SbomFormat } from '../../app/attachments.ts';
import { findConfig } from '../../config/load.ts';
import { EXIT_FAILED, EXIT_OK, WaybillError } from '../../errors.ts';
import {
  type BuildResult,
  type BuildStep,
  buildRelease,
  type PublishedOutput,
} from '../../provenance/build/build.ts';
import { describeOutsideWriteCheck } from '../../provenance/build/isolation.ts';
import { keyFileSignerFrom, type Signer } from '../../sign/signer.ts';
import { escapeForTerminal } from '../../util/terminal-escape.ts';
import { addConfigOptions, addFormatOption, loadProject } from '../common.ts';
import { errText, out, outText, parseFormat, toJson } from '../output.ts';

const FORMATS = ['text', 'json'] as const;

interface BuildFlags {
  tag?: string;
  out?: string;
  key?: string;
  source?: string;
  allowedSigners?: string;
  sshRevocationFile?: string;
  trustedGpgKey?: string[];
  version?: string;
  builderId?: string;
  sbomFormat?: string;
  keepBuildDir?: boolean;
  quiet?: boolean;
  config?: string;
  policy?: string;
  format?: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--key FILE`, else `WAYBILL_KEY`: loaded before anything is built, so a bad key fails first. */
export function signerFromFlags(key: string | undefined): Promise<Signer | undefined> {
  return keyFileSignerFrom(key, process.env);
}

/** One line per step on a terminal (stderr), nothing otherwise. */
export function stepReporter(quiet: boolean | undefined): (step: BuildStep) => void {
  if (quiet || !process.stderr.isTTY) return () => undefined;
  return (s) => {
    const line = describeStep(s);
    if (line) errText(`waybill: ${line}\n`);
  };
}

function describeStep(s: BuildStep): string {
  switch (s.step) {
    case 'verify-tag':
      return s.tag ? `verifying tag ${escapeForTerminal(s.tag)}` : 'verifying the tag at HEAD';
    case 'export':
      return `exporting the tree of ${s.commit.slice(0, 12)}`;
    case 'command':
      return `[${s.index + 1}/${s.total}] ${escapeForTerminal(s.command)}`;
    case 'outputs':
      return 'collecting outputs';
    case 'stamp':
      return `stamping ${escapeForTerminal(s.output)}`;
    case 'kit':
      return 'packing the rebuild kit';
    case 'provenance':
      return 'writing provenance';
  }
}

/** ` (signed: BUNDLE)` when the statement was signed. */
function signedBy(bundle: string | undefined): string {
  return bundle ? ` (signed: ${escapeForTerminal(bundle)})` : '';
}

/** The SBOM as a path beside the output; the record names it relative to the file (or as a blob). */
function sbomShown(o: PublishedOutput): string {
  return o.kind === 'file' && !o.sbom.includes(':') ? join(dirname(o.path), o.sbom) : o.sbom;
}

function renderBuild(result: BuildResult): string {
  if (!result.ok) {
    const lines = [`build refused: ${escapeForTerminal(result.reason)}`];
    if (result.log) lines.push(`  log  ${escapeForTerminal(result.log)}`);
    if (result.outsideWriteCheck)
      lines.push(`  outside writes checked by ${describeOutsideWriteCheck(result.outsideWriteCheck)}`);
    for (const path of result.outsideWrites ?? [])
      lines.push(`  written outside the build directory: ${escapeForTerminal(path)}`);
    return `${lines.join('\n')}\n`;
  }
  const lines = [
    `built ${escapeForTerminal(result.name)} ${escapeForTerminal(result.version)} from tag ${escapeForTerminal(result.source.tag ?? '')} (${result.source.commit?.slice(0, 12)})`,
    `  ${escapeForTerminal(result.source.signature.reason)}`,
  ];
  for (const o of result.outputs) {
    lines.push(
      `  output      ${escapeForTerminal(o.path)}`,
      `    sha256    ${o.publishedSha256}${o.builtSha256 !== o.publishedSha256 ? ` (built ${o.builtSha256}, then stamped)` : ''}`,
      `    record    ${escapeForTerminal(o.record)}${signedBy(o.bundles?.record)}`,
      `    sbom      ${escapeForTerminal(sbomShown(o))}${signedBy(o.bundles?.sbom)}`,
      `    provenance ${escapeForTerminal(o.provenance.path)}${signedBy(o.provenance.bundle)}`,
      `    check     ${
        o.check.passed
          ? 'all rules pass'
          : `fails: ${o.check.rules
              .filter((r) => r.status === 'fail')
              .map((r) => r.id)
              .join(', ')}`
      }`,
    );
  }
  lines.push(
    `  rebuild kit ${escapeForTerminal(result.kit.path)}`,
    `    sha256    ${result.kit.sha256}`,
    `  log         ${escapeForTerminal(result.log)}`,
    `  outside writes checked by ${describeOutsideWriteCheck(result.outsideWriteCheck)}`,
  );
  if (result.leftovers.length > 0) {
    lines.push(
      `  note: command ${result.leftovers.map((i) => i + 1).join(', ')} left processes running; they were killed`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function registerBuild(program: Command, setExitCode: (code: number) => void): void {
  const command = program
    .command('build')
    .description(
      'build the release from its signed tag; stamp the outputs, write SLSA provenance and a rebuild kit',
    )
    .option('--tag <tag>', 'the tag to build (HEAD must be at it; default: the tag at HEAD)')
    .option('--out <dir>', 'where outputs, statements, the kit and the log go', 'dist')
    .option('--key <file>', 'sign the provenance with this key (default: $WAYBILL_KEY)')
    .option(
      '--source <dir>',
      'the git checkout (default: source.dir of waybill.yaml, else the current directory)',
    )
    .option('--allowed-signers <file>', 'SSH allowed-signers file trusted for tag signatures')
    .option(
      '--ssh-revocation-file <file>',
      'revoked SSH signing keys (KRL or public keys; default: source.sshRevocationFile, else gpg.ssh.revocationFile of your global git config)',
    )
    .option('--trusted-gpg-key <fingerprint>', 'OpenPGP key trusted for tag signatures (repeatable)', collect)
    .option('--version <version>', 'release version (default: the tag without a leading v)')
    .option(
      '--builder-id <uri>',
      'provenance builder.id (default: build.builderId, else https://waybill.dev/builder/local)',
    )
    .option(
      '--sbom-format <format>',
      'format of the generated SBOMs: cyclonedx-json, spdx-json',
      'cyclonedx-json',
    )
    .option('--keep-build-dir', 'keep the private build directory (to debug a recipe)')
    .option('-q, --quiet', 'no progress lines');
  addConfigOptions(command);
  addFormatOption(command, FORMATS);
  command.action(async (opts: BuildFlags) => {
    const format = parseFormat(opts.format, FORMATS);
    const sbomFormat = parseFormat(opts.sbomFormat, ['cyclonedx-json', 'spdx-json']) as SbomFormat;
    if (opts.builderId !== undefined && !/^[a-z][a-z0-9+.-]*:\S+$/i.test(opts.builderId)) {
      throw new WaybillError('USAGE', '--builder-id', 'must be a URI');
    }
    const signer = await signerFromFlags(opts.key);
    const config = opts.config ?? (await findConfig(opts.source ?? process.cwd()));
    if (!config)
      throw new WaybillError(
        'CONFIG',
        opts.source ?? '.',
        'no waybill.yaml found: build needs its build section',
      );
    const { settings, config: parsed } = await loadProject(
      { config, policy: opts.policy },
      {
        source: opts.source,
        allowedSigners: opts.allowedSigners,
        sshRevocationFile: opts.sshRevocationFile,
        trustedGpgKey: opts.trustedGpgKey,
      },
    );
    const result = await buildRelease({
      checkout: resolve(settings.sourceDir ?? process.cwd()),
      tag: opts.tag,
      outDir: opts.out ?? 'dist',
      trust: {
        allowedSignersFile: settings.allowedSigners ?? undefined,
        // As stamp --source does: the flag, else source.sshRevocationFile; neither, the global git config.
        sshRevocationFile: settings.sshRevocationFile ?? undefined,
        trustedGpgKeys: settings.trustedGpgKeys,
      },
      settings,
      configFile: config,
      build: parsed?.build,
      version: opts.version,
      builderId: opts.builderId,
      sbomFormat,
      signer,
      keepBuildDir: opts.keepBuildDir,
      onStep: stepReporter(opts.quiet || format === 'json'),
    });
    if (format === 'json') await out(toJson(result));
    else if (result.ok) await outText(renderBuild(result), { color: false });
    else errText(`waybill: ${renderBuild(result)}`);
    setExitCode(result.ok ? EXIT_OK : EXIT_FAILED);
  });
}
