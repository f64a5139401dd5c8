/**
 * The build recipe: the `build` section of waybill.yaml, as the release team wrote it. The same shape
 * travels in the rebuild kit, so every rule here is checked twice: when the config is loaded (a
 * CONFIG error with a line and column) and when a kit is read (a MALFORMED kit).
 *
 * The rules keep a recipe from reaching around waybill: output patterns stay inside the build
 * directory, and the environment allow-list cannot name the variables waybill sets itself nor the
 * ones that make a shell or the dynamic loader run code of their choosing (LD_PRELOAD, BASH_ENV…).
 */

/** Default and limits of `build.timeout`, in seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 30 * 60;
export const MAX_TIMEOUT_SECONDS = 7 * 24 * 60 * 60;

export interface BuildRecipe {
  /** Shell command lines, run in order by `/bin/sh -c` in the exported source tree. */
  commands: string[];
  /** Paths or globs (`*`, `?`, `**`, `[...]`) relative to the source tree: the files to publish. */
  outputs: string[];
  /** Names of variables passed through from the builder's environment. */
  env: string[];
  /** Seconds before the whole recipe is killed. */
  timeout: number;
  /** Programs whose version and digest are recorded: `NAME` or `NAME ARG…` (the version command). */
  tools: string[];
}

/** Variables waybill sets for every recipe; the allow-list cannot override them. */
export const RECIPE_SET_VARIABLES: readonly string[] = [
  'HOME',
  'LC_ALL',
  'PATH',
  'PWD',
  'SOURCE_DATE_EPOCH',
  'TMPDIR',
  'TZ',
];

/**
 * Variables that make the shell or the loader execute something other than the recipe's commands:
 * a kit is read by someone who did not write it, so its environment must not be able to inject code
 * beside the commands the user reviewed.
 */
const CODE_INJECTING =
  /^(LD_|DYLD_)|^(BASH_ENV|ENV|IFS|SHELLOPTS|BASHOPTS|PS4|CDPATH|GCONV_PATH|NODE_OPTIONS|PYTHONSTARTUP|PERL5OPT|RUBYOPT)$/;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why a name cannot be in the allow-list, or undefined when it can. */
export function envNameProblem(name: string): string | undefined {
  if (!ENV_NAME.test(name)) return 'not an environment variable name';
  if (RECIPE_SET_VARIABLES.includes(name)) return `${name} is set by waybill for every build`;
  if (CODE_INJECTING.test(name)) return `${name} would let the environment run code beside the recipe`;
  return undefined;
}

/** Why an output pattern is refused, or undefined when it is usable. */
export function outputPatternProblem(pattern: string): string | undefined {
  if (pattern.includes('\0')) return 'contains NUL';
  if (pattern.startsWith('/')) return 'must be relative to the build directory';
  const segments = pattern.replace(/\/+$/, '').split('/');
  if (segments.some((s) => s === '..')) return 'must not leave the build directory (..)';
  if (segments.some((s) => s === '' || s === '.')) return 'has an empty or "." segment';
  return undefined;
}

/** `go version` → { program: 'go', args: ['version'] }; `tar` → { program: 'tar', args: ['--version'] }. */
export function parseToolSpec(spec: string): { program: string; args: string[] } {
  const [program = '', ...args] = spec.trim().split(/\s+/);
  return { program, args: args.length > 0 ? args : ['--version'] };
}

/** Why a tool entry is refused: the program must be a bare name looked up on PATH. */
export function toolSpecProblem(spec: string): string | undefined {
  const { program } = parseToolSpec(spec);
  if (program === '') return 'names no program';
  if (program.includes('/')) return 'must be a program name looked up on PATH, not a path';
  return undefined;
}

/** `90`, `"90s"`, `"30m"`, `"1h30m"` → seconds; undefined when not a duration. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return parseDuration(Number(text));
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (!match || text === '') return undefined;
  const [, h = '0', m = '0', s = '0'] = match;
  const seconds = Number(h) * 3600 + Number(m) * 60 + Number(s);
  return seconds > 0 && Number.isSafeInteger(seconds) ? seconds : undefined;
}
