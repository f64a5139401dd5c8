/** `waybill check ARTIFACT`: the seven rules. Exit 0 all pass, 1 a rule failed, 2 bad input. */
import type { Command } from 'commander';
import { checkArtifact } from '../../app/check.ts';
import { EXIT_FAILED, EXIT_OK } from '../../errors.ts';
import { renderSarif } from '../../policy/render-sarif.ts';
import { renderText } from '../../policy/render-text.ts';
import type { TrustFlags } from '../../policy/trust.ts';
import { loadPublicKeyFiles } from '../../sign/public-key-files.ts';
import {
  addConsumerPolicyOptions,
  addFormatOption,
  addTrustOptions,
  collect,
  consumerPolicy,
  consumerTrust,
  policyLine,
  useColor,
} from '../common.ts';
import { errText, out, outText, parseFormat, toJson } from '../output.ts';
import { createProgress } from '../progress.ts';
import { addRegistryOptions, type RegistryFlags, registryOptionsFrom } from '../registry-options.ts';

const FORMATS = ['text', 'json', 'sarif'] as const;

interface CheckFlags extends TrustFlags {
  platform?: string;
  published?: boolean;
  config?: string;
  policy?: string;
  format?: string;
  key?: string[];
}

export function registerCheck(program: Command, setExitCode: (code: number) => void): void {
  const command = program
    .command('check')
    .description('check an artifact against the seven release guidelines, by your policy')
    .argument(
      '<artifact>',
      'artifact reference (file:, dir:, oci:, oci-archive:, docker-archive:, docker://, or a path)',
    )
    .option('--platform <os/arch[/variant]>', 'which image of a multi-platform index')
    .option('--published', 'the artifact is published: require a publication date')
    .option(
      '--key <pub>',
      "the producer's public key (PEM) to verify the signed record with; repeatable",
      collect,
    );
  addTrustOptions(command);
  addConsumerPolicyOptions(command);
  addRegistryOptions(command);
  addFormatOption(command, FORMATS);
  command.action(async (ref: string, opts: CheckFlags & RegistryFlags) => {
    const format = parseFormat(opts.format, FORMATS);
    // Never the waybill.yaml of the current directory: a bundle or a clone could ship one that
    // switches every rule off (config/consumer-policy.ts says where the policy comes from).
    const policy = await consumerPolicy(opts);
    const trust = await consumerTrust(policy, opts);
    const keys = await loadPublicKeyFiles(opts.key ?? []);
    const progress = createProgress('hashing');
    const report = await checkArtifact(ref, {
      policy,
      platform: opts.platform,
      published: opts.published,
      trust,
      keys,
      registry: await registryOptionsFrom(ref, opts),
      integrity: { onProgress: (done, total) => progress.update(done, total) },
    }).finally(() => progress.done());
    if (format === 'json') await out(toJson(report));
    else if (format === 'sarif') await out(toJson(renderSarif(report)));
    else {
      errText(policyLine(policy));
      const color = useColor();
      await outText(renderText(report, { color }), { color });
    }
    setExitCode(report.passed ? EXIT_OK : EXIT_FAILED);
  });
}
