/**
 * `waybill copy SRC DST`: an artifact and all its attachments between an OCI layout, an oci-archive,
 * a registry and a release directory. Exit 0 copied (or already there), 2 bad input or a failure on
 * the way.
 */
import type { Command } from 'commander';
import { type CopyResult, copyArtifact } from '../../app/copy.ts';
import { EXIT_OK } from '../../errors.ts';
import { escapeForTerminal as esc } from '../../util/terminal-escape.ts';
import { addFormatOption } from '../common.ts';
import { out, outText, parseFormat, toJson } from '../output.ts';
import { addRegistryOptions, type RegistryFlags, registryOptionsForPair } from '../registry-options.ts';
import { createTransferProgress, transferSummary } from '../transfer-progress.ts';

const FORMATS = ['text', 'json'] as const;

function renderCopy(result: CopyResult): string {
  const lines = [esc(result.message)];
  const summary = transferSummary(result.transfer, 'copied');
  if (summary) lines.push(summary.trimEnd());
  for (const path of result.written ?? []) lines.push(`  wrote       ${esc(path)}`);
  return `${lines.join('\n')}\n`;
}

export function registerCopy(program: Command, setExitCode: (code: number) => void): void {
  const command = program
    .command('copy')
    .description(
      'copy an artifact with all its attachments (record, SBOM, signatures) between layouts, archives, registries and release directories',
    )
    .argument(
      '<source>',
      'oci:DIR[:TAG], oci-archive:TAR[:TAG], docker://HOST/REPO[:TAG|@DIGEST], file:PATH or a path to a file',
    )
    .argument(
      '<destination>',
      'oci:DIR[:TAG], oci-archive:TAR[:TAG], docker://HOST/REPO[:TAG], dir:ROOT or file:///ROOT',
    )
    .option('-q, --quiet', 'no progress on stderr');
  addRegistryOptions(command);
  addFormatOption(command, FORMATS);
  command.action(
    async (src: string, dst: string, opts: RegistryFlags & { format?: string; quiet?: boolean }) => {
      const format = parseFormat(opts.format, FORMATS);
      const progress = createTransferProgress({ quiet: opts.quiet || format === 'json' });
      const result = await copyArtifact(src, dst, {
        registry: await registryOptionsForPair(src, dst, opts),
        events: progress,
      }).finally(() => progress.done());
      if (format === 'json') await out(toJson(result));
      else await outText(renderCopy(result), { color: false });
      setExitCode(EXIT_OK);
    },
  );
}
