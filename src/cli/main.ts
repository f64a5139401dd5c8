/**
 * The `waybill` command line. Each command lives in its own module under commands/ and returns an exit
 * code; this file wires them into commander and is the only place that turns errors into the one-line
 * message and exit code 2 (usage or unreadable input). Library code never prints or exits.
 */
import { Command, CommanderError } from 'commander';
import { describeError, EXIT_BAD_INPUT, EXIT_OK } from '../errors.ts';
import { escapeForTerminal, escapeLinesForTerminal } from '../util/terminal-escape.ts';
import { toolVersion } from '../version.ts';
import { registerAudit } from './commands/audit.ts';
import { registerCheck } from './commands/check.ts';
import { registerCopy } from './commands/copy.ts';
import { registerDb } from './commands/db.ts';
import { registerInit } from './commands/init.ts';
import { registerInspect } from './commands/inspect.ts';
import { registerKeygen } from './commands/keygen.ts';
import { registerPublish } from './commands/publish.ts';
import { registerSbom } from './commands/sbom.ts';
import { registerStamp } from './commands/stamp.ts';
import { registerVerify } from './commands/verify.ts';
import { guardOutputStreams } from './output.ts';

export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('waybill')
    .description(
      'Publish binary artifacts that tell consumers exactly what they are, and check them against a release policy',
    )
    .version(toolVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .enablePositionalOptions()
    .exitOverride();
  const commands = [
    registerInit,
    registerStamp,
    registerCheck,
    registerInspect,
    registerSbom,
    registerVerify,
    registerPublish,
    registerCopy,
    registerKeygen,
    registerAudit,
    registerDb,
  ];
  for (const register of commands) {
    register(program, setExitCode);
  }
  for (const command of program.commands) command.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  guardOutputStreams();
  let exitCode = EXIT_OK;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and --version exit 0; every other commander error is a usage error (its message is
      // already printed by commander).
      return e.exitCode === 0 ? EXIT_OK : EXIT_BAD_INPUT;
    }
    // Error messages quote paths and artifact strings: escaped, so the one line stays one line.
    process.stderr.write(`waybill: ${escapeForTerminal(describeError(e))}\n`);
    if (process.env.WAYBILL_DEBUG && e instanceof Error)
      process.stderr.write(`${escapeLinesForTerminal(e.stack ?? '').join('\n')}\n`);
    return EXIT_BAD_INPUT;
  }
}
