/**
 * `waybill verify ARTIFACT`: judge every signed statement about an artifact with the consumer's own
 * trust, offline; re-verify the record's source tag from its evidence and run `check` by the
 * consumer's policy. Exit 0 when every required statement verifies, 1 when any fails, 2 on
 * unreadable input or bad usage.
 */
import type { Command } from 'commander';
import { verifyArtifact } from '../../app/verify.ts';
import { EXIT_FAILED, EXIT_OK } from '../../errors.ts';
import type { TrustFlags } from '../../policy/trust.ts';
import {
  addConsumerPolicyOptions,
  addFormatOption,
  addTrustOptions,
  collect,
  consumerPolicy,
  consumerTrust,
  useColor,
} from '../common.ts';
import { out, outText, parseFormat, toJson } from '../output.ts';
import { createProgress } from '../progress.ts';
import { addRegistryOptions, type RegistryFlags, registryOptionsFrom } from '../registry-options.ts';
import { renderVerifyText } from '../render-verify.ts';

const FORMATS = ['text', 'json'] as const;

interface VerifyFlags extends TrustFlags {
  key?: string[];
  trustedRoot?: string;
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  bundle?: string[];
  sourceUri?: string;
  sourceTag?: string;
  builderId?: string;
  allowUnsigned?: boolean;
  platform?: string;
  format?: string;
  config?: string;
  policy?: string;
}

export function registerVerify(program: Command, setExitCode: (code: number) => void): void {
  const command = program
    .command('verify')
    .description('verify the signed statements about an artifact (keys or keyless), offline')
    .argument(
      '<artifact>',
      'artifact reference (file:, dir:, oci:, oci-archive:, docker-archive:, docker://, or a path)',
    )
    .option('--key <pub>', 'trusted public key (PEM); repeatable', collect)
    .option(
      '--trusted-root <file>',
      'Sigstore trusted root (default: the public-good root shipped with waybill)',
    )
    .option('--certificate-identity <id>', 'keyless: the exact certificate identity (SAN) to trust')
    .option('--certificate-identity-regexp <re>', 'keyless: a regular expression the identity must match')
    .option('--certificate-oidc-issuer <url>', 'keyless: the OIDC issuer of that identity')
    .option(
      '--bundle <file>',
      'a Sigstore bundle, DSSE envelope or .intoto.jsonl to verify too; repeatable',
      collect,
    )
    .option(
      '--source-uri <uri>',
      'provenance must name this source repository (github.com/OWNER/REPO or a URL)',
    )
    .option('--source-tag <tag>', 'provenance must name this tag')
    .option('--builder-id <id>', 'provenance (and the certificate) must name this builder')
    .option('--allow-unsigned', 'accept an unsigned release record')
    .option('--platform <os/arch[/variant]>', 'which image of a multi-platform index');
  addTrustOptions(command);
  addConsumerPolicyOptions(command);
  addRegistryOptions(command);
  addFormatOption(command, FORMATS);
  command.action(async (ref: string, opts: VerifyFlags & RegistryFlags) => {
    const format = parseFormat(opts.format, FORMATS);
    // The consumer's policy and trust, as for check: never a file that came with the artifact.
    const policy = await consumerPolicy(opts);
    const trust = await consumerTrust(policy, opts);
    const progress = createProgress('hashing');
    const report = await verifyArtifact(ref, {
      policy,
      trust,
      keys: opts.key,
      trustedRoot: opts.trustedRoot,
      certificateIdentity: opts.certificateIdentity,
      certificateIdentityRegexp: opts.certificateIdentityRegexp,
      certificateOidcIssuer: opts.certificateOidcIssuer,
      bundles: opts.bundle,
      sourceUri: opts.sourceUri,
      sourceTag: opts.sourceTag,
      builderId: opts.builderId,
      allowUnsigned: opts.allowUnsigned,
      platform: opts.platform,
      registry: await registryOptionsFrom(ref, opts),
      integrity: { onProgress: (done, total) => progress.update(done, total) },
    }).finally(() => progress.done());
    if (format === 'json') await out(toJson(report));
    else {
      const color = useColor();
      await outText(renderVerifyText(report, { color }), { color });
    }
    setExitCode(report.passed ? EXIT_OK : EXIT_FAILED);
  });
}
