/**
 * `waybill rebuild ARTIFACT|KIT`: run a release's recipe again from its rebuild kit and compare.
 * Exit 0 every output reproduced bit for bit, 1 any not (or the recipe failed or wrote outside its
 * directory), 2 bad input (no kit, a kit that contradicts itself, an untrusted recipe).
 *
 * The recipe comes from the kit, which the person rebuilding did not write, so it runs only with
 * --trust-recipe or after a yes at the prompt (on a terminal), having been shown in full.
 */
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { EXIT_FAILED, EXIT_OK, WaybillError } from '../../errors.ts';
import { describeOutsideWriteCheck } from '../../provenance/build/isolation.ts';
import type { KitManifest } from '../../provenance/build/kit.ts';
import { parseToolSpec } from '../../provenance/build/recipe.ts';
import { locateRebuildTarget } from '../../provenance/rebuild/locate.ts';
import { type RebuildResult, type RebuildStep, rebuildRelease } from '../../provenance/rebuild/rebuild.ts';
import { rebuildInputFrom } from '../../publish/rebuild-input.ts';
import { BlobCache } from '../../registry/blob-cache.ts';
import { isRegistryReference } from '../../sources/registry.ts';
import { escapeForTerminal } from '../../util/terminal-escape.ts';
import { addFormatOption } from '../common.ts';
import { errText, out, outText, parseFormat, toJson } from '../output.ts';
import { addRegistryOptions, type RegistryFlags, registryOptionsFrom } from '../registry-options.ts';
import { signerFromFlags } from './build.ts';

const FORMATS = ['text', 'json'] as const;

interface RebuildFlags {
  out?: string;
  diffoscope?: boolean;
  trustRecipe?: boolean;
  showRecipe?: boolean;
  key?: string;
  maxDifferences?: string;
  quiet?: boolean;
  format?: string;
}

/** The recipe as the user must see it before it runs: every command, variable and tool, escaped. */
export function renderRecipe(m: KitManifest, kitPath: string): string {
  const lines = [
    `rebuild kit ${escapeForTerminal(kitPath)}: ${escapeForTerminal(m.name)} ${escapeForTerminal(m.version)} from ${escapeForTerminal(m.repository)} tag ${escapeForTerminal(m.tag)} (${m.commit})`,
    `  commands (run by /bin/sh -c in the unpacked source, in order; timeout ${m.recipe.timeout}s):`,
    ...m.recipe.commands.map((c, i) => `    ${i + 1}. ${escapeForTerminal(c)}`),
    `  environment: ${Object.entries(m.environment)
      .map(([k, v]) => `${escapeForTerminal(k)}=${escapeForTerminal(JSON.stringify(v))}`)
      .join(' ')}`,
    `  outputs: ${m.outputs.map((o) => escapeForTerminal(o.path)).join(', ')}`,
  ];
  // The version commands run too (before the commands, arguments as written: `sh -c …` is code), so
  // each is shown in full; the recorded tools list is only what the builder saw.
  if (m.recipe.tools.length > 0) {
    lines.push('  tool version commands (run before the commands, looked up on your PATH):');
    for (const [i, spec] of m.recipe.tools.entries()) {
      const { program, args } = parseToolSpec(spec);
      const built = m.tools.find((t) => t.spec === spec)?.version;
      lines.push(
        `    ${i + 1}. ${[program, ...args].map(escapeForTerminal).join(' ')}${built ? ` (built with ${escapeForTerminal(built)})` : ''}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

async function askToRun(manifest: KitManifest, kitPath: string): Promise<boolean> {
  errText(renderRecipe(manifest, kitPath));
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(
      `Run these ${manifest.recipe.commands.length} commands on this machine? [y/N] `,
    );
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

function stepReporter(quiet: boolean | undefined): (s: RebuildStep) => void {
  if (quiet || !process.stderr.isTTY) return () => undefined;
  return (s) => {
    const line =
      s.step === 'kit'
        ? `using rebuild kit ${escapeForTerminal(s.path)}`
        : s.step === 'verify-source'
          ? 'checking the source archive against the kit'
          : s.step === 'command'
            ? `[${s.index + 1}/${s.total}] ${escapeForTerminal(s.command)}`
            : s.step === 'compare'
              ? `comparing ${escapeForTerminal(s.output)}`
              : `running diffoscope on ${escapeForTerminal(s.output)}`;
    errText(`waybill: ${line}\n`);
  };
}

function renderRebuild(r: RebuildResult): string {
  const lines: string[] = [];
  for (const o of r.outputs) {
    lines.push(`${o.reproduced ? 'reproduced    ' : 'NOT reproduced'}  ${escapeForTerminal(o.name)}`);
    lines.push(`    expected  sha256:${o.expected.sha256}`);
    if (!o.reproduced) lines.push(`    rebuilt   ${o.actual ? `sha256:${o.actual.sha256}` : '(none)'}`);
    for (const d of o.differences) {
      const values =
        d.expected !== undefined || d.actual !== undefined
          ? `: expected ${escapeForTerminal(d.expected ?? '-')}, got ${escapeForTerminal(d.actual ?? '-')}`
          : '';
      lines.push(`    ${d.aspect.padEnd(9)} ${escapeForTerminal(d.path)}${values}`);
    }
    if (o.note) lines.push(`    note      ${escapeForTerminal(o.note)}`);
    if (o.diffoscope) lines.push(`    diffoscope report ${escapeForTerminal(o.diffoscope)}`);
  }
  for (const t of r.tools.filter((x) => !x.same)) {
    lines.push(
      `tool ${escapeForTerminal(t.name)} differs: built with ${escapeForTerminal(t.expected.version ?? '?')}, rebuilt with ${escapeForTerminal(t.actual.version ?? 'not found')}`,
    );
  }
  for (const p of r.outsideWrites) lines.push(`written outside the build directory: ${escapeForTerminal(p)}`);
  lines.push(`outside writes checked by ${describeOutsideWriteCheck(r.outsideWriteCheck)}`);
  lines.push(escapeForTerminal(r.reason));
  lines.push(`verdict ${escapeForTerminal(r.verdict.path)}`);
  if (r.log) lines.push(`log     ${escapeForTerminal(r.log)}`);
  return `${lines.join('\n')}\n`;
}

export function registerRebuild(program: Command, setExitCode: (code: number) => void): void {
  const command = program
    .command('rebuild')
    .description('rebuild a release from its rebuild kit and compare the outputs bit for bit')
    .argument(
      '<artifact-or-kit>',
      'a published artifact (its kit is found next to it, or attached to it in a registry: docker://…) or a NAME-VERSION.rebuild.tar kit',
    )
    .option('--out <dir>', 'keep the rebuilt outputs, the log, diffoscope reports and the verdict here')
    .option(
      '--diffoscope',
      'also hand each differing pair to diffoscope (when installed) and keep its report',
    )
    .option('--trust-recipe', "run the kit's commands without asking (review them first: --show-recipe)")
    .option('--show-recipe', "print the kit's recipe and exit without running anything")
    .option('--key <file>', 'sign the verdict with this key (default: $WAYBILL_KEY)')
    .option('--max-differences <n>', 'differences reported per output', '10')
    .option('-q, --quiet', 'no progress lines');
  addRegistryOptions(command);
  addFormatOption(command, FORMATS);
  command.action(async (given: string, opts: RebuildFlags & RegistryFlags) => {
    // A published reference: the artifact and its attached kit are brought to disk first.
    const input = isRegistryReference(given)
      ? await rebuildInputFrom(given, {
          registry: await registryOptionsFrom(given, opts),
          cache: new BlobCache(),
        })
      : given;
    const format = parseFormat(opts.format, FORMATS);
    const max = Number(opts.maxDifferences ?? '10');
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new WaybillError('USAGE', '--max-differences', 'must be a whole number of at least 1');
    }
    if (opts.showRecipe) {
      const { kit } = await locateRebuildTarget(input);
      if (format === 'json') await out(toJson({ kit: kit.path, manifest: kit.manifest }));
      else await outText(renderRecipe(kit.manifest, kit.path), { color: false });
      setExitCode(EXIT_OK);
      return;
    }
    const signer = await signerFromFlags(opts.key);
    const interactive =
      !opts.trustRecipe && format === 'text' && Boolean(process.stdin.isTTY && process.stderr.isTTY);
    const result = await rebuildRelease({
      input,
      outDir: opts.out,
      trustRecipe: opts.trustRecipe,
      approveRecipe: interactive
        ? (m) => askToRun(m, input)
        : async (m) => {
            // Not asked and not trusted: show what would have run, then refuse (exit 2).
            if (format === 'text') errText(renderRecipe(m, input));
            return false;
          },
      diffoscope: opts.diffoscope,
      signer,
      maxDifferences: max,
      onStep: stepReporter(opts.quiet || format === 'json'),
    });
    if (format === 'json') await out(toJson(result));
    else await outText(renderRebuild(result), { color: false });
    setExitCode(result.reproduced ? EXIT_OK : EXIT_FAILED);
  });
}
