/**
 * The `waybill` command line. Each command lives in its own module under commands/ and returns an exit
 * code; this file wires them into commander and is the only place that turns errors into the one-line
 * message and exit code 2 (usage or unreadable input). Library code never prints or exits.
 */
import { Command, CommanderError } from 'commander';
import { describeError, EXIT_BAD_INPUT, EXIT_OK } from '../errors.ts';
import { toolVersion } from '../version.ts';
import { registerBuild } from './commands/build.ts';
import { registerCheck } from './commands/check.ts';
import { registerInit } from './commands/init.ts';
import { registerInspect } from './commands/inspect.ts';
import { registerKeygen } from './commands/keygen.ts';
import { registerRebuild } from './commands/rebuild.ts';
import { registerSbom } from './commands/sbom.ts';
import { registerStamp } from './commands/stamp.ts';
import { registerVerify } from './commands/verify.ts';

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
    registerKeygen,
    registerBuild,
    registerRebuild,
  ];
  for (const register of commands) {
    register(program, setExitCode);
  }
  for (const command of program.commands) command.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
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
    process.stderr.write(`waybill: ${describeError(e)}\n`);
    if (process.env.WAYBILL_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return EXIT_BAD_INPUT;
  }
}
