/** `waybill sbom ARTIFACT`: the component manifest, CycloneDX 1.6 (default) or SPDX 2.3 JSON. */
import type { Command } from 'commander';
import type { SbomFormat } from '../../app/attachments.ts';
import { generateSbom } from '../../app/generate-sbom.ts';
import { WaybillError } from '../../errors.ts';
import type { RegistryOptions } from '../../registry/client.ts';
import { sbomText } from '../../sbom/read.ts';
import { openArtifact } from '../../sources/open.ts';
import { parseWorkerCount } from '../../sources/walk-options.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { escapeForTerminal as esc } from '../../util/terminal-escape.ts';
import { errText, out, outStoredDocument, parseFormat, warningLine } from '../output.ts';
import { createProgress, withDownloadProgress } from '../progress.ts';
import { addRegistryOptions, type RegistryFlags, registryOptionsFrom } from '../registry-options.ts';

const FORMATS = ['cyclonedx-json', 'spdx-json'] as const;

export function registerSbom(program: Command): void {
  const command = program
    .command('sbom')
    .description('list every component of an artifact with its version (CycloneDX 1.6 or SPDX 2.3 JSON)')
    .argument('<artifact>', 'artifact reference')
    .option('-f, --format <format>', `output format: ${FORMATS.join(', ')}`, 'cyclonedx-json')
    .option('-o, --output <file>', 'write to this file (atomically; - for stdout) instead of stdout')
    .option('--platform <os/arch[/variant]>', 'which image of a multi-platform index')
    .option('--name <name>', 'name of the artifact in the SBOM (default: from the reference)')
    .option('--version <version>', 'version of the artifact in the SBOM')
    .option(
      '--workers <n>',
      'worker threads for image layers, and threads sharing a dir: tree (at most 4); 0 or 1 = in-process (default: $WAYBILL_WORKERS, else layers: threads with >= 2 cores and >= 2 layers of >= 16 MiB compressed or 64 MiB uncompressed; dir: one per core)',
    )
    .option(
      '--stored',
      "print the SBOM stored with the artifact (its record's, an attachment, a sidecar) instead of generating one",
    )
    .option('-q, --quiet', 'no progress bar or warnings on stderr');
  addRegistryOptions(command).action(
    async (
      ref: string,
      opts: {
        format?: string;
        output?: string;
        platform?: string;
        name?: string;
        version?: string;
        quiet?: boolean;
        workers?: string;
        stored?: boolean;
      } & RegistryFlags,
      self: Command,
    ) => {
      const format = parseFormat(opts.format, FORMATS) as SbomFormat;
      const registry = await registryOptionsFrom(ref, opts);
      if (opts.stored) {
        const asked = self.getOptionValueSource('format') === 'cli' ? format : undefined;
        await printStored(ref, { ...opts, registry }, asked);
        return;
      }
      const workers = opts.workers === undefined ? undefined : parseWorkerCount(opts.workers, '--workers');
      // Listed, not bound to anything: a `dir:` tree is not hashed for a digest (docs/sbom.md).
      const artifact = await withDownloadProgress(
        (onDownload) => openArtifact(ref, { platform: opts.platform, registry, onDownload, digest: false }),
        { quiet: opts.quiet },
      );
      const progress = createProgress('cataloging', { quiet: opts.quiet });
      // A package file names itself (the SBOM takes its own name then); others their path.
      const name = opts.name ?? artifact.image?.refName;
      const sbom = await generateSbom(artifact, {
        format,
        ...(name !== undefined ? { name } : {}),
        version: opts.version,
        ...(workers !== undefined ? { workers } : {}),
        onProgress: (done, total) => progress.update(done, total),
      }).finally(() => progress.done());
      if (!opts.quiet) for (const w of sbom.warnings) errText(warningLine(w));
      if (opts.output && opts.output !== '-') {
        // The user named this path: a device or FIFO there (-o /dev/stdout) is written through.
        await writeFileAtomic(opts.output, sbom.bytes, { explicit: true });
        if (!opts.quiet) errText(`wrote ${esc(opts.output)}: ${sbom.componentCount} components\n`);
      } else {
        await out(sbom.bytes.toString('utf8'));
      }
    },
  );
}

/** `--stored`: the SBOM as stored, never regenerated; a --format that is not its format is refused. */
async function printStored(
  ref: string,
  opts: { output?: string; platform?: string; quiet?: boolean; registry?: RegistryOptions },
  askedFormat: SbomFormat | undefined,
): Promise<void> {
  // Loaded for --stored only: record, attachment and registry-referrer reading is not needed to generate.
  const { readStoredSbom } = await import('../../app/stored.ts');
  const stored = await readStoredSbom(ref, { platform: opts.platform, registry: opts.registry });
  if (askedFormat !== undefined && askedFormat !== stored.format) {
    throw new WaybillError(
      'USAGE',
      '--format',
      `the SBOM stored with ${ref} is ${stored.format}, not ${askedFormat}: leave out --format, or leave out --stored to generate a ${askedFormat} one`,
    );
  }
  if (stored.notPinned && !opts.quiet)
    errText(warningLine({ path: stored.location, reason: stored.notPinned }));
  if (opts.output && opts.output !== '-') {
    await writeFileAtomic(opts.output, stored.bytes, { explicit: true });
    if (!opts.quiet) errText(`wrote ${esc(opts.output)}: the SBOM stored at ${esc(stored.location)}\n`);
    return;
  }
  // Parsed as readSbom parsed it (a byte order mark dropped): it has passed that already.
  await outStoredDocument(stored.bytes, JSON.parse(sbomText(stored.bytes)));
}
