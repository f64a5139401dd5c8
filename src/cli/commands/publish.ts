/**
 * `waybill publish ARTIFACT TARGET`: check, then put the artifact and every statement about it at
 * TARGET (a registry, an OCI layout or archive, a release directory) with a signed publication
 * statement. Exit 0 published (or already there), 1 refused because a rule failed, 2 bad input or a
 * failure on the way (nothing half-published is visible: the tag moves last).
 */
import type { Command } from 'commander';
import { type PublishResult, publishArtifact } from '../../app/publish.ts';
import { EXIT_FAILED, EXIT_OK } from '../../errors.ts';
import { renderText } from '../../policy/render-text.ts';
import type { TrustFlags } from '../../policy/trust.ts';
import { keyFileSignerFrom } from '../../sign/signer.ts';
import { escapeForTerminal as esc } from '../../util/terminal-escape.ts';
import {
  addConfigOptions,
  addFormatOption,
  addTrustOptions,
  loadSettings,
  policyLine,
  publisherTrust,
  useColor,
} from '../common.ts';
import { errText, out, outText, parseFormat, toJson } from '../output.ts';
import { addRegistryOptions, type RegistryFlags, registryOptionsForPair } from '../registry-options.ts';
import { createTransferProgress, transferSummary } from '../transfer-progress.ts';

const FORMATS = ['text', 'json'] as const;

interface PublishFlags extends RegistryFlags, TrustFlags {
  config?: string;
  policy?: string;
  key?: string;
  force?: boolean;
  quiet?: boolean;
  format?: string;
}

function renderPublish(result: PublishResult): string {
  const lines = [`${esc(result.message)}`];
  lines.push(`  artifact    ${esc(result.artifact)} (${result.digest})`);
  lines.push(`  target      ${esc(result.target)}`);
  if (result.status !== 'refused') {
    lines.push(`  reference   ${esc(result.reference)}`);
    lines.push(
      `  published   ${result.published}${result.resumed ? ' (the publication already there)' : ''}`,
    );
  }
  if (result.forced.length > 0)
    lines.push(`  forced      ${result.forced.map((f) => `${f.rule}: ${esc(f.message)}`).join('; ')}`);
  const summary = transferSummary(result.transfer, 'uploaded');
  if (summary) lines.push(summary.trimEnd());
  for (const path of result.written ?? []) lines.push(`  wrote       ${esc(path)}`);
  for (const s of result.signed) lines.push(`  signed      ${esc(s)}`);
  for (const s of result.unsigned) lines.push(`  unsigned    ${esc(s)} (no --key)`);
  return `${lines.join('\n')}\n`;
}

export function registerPublish(program: Command, setExitCode: (code: number) => void): void {
  const command = program
    .command('publish')
    .description(
      'check an artifact, then publish it with all its statements and a signed publication statement',
    )
    .argument('<artifact>', 'artifact reference (oci:, oci-archive:, file:, docker://, or a path to a file)')
    .argument(
      '<target>',
      'docker://HOST/REPO[:TAG] (default tag: the version), oci:DIR[:TAG], oci-archive:TAR[:TAG], dir:ROOT or file:///ROOT',
    )
    .option('--key <file>', 'sign with this private key (default: $WAYBILL_KEY)')
    .option('--force', 'publish even when a rule fails; the failures are named in the publication statement')
    .option('-q, --quiet', 'no progress on stderr');
  addConfigOptions(command);
  addTrustOptions(command);
  addRegistryOptions(command);
  addFormatOption(command, FORMATS);
  command.action(async (ref: string, target: string, opts: PublishFlags) => {
    const format = parseFormat(opts.format, FORMATS);
    // The publisher's own policy: the project's waybill.yaml (as for stamp).
    const settings = await loadSettings(opts);
    const trust = await publisherTrust(settings, opts);
    const signer = await keyFileSignerFrom(opts.key);
    const progress = createTransferProgress({ quiet: opts.quiet || format === 'json' });
    const result = await publishArtifact(ref, target, {
      policy: settings.policy,
      trust,
      ...(signer ? { signer } : {}),
      ...(opts.force ? { force: true } : {}),
      registry: await registryOptionsForPair(ref, target, opts),
      events: progress,
    }).finally(() => progress.done());
    if (format === 'json') await out(toJson(result));
    else {
      if (result.status === 'refused' || result.forced.length > 0) {
        errText(policyLine(settings.policy));
        const color = useColor();
        await outText(renderText(result.check, { color }), { color });
      }
      await outText(renderPublish(result), { color: false });
    }
    setExitCode(result.status === 'refused' ? EXIT_FAILED : EXIT_OK);
  });
}
