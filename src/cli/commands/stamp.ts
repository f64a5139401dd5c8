/**
 * `waybill stamp ARTIFACT`: create the release record (and the SBOM, and native metadata where the
 * format has it), then print the `check` verdict. Exits 0 when the record was written, whatever the
 * verdict: refusing to ship is `check`'s exit code.
 */
import type { Command } from 'commander';
import type { SbomFormat } from '../../app/attachments.ts';
import { stampArtifact } from '../../app/stamp.ts';
import { renderText } from '../../policy/render-text.ts';
import { keyFileSignerFrom } from '../../sign/signer.ts';
import { parseWorkerCount } from '../../sources/walk-options.ts';
import { escapeForTerminal as esc } from '../../util/terminal-escape.ts';
import { addConfigOptions, addFormatOption, collect, loadSettings, policyLine, useColor } from '../common.ts';
import { errText, out, outText, parseFormat, toJson, warningLine } from '../output.ts';
import { createProgress } from '../progress.ts';

const FORMATS = ['text', 'json'] as const;

interface StampFlags {
  config?: string;
  policy?: string;
  format?: string;
  name?: string;
  version?: string;
  arch?: string;
  team?: string;
  contact?: string;
  bugTracker?: string;
  docsUrl?: string;
  license?: string;
  disclaimer?: string;
  support?: string;
  source?: string;
  allowedSigners?: string;
  sshRevocationFile?: string;
  trustedGpgKey?: string[];
  sbom?: string;
  forceSbom?: boolean;
  sbomFormat?: string;
  built?: string;
  platform?: string;
  quiet?: boolean;
  workers?: string;
  key?: string;
}

export function registerStamp(program: Command): void {
  const command = program
    .command('stamp')
    .description('create the release record for an artifact and write its facts into native metadata')
    .argument(
      '<artifact>',
      'artifact reference (file:, dir:, oci:, oci-archive:, docker-archive:, or a path)',
    )
    .option('--name <name>', "name to record (default: the artifact's own, else name in waybill.yaml)")
    .option('--version <version>', "version to record (default: the artifact's own, or an image's tag)")
    .option('--arch <arch>', 'architecture, for artifacts whose format does not say (plain files)')
    .option('--team <name>', 'the team that produced the artifact')
    .option('--contact <contact>', "the team's contact (email or URL)")
    .option('--bug-tracker <url>', 'where to report bugs')
    .option('--docs-url <url>', 'documentation')
    .option('--license <spdx>', 'SPDX license expression (default Apache-2.0)')
    .option('--disclaimer <text>', 'warranty disclaimer (default: derived from the license)')
    .option('--support <text>', 'support statement (default: support is offered by the team only)')
    .option('--source <dir>', 'git checkout the artifact was built from (HEAD must be at a signed tag)')
    .option('--allowed-signers <file>', 'SSH allowed-signers file trusted for tag signatures')
    .option(
      '--ssh-revocation-file <file>',
      'revoked SSH signing keys (KRL or public keys; default: gpg.ssh.revocationFile of your global git config)',
    )
    .option('--trusted-gpg-key <fingerprint>', 'OpenPGP key trusted for tag signatures (repeatable)', collect)
    .option('--sbom <file>', 'use this CycloneDX or SPDX JSON SBOM instead of generating one')
    .option(
      '--force-sbom',
      'publish the --sbom file even if its subject is not this artifact (recorded in the record)',
    )
    .option(
      '--sbom-format <format>',
      'format of the generated SBOM: cyclonedx-json, spdx-json',
      'cyclonedx-json',
    )
    .option('--built <date>', 'build date, RFC 3339 (default: image created, SOURCE_DATE_EPOCH, commit date)')
    .option('--platform <os/arch[/variant]>', 'which image of a multi-platform index (default: all)')
    .option(
      '--workers <n>',
      'worker threads for image layers; 0 or 1 = in-process (default: $WAYBILL_WORKERS, else threads with >= 2 cores and >= 2 layers of >= 16 MiB compressed or 64 MiB uncompressed)',
    )
    .option(
      '--key <file>',
      'sign the record and the SBOM attestation with this private key (default: $WAYBILL_KEY; unsigned without)',
    )
    .option('-q, --quiet', 'no progress bar');
  addConfigOptions(command);
  addFormatOption(command, FORMATS);
  command.action(async (ref: string, opts: StampFlags) => {
    const format = parseFormat(opts.format, FORMATS);
    const workers = opts.workers === undefined ? undefined : parseWorkerCount(opts.workers, '--workers');
    const sbomFormat = parseFormat(opts.sbomFormat, ['cyclonedx-json', 'spdx-json']) as SbomFormat;
    const settings = await loadSettings(opts, {
      name: opts.name,
      version: opts.version,
      architecture: opts.arch,
      team: opts.team,
      contact: opts.contact,
      bugTracker: opts.bugTracker,
      docsUrl: opts.docsUrl,
      license: opts.license,
      disclaimer: opts.disclaimer,
      support: opts.support,
      source: opts.source,
      allowedSigners: opts.allowedSigners,
      sshRevocationFile: opts.sshRevocationFile,
      trustedGpgKey: opts.trustedGpgKey,
      sbom: opts.sbom,
    });
    // Read (and decrypted) before any work: a wrong password must not leave a half-done stamp.
    const signer = await keyFileSignerFrom(opts.key, process.env);
    const progress = createProgress('stamping', { quiet: opts.quiet });
    const result = await stampArtifact(ref, {
      ...(signer ? { signer } : {}),
      settings,
      platform: opts.platform,
      built: opts.built,
      sbomFormat,
      workers,
      forceSbom: opts.forceSbom,
      onProgress: (done, total) => progress.update(done, total),
    }).finally(() => progress.done());
    if (!opts.quiet) for (const w of result.warnings) errText(warningLine(w));
    if (format === 'json') {
      await out(
        toJson({
          artifact: result.artifact.ref,
          digest: result.artifact.digest,
          previousDigest: result.previousDigest ?? null,
          nativeFields: result.nativeFields,
          record: result.recordLocation,
          sbom: { location: result.sbomLocation, components: result.components },
          signed: result.bundles ?? null,
          check: result.report,
          warnings: result.warnings,
        }),
      );
      return;
    }
    const lines = [
      `stamped ${esc(result.artifact.ref)}`,
      result.previousDigest
        ? `  digest  ${esc(result.previousDigest)} → ${esc(result.artifact.digest)}`
        : `  digest  ${esc(result.artifact.digest)}`,
      ...(result.nativeFields.length > 0 ? [`  wrote   ${result.nativeFields.map(esc).join(', ')}`] : []),
      `  record  ${esc(result.recordLocation)}`,
      `  sbom    ${esc(result.sbomLocation)} (${result.components} components)`,
      ...(result.bundles
        ? [
            `  signed  ${esc(result.bundles.record)}, ${esc(result.bundles.sbom)} (${esc(signer!.description)})`,
          ]
        : []),
      '',
    ];
    errText(policyLine(settings.policy));
    const color = useColor();
    await outText(lines.join('\n') + renderText(result.report, { color }), { color });
  });
}
