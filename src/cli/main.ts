/**
 * The `waybill` command line. Each command lives in its own module under commands/ and returns an exit
 * code; this file wires them into commander and is the only place that turns errors into the one-line
 * message and exit code 2 (usage or unreadable input). Library code never prints or exits.
 */
import { Command, CommanderError } from 'commander';
import { describeError, EXIT_BAD_INPUT, EXIT_OK } from '../errors.ts';
import { discardPrestartedTreeHelpers, prestartTreeHelpers } from '../sources/tree-helpers.ts';
import { HASH_THREAD_ENV } from '../sources/walk-options.ts';
import { discardPrestartedHashLane, prestartHashLane } from '../util/hash-lane.ts';
import { siblingModule } from '../util/sibling-module.ts';
import { escapeForTerminal, escapeLinesForTerminal } from '../util/terminal-escape.ts';
import { toolVersion } from '../version.ts';
import { guardOutputStreams } from './output.ts';

type Register = (program: Command, setExitCode: (code: number) => void) => void;

/**
 * Every command, in help order, with its module loaded only when it is needed: `waybill check` then
 * loads neither the signing nor the SBOM-writing nor the audit code, which is a third of start-up.
 */
const COMMANDS: ReadonlyArray<readonly [string, () => Promise<Register>]> = [
  ['init', async () => (await import('./commands/init.ts')).registerInit],
  ['stamp', async () => (await import('./commands/stamp.ts')).registerStamp],
  ['check', async () => (await import('./commands/check.ts')).registerCheck],
  ['inspect', async () => (await import('./commands/inspect.ts')).registerInspect],
  ['sbom', async () => (await import('./commands/sbom.ts')).registerSbom],
  ['verify', async () => (await import('./commands/verify.ts')).registerVerify],
  ['publish', async () => (await import('./commands/publish.ts')).registerPublish],
  ['copy', async () => (await import('./commands/copy.ts')).registerCopy],
  ['keygen', async () => (await import('./commands/keygen.ts')).registerKeygen],
  ['audit', async () => (await import('./commands/audit.ts')).registerAudit],
  ['db', async () => (await import('./commands/db.ts')).registerDb],
  ['build', async () => (await import('./commands/build.ts')).registerBuild],
  ['rebuild', async () => (await import('./commands/rebuild.ts')).registerRebuild],
];

/**
 * Commander's own usage errors, as one line like every other error (`waybill: unknown option '--x'
 * (run waybill --help for usage)`). They quote the command line, which may hold a pasted file name
 * with escape sequences: escaped like every other line waybill prints.
 */
function writeUsageError(text: string, write: (text: string) => void): void {
  const message = text
    .trim()
    .replace(/^error: /, '')
    .replace(/\s*\n\s*/g, ' ');
  write(`waybill: ${escapeForTerminal(message)} (run waybill --help for usage)\n`);
}

/**
 * The program with every command, or only `only` (the command being run: the others' options and
 * help are not needed to parse it).
 */
export async function buildProgram(setExitCode: (code: number) => void, only?: string): Promise<Command> {
  const program = new Command('waybill')
    .description(
      'Publish binary artifacts that tell consumers exactly what they are, and check them against a release policy',
    )
    .version(toolVersion(), '-V, --version')
    .enablePositionalOptions()
    .configureOutput({ outputError: writeUsageError })
    .exitOverride();
  // `waybill --version` needs no command: loading all thirteen took 0.3 s of its 0.45 s.
  const versionOnly = only === '-V' || only === '--version';
  const chosen = COMMANDS.filter(([name]) => name === only);
  const loaded = versionOnly ? [] : chosen.length > 0 ? chosen : COMMANDS;
  for (const [, load] of loaded) (await load())(program, setExitCode);
  for (const command of program.commands)
    command.configureOutput({ outputError: writeUsageError }).exitOverride();
  return program;
}

/** Commands that read every layer of an image they are given (and hash it: util/hash-lane.ts). */
const LAYER_READERS = new Set(['sbom', 'stamp', 'audit']);
/** How image references start (sources/open.ts); a guess, as only the command parses its arguments. */
const IMAGE_REFERENCE = /^(?:oci|oci-archive|docker-archive):|\.tar$/;

/**
 * Whether the command line names an image for a command that reads its layers: the hashing thread
 * a layer walk wants (util/hash-lane.ts) is then started while the command's modules load. A wrong
 * guess costs one idle thread's start, never a result.
 */
export function namesImageToRead(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  const [command, ...rest] = argv.slice(2);
  if (env[HASH_THREAD_ENV]?.trim() === '0' || command === undefined || !LAYER_READERS.has(command))
    return false;
  return rest.some((a) => IMAGE_REFERENCE.test(a));
}

/** A `dir:` reference (sources/open.ts). */
const TREE_REFERENCE = /^dir:/;

/**
 * Whether the command line names a `dir:` tree for `sbom`, which lists and reads it on helper
 * threads sharing the walk (sources/tree-walk.ts): they are then started, and load the catalogers,
 * while the command's modules load. A wrong guess costs idle threads' start, never a result.
 */
export function namesTreeToList(argv: readonly string[]): boolean {
  const [command, ...rest] = argv.slice(2);
  return command === 'sbom' && rest.some((a) => TREE_REFERENCE.test(a));
}

export async function main(argv: string[]): Promise<number> {
  guardOutputStreams();
  if (namesImageToRead(argv)) prestartHashLane();
  if (namesTreeToList(argv))
    prestartTreeHelpers(siblingModule(import.meta.url, '../catalog/worker-filter').href);
  let exitCode = EXIT_OK;
  try {
    const program = await buildProgram((code) => {
      exitCode = code;
    }, argv[2]);
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
  } finally {
    discardPrestartedHashLane();
    discardPrestartedTreeHelpers();
  }
}
