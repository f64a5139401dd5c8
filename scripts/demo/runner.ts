/**
 * The demo's way of running waybill: the real executable (bin/waybill.js) in a child process, as a
 * user would run it from the output folder, with the command and everything it printed shown, and
 * its outcome held against what the step expects. The first step that does not give its expected
 * outcome (exit code, and lines the output must show) stops the demo with exit 1, so `npm run demo`
 * doubles as a smoke test of the whole release flow.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';

export interface Expectation {
  /** The exit code the step must end with (a step that shows a failure must fail with exactly it). */
  exit: number;
  /** Patterns the output (stdout and stderr together) must match: what the step is there to show. */
  shows?: RegExp[];
}

export interface StepResult {
  code: number;
  output: string;
}

/** Thrown when a step's outcome is not the expected one; the demo ends with exit 1. */
export class UnexpectedOutcome extends Error {}

const color = process.stdout.isTTY === true;
const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (color ? `\x1b[2m${s}\x1b[0m` : s);

export class DemoRunner {
  readonly out: string;
  readonly #bin: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #checked: string[] = [];
  readonly #print: (text: string) => void;

  /**
   * `out` is the output folder: waybill runs there, arguments name paths relative to it. `epoch`
   * is SOURCE_DATE_EPOCH for commands that take their dates from it (stamp, audit). Everything is
   * shown through `print` (standard output by default).
   */
  constructor(
    out: string,
    bin: string,
    epoch: number,
    print: (text: string) => void = (text) => process.stdout.write(text),
  ) {
    this.out = out;
    this.#bin = bin;
    this.#print = print;
    // A private HOME, TMPDIR and XDG folders: no policy, key or advisory database of the user's
    // leaks in, and the build's outside-write watch sees only the demo's own directories (on a busy
    // machine a stranger's new file in the shared temp directory would be reported as the recipe's).
    const home = join(out, 'home');
    const tmp = join(out, 'tmp');
    mkdirSync(home, { recursive: true });
    mkdirSync(tmp, { recursive: true });
    this.#env = {
      // The recipe runs `node`: the one running the demo comes first.
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: home,
      TMPDIR: tmp,
      XDG_CONFIG_HOME: join(home, '.config'),
      XDG_CACHE_HOME: join(home, '.cache'),
      // …except V8's code cache for waybill's own modules, where bin/waybill.js keeps it by default:
      // each command loads its own modules, and a cold cache costs each one 0.1–0.3 s of start-up.
      NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? userCompileCache(),
      XDG_DATA_HOME: join(home, '.local', 'share'),
      LANG: 'C.UTF-8',
      SOURCE_DATE_EPOCH: String(epoch),
    };
  }

  step(title: string): void {
    this.#print(`\n${bold(`== ${title}`)}\n`);
  }

  say(text: string): void {
    this.#print(`${text}\n`);
  }

  /** Runs `waybill ARGS` in the output folder, shows it, and checks its outcome against `expect`. */
  waybill(args: string[], expect: Expectation, opts: { lines?: number } = {}): StepResult {
    const command = `waybill ${args.map(shellQuote).join(' ')}`;
    this.#print(`${dim('$')} ${command}\n`);
    const result = spawnSync(process.execPath, [this.#bin, ...args], {
      cwd: this.out,
      encoding: 'utf8',
      env: this.#env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = this.#relative(`${result.stdout ?? ''}${result.stderr ?? ''}`);
    this.#print(opts.lines === undefined ? output : head(output, opts.lines));
    const code = result.status ?? 2;
    this.#print(dim(`(exit ${code})\n`));
    const problems: string[] = [];
    if (code !== expect.exit) problems.push(`exited ${code}, expected ${expect.exit}`);
    for (const pattern of expect.shows ?? []) {
      if (!pattern.test(output)) problems.push(`did not show ${pattern}`);
    }
    if (problems.length > 0) throw new UnexpectedOutcome(`${command}: ${problems.join('; ')}`);
    this.#checked.push(`${command}  → exit ${code}`);
    return { code, output };
  }

  /** Every waybill command run, with the exit code it was expected to (and did) give. */
  get checked(): readonly string[] {
    return this.#checked;
  }

  /**
   * Paths in waybill's output relative to the output folder, as the arguments are: the folder is a
   * fresh temporary directory, so its name would make every run print differently.
   */
  #relative(text: string): string {
    return text.replaceAll(`${this.out}/`, '').replaceAll(this.out, '.');
  }
}

/** Where bin/waybill.js keeps its compile cache for this user. */
function userCompileCache(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache'), 'waybill', 'compile-cache');
}

/** The first `n` lines of `text`, and how many were left out. */
function head(text: string, n: number): string {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length <= n) return text;
  return `${lines.slice(0, n).join('\n')}\n${dim(`… ${lines.length - n} more lines`)}\n`;
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}
