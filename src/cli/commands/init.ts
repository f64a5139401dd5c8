/** `waybill init`: write a commented waybill.yaml in the current (or given) directory. */
import type { Command } from 'commander';
import { initProject } from '../../app/init-project.ts';
import { escapeForTerminal as esc } from '../../util/terminal-escape.ts';
import { addFormatOption } from '../common.ts';
import { out, outText, parseFormat, toJson } from '../output.ts';

const FORMATS = ['text', 'json'] as const;

export function registerInit(program: Command): void {
  const command = program
    .command('init')
    .description('write a commented waybill.yaml')
    .argument('[dir]', 'directory to write it in', '.')
    .option('--force', 'overwrite an existing waybill.yaml');
  addFormatOption(command, FORMATS);
  command.action(async (dir: string, opts: { force?: boolean; format?: string }) => {
    const format = parseFormat(opts.format, FORMATS);
    const outcome = await initProject(dir, { force: opts.force });
    if (format === 'json') {
      await out(toJson({ written: outcome.path, gitWorkTree: outcome.inGitWorkTree, next: outcome.steps }));
      return;
    }
    const steps = outcome.steps.map((s, i) => `  ${i + 1}. ${esc(s)}`).join('\n');
    await outText(`wrote ${esc(outcome.path)}\nnext:\n${steps}\n`, { color: false });
  });
}
