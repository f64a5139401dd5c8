/**
 * Runs a build recipe: each command line by `/bin/sh -c`, in order, in the build directory, with
 * exactly the environment given (nothing inherited), umask 022, and in a process group of its own so
 * that the whole tree can be stopped. The recipe has one deadline for all its commands; at the
 * deadline the group gets SIGTERM and, two seconds later, SIGKILL. Processes a command leaves running
 * in the background are killed when it ends, and that is reported: a build step must finish its work.
 *
 * Limits (docs/build.md, "Security model"): a process that calls setsid(2) leaves the group and
 * escapes the kill; nothing here confines what the commands can read or write (`launch` can: the
 * private mount namespace of isolation.ts).
 */
import { spawn } from 'node:child_process';

export interface RunRecipeOptions {
  commands: readonly string[];
  /** The build directory (the exported source tree). */
  cwd: string;
  /** The complete environment of every command. */
  env: Readonly<Record<string, string>>;
  timeoutMs: number;
  /** Called before each command starts. */
  onCommand?: (index: number, command: string) => void;
  /** Grace between SIGTERM and SIGKILL at the deadline; default 2 s. */
  killGraceMs?: number;
  /**
   * A program and arguments put in front of the command's shell (the isolation wrapper). It must
   * exec that shell in its own process, so the process group and the timeout kill stay the same.
   */
  launch?: readonly string[];
}

export type RecipeFailure =
  | { kind: 'exit'; index: number; command: string; code: number }
  | { kind: 'signal'; index: number; command: string; signal: string }
  | { kind: 'timeout'; index: number; command: string; timeoutMs: number }
  | { kind: 'spawn'; index: number; command: string; message: string };

export interface RecipeResult {
  failure?: RecipeFailure;
  /** Commands that left background processes behind (which were killed). */
  leftovers: number[];
  /** The build log: each command line, then its interleaved stdout and stderr. */
  log: Buffer;
  durationMs: number;
}

/** The log kept in memory (and in the output folder); beyond this it is cut with a note. */
export const MAX_LOG_BYTES = 32 * 1024 * 1024;

/** How long output pipes may stay open after the command's shell has exited and its group was killed. */
const PIPE_DRAIN_MS = 1000;

/** Sets umask 022 and replaces itself with the shell that runs the command line given as $1. */
const WRAPPER = 'umask 022 && exec /bin/sh -c "$1"';

class LogBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private cut = false;

  add(data: Buffer | string): void {
    if (this.cut) return;
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const room = MAX_LOG_BYTES - this.size;
    if (buf.length > room) {
      this.chunks.push(buf.subarray(0, room), Buffer.from('\n[waybill: log cut at 32 MiB]\n'));
      this.size = MAX_LOG_BYTES;
      this.cut = true;
      return;
    }
    this.chunks.push(buf);
    this.size += buf.length;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Sends a signal to a whole process group; false when the group no longer exists. */
function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

interface CommandOutcome {
  failure?: RecipeFailure;
  leftovers: boolean;
}

function runOne(
  index: number,
  command: string,
  options: RunRecipeOptions,
  deadline: number,
  log: LogBuffer,
): Promise<CommandOutcome> {
  return new Promise((resolve) => {
    const [program, ...args] = [
      ...(options.launch ?? []),
      '/bin/sh',
      '-c',
      WRAPPER,
      'waybill-recipe',
      command,
    ];
    const child = spawn(program as string, args, {
      cwd: options.cwd,
      env: { ...options.env },
      // A new session: the shell leads its own process group, so -pid reaches everything it starts.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let timedOut = false;
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let spawnError: Error | undefined;
    let leftovers = false;
    const grace = options.killGraceMs ?? 2000;
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(
      () => {
        timedOut = true;
        if (child.pid !== undefined) signalGroup(child.pid, 'SIGTERM');
        killTimer = setTimeout(() => {
          if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
        }, grace);
      },
      Math.max(0, deadline - Date.now()),
    );
    child.stdout.on('data', (d: Buffer) => log.add(d));
    child.stderr.on('data', (d: Buffer) => log.add(d));
    child.on('error', (e) => {
      spawnError = e;
    });
    let drainTimer: NodeJS.Timeout | undefined;
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      // Whatever the shell started and left behind still holds the group (and maybe our pipes).
      if (child.pid !== undefined && !timedOut) leftovers = signalGroup(child.pid, 'SIGKILL');
      else if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      // A process that left the group (setsid) can keep our pipes open forever: stop reading them.
      drainTimer = setTimeout(() => {
        leftovers = true;
        log.add('[waybill: a process outside the recipe’s process group kept its output open]\n');
        child.stdout.destroy();
        child.stderr.destroy();
      }, PIPE_DRAIN_MS);
    });
    child.on('close', () => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      if (drainTimer) clearTimeout(drainTimer);
      const timeoutMs = options.timeoutMs;
      if (spawnError && !exited) {
        resolve({ failure: { kind: 'spawn', index, command, message: spawnError.message }, leftovers });
      } else if (timedOut) {
        resolve({ failure: { kind: 'timeout', index, command, timeoutMs }, leftovers });
      } else if (exited?.signal) {
        resolve({ failure: { kind: 'signal', index, command, signal: exited.signal }, leftovers });
      } else if (exited?.code !== 0) {
        resolve({ failure: { kind: 'exit', index, command, code: exited?.code ?? 1 }, leftovers });
      } else {
        resolve({ leftovers });
      }
    });
  });
}

export async function runRecipe(options: RunRecipeOptions): Promise<RecipeResult> {
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  const log = new LogBuffer();
  const leftovers: number[] = [];
  for (const [index, command] of options.commands.entries()) {
    options.onCommand?.(index, command);
    log.add(`$ ${command}\n`);
    const outcome = await runOne(index, command, options, deadline, log);
    if (outcome.leftovers) {
      leftovers.push(index);
      log.add('[waybill: the command left processes running; they were killed]\n');
    }
    if (outcome.failure) {
      log.add(`[waybill: ${describeRecipeFailure(outcome.failure)}]\n`);
      return { failure: outcome.failure, leftovers, log: log.bytes(), durationMs: Date.now() - started };
    }
  }
  return { leftovers, log: log.bytes(), durationMs: Date.now() - started };
}

/** One line for a failed recipe: which command (1-based) and how it ended. */
export function describeRecipeFailure(f: RecipeFailure): string {
  const which = `command ${f.index + 1}`;
  switch (f.kind) {
    case 'exit':
      return `${which} failed with exit status ${f.code}`;
    case 'signal':
      return `${which} was killed by ${f.signal}`;
    case 'timeout':
      return `${which} was still running at the ${formatSeconds(f.timeoutMs / 1000)} timeout; its process group was killed`;
    case 'spawn':
      return `${which} could not be started: ${f.message}`;
  }
}

export function formatSeconds(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds * 10) / 10}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  return `${Math.round(seconds / 360) / 10}h`;
}
