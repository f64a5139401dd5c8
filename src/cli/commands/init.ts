/** `waybill init`: write a commented waybill.yaml in the current (or given) directory. */
import type { Command } from 'commander';
import { writeInitConfig } from '../../config/init.ts';
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
    const path = await writeInitConfig(dir, { force: opts.force });
    if (format === 'json') await out(toJson({ written: path }));
    else
      await outText(
        `wrote ${esc(path)}\nedit the team, help and license entries, then run: waybill stamp ARTIFACT\n`,
        { color: false },
      );
  });
}
