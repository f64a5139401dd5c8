/**
 * The one door to the `git` binary. Every git call in waybill goes through `gitRunner` (a lint-style
 * test, no-raw-git.test.ts, fails the build otherwise), because the repository git runs in is not
 * trusted: its `.git/config`, anything that config includes, `.git/info/attributes` and the checked
 * out `.gitattributes` are all written by whoever prepared the checkout, and many config keys name a
 * program git will run as the invoking user (filter drivers, textconv, fsmonitor, hooks, gpg.program,
 * pagers, editors, credential helpers, ssh commands, remote helpers…).
 *
 * Four layers keep a repository from running anything:
 *
 * 1. **Only read-only subcommands that run no programs** are allowed (`READ_ONLY_COMMANDS`), with
 *    the flags that would run filters or talk to a remote refused. `git status`, `diff`, `log -p`,
 *    `fetch`, `submodule`… are simply not reachable: status and diff run clean filters on files whose
 *    index stat data is stale, which is every file of a checkout restored from a tarball or cache.
 * 2. **Every key that can name a program is pinned** on git's command-line config level, which wins
 *    over every file. The fixed keys are in `PINNED_CONFIG`. Keys with a free-form middle part
 *    (`filter.<driver>.clean`, `diff.<driver>.textconv`, `protocol.<name>.allow`…) cannot be listed
 *    in advance, so before its first command a runner reads the effective config (`git config
 *    --list -z`, which itself runs nothing) and pins every such key it finds. The pins travel in
 *    GIT_CONFIG_COUNT/KEY/VALUE variables, not `-c`: `-c` splits at the first `=`, and a driver named
 *    `x=y` (legal in config and in attributes) would dodge a `-c` pin.
 * 3. **The environment is rebuilt**: inherited GIT_* variables (GIT_DIR from a hook, GIT_SSH_COMMAND,
 *    GIT_EXTERNAL_DIFF, GIT_CONFIG_PARAMETERS…) are dropped; GIT_CONFIG_NOSYSTEM and
 *    GIT_ATTR_NOSYSTEM are set; GIT_ALLOW_PROTOCOL is empty so no transport (and no remote helper)
 *    can start; GIT_NO_REPLACE_OBJECTS stops `refs/replace/*` from swapping a signed commit's tree.
 * 4. **A deadline**: `include.path` / `includeIf` cannot be switched off, and an include naming a FIFO
 *    or /dev/zero blocks git forever, so each command is killed after WAYBILL_GIT_TIMEOUT seconds.
 *
 * The user's own global config (GIT_CONFIG_GLOBAL, ~/.gitconfig) is still read: it is the user's,
 * but its program keys are pinned all the same.
 */

import { WaybillError } from '../errors.ts';
import { runProgram } from '../util/run-program.ts';

export interface GitResult {
  /** Exit status; 0 on success. */
  code: number;
  /** Raw stdout bytes (tag objects, ref names and paths need not be UTF-8). */
  stdout: Buffer;
  stderr: string;
}

export interface GitRunOptions {
  /** Bytes for git's stdin (`--stdin` modes); stdin is /dev/null otherwise. */
  stdin?: Buffer | string;
}

export interface GitRunnerOptions {
  /** Deadline per command; default WAYBILL_GIT_TIMEOUT seconds, else 120 s. */
  timeoutMs?: number;
}

export interface GitRunner {
  /** The directory git runs in. */
  readonly dir: string;
  run(args: readonly string[], opts?: GitRunOptions): Promise<GitResult>;
}

/**
 * Fixed keys that name a program, a hook location or a file git would read on our behalf. Values
 * are git's harmless defaults or, where git has no "off" value, an empty string (git skips an
 * empty filter, helper or askpass).
 */
const PINNED_CONFIG: ReadonlyArray<readonly [string, string]> = [
  ['core.fsmonitor', 'false'],
  ['core.hooksPath', '/dev/null'],
  ['core.pager', 'cat'],
  ['core.editor', 'false'],
  ['sequence.editor', 'false'],
  ['core.askPass', ''],
  ['core.sshCommand', 'ssh'],
  ['core.gitProxy', ''],
  ['core.alternateRefsCommand', ''],
  // A global or repository attributes file could name filter drivers; only the tree's own
  // .gitattributes and .git/info/attributes remain, and their drivers are pinned below.
  ['core.attributesFile', '/dev/null'],
  ['core.useReplaceRefs', 'false'],
  ['core.untrackedCache', 'false'],
  ['credential.helper', ''],
  ['diff.external', ''],
  ['log.showSignature', 'false'],
  ['color.ui', 'false'],
  ['gpg.program', 'gpg'],
  ['gpg.openpgp.program', 'gpg'],
  ['gpg.x509.program', 'gpgsm'],
  ['gpg.ssh.program', 'ssh-keygen'],
  ['gpg.ssh.defaultKeyCommand', ''],
  // Trust comes from the caller (waybill verifies SSH signatures itself, see ssh-signature.ts).
  ['gpg.ssh.allowedSignersFile', '/dev/null'],
  ['gpg.ssh.revocationFile', '/dev/null'],
  ['protocol.allow', 'never'],
  ['gc.auto', '0'],
  ['maintenance.auto', 'false'],
];

/**
 * `<section>.<name>.<key>` families whose middle part the repository chooses: for every name found
 * in the effective config, each listed key of that section is pinned.
 */
const PINNED_FAMILIES: Readonly<Record<string, ReadonlyArray<readonly [string, string]>>> = {
  filter: [
    ['clean', ''],
    ['smudge', ''],
    ['process', ''],
    // An emptied driver must not be "required", or git refuses the file instead of skipping it.
    ['required', 'false'],
  ],
  diff: [
    ['textconv', ''],
    ['command', ''],
    ['cachetextconv', 'false'],
  ],
  merge: [['driver', '']],
  credential: [['helper', '']],
  remote: [
    ['vcs', ''],
    ['uploadpack', ''],
    ['receivepack', ''],
    ['proxy', ''],
  ],
  protocol: [['allow', 'never']],
  submodule: [['update', 'none']],
  difftool: [['cmd', '']],
  mergetool: [['cmd', '']],
  man: [['cmd', '']],
  browser: [['cmd', '']],
};

/** `pager.<command>` has no middle part: every one found is switched off. */
const PAGER_SECTION = 'pager';

/** More pins than this means a config built to exhaust the environment; refuse it. */
const MAX_DYNAMIC_PINS = 20_000;

/**
 * Subcommands that read objects, refs or the worktree and run no program whatever the config says,
 * each with a check of its arguments (null = fine, else why not).
 */
const READ_ONLY_COMMANDS: Readonly<Record<string, (args: readonly string[]) => string | null>> = {
  'rev-parse': () => null,
  'for-each-ref': () => null,
  'show-ref': () => null,
  'rev-list': () => null,
  'ls-tree': () => null,
  'check-ignore': () => null,
  'check-attr': () => null,
  'verify-tag': () => null,
  'verify-commit': () => null,
  // --textconv and --filters run textconv and smudge/clean programs.
  'cat-file': (args) => refuse(args, ['--textconv', '--filters']),
  // -m / --modified compares contents, which runs the clean filter of files with stale stat data.
  'ls-files': (args) =>
    args.some((a) => a === '--modified' || /^-[a-zA-Z]*m/.test(a)) ? 'ls-files -m runs filters' : null,
  'hash-object': (args) =>
    !args.includes('--no-filters')
      ? 'hash-object without --no-filters runs filters'
      : args.some((a) => a === '-w' || /^-[a-zA-Z]*w/.test(a))
        ? 'hash-object -w writes to the repository'
        : null,
  config: (args) =>
    args.some((a) => /^(?:--get|--get-all|--get-regexp|--get-urlmatch|--list|-l)$/.test(a)) &&
    !args.some((a) =>
      /^(?:-e|--edit|--add|--unset|--unset-all|--replace-all|--rename-section|--remove-section)$/.test(a),
    )
      ? null
      : 'only config reads are allowed',
  // --remote/--exec start a transport and a program on the other side.
  archive: (args) => (args.some((a) => /^--(?:remote|exec)(?:=|$)/.test(a)) ? 'archive --remote' : null),
};

function refuse(args: readonly string[], flags: readonly string[]): string | null {
  const bad = args.find((a) => flags.includes(a.split('=')[0]!));
  return bad ? `${bad} runs programs` : null;
}

/** Largest output we accept from one git command (tree listings of huge repositories fit easily). */
const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

const DEFAULT_TIMEOUT_MS = 120_000;

/** GIT_* variables that are about the user's setup rather than a repository, so we keep them. */
const KEPT_GIT_VARIABLES = new Set(['GIT_CONFIG_GLOBAL']);

/** Non-GIT_ variables that name programs git would run. */
const DROPPED_VARIABLES = new Set(['SSH_ASKPASS', 'EDITOR', 'VISUAL']);

/** WAYBILL_GIT_TIMEOUT (seconds) or the default. */
export function gitTimeoutMs(): number {
  const raw = process.env.WAYBILL_GIT_TIMEOUT;
  if (raw === undefined || raw === '') return DEFAULT_TIMEOUT_MS;
  if (!/^\d{1,6}(?:\.\d{1,3})?$/.test(raw) || Number(raw) <= 0) {
    throw new WaybillError(
      'USAGE',
      'WAYBILL_GIT_TIMEOUT',
      `not a positive number of seconds: ${JSON.stringify(raw)}`,
    );
  }
  return Math.round(Number(raw) * 1000);
}

export function gitEnvironment(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('GIT_') && !KEPT_GIT_VARIABLES.has(key)) continue;
    if (DROPPED_VARIABLES.has(key)) continue;
    env[key] = value;
  }
  Object.assign(env, {
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_ATTR_NOSYSTEM: '1',
    // An empty allow-list overrides every protocol.*.allow: no transport, no remote helper.
    GIT_ALLOW_PROTOCOL: '',
    GIT_NO_REPLACE_OBJECTS: '1',
    LC_ALL: 'C',
    LANG: 'C',
    LANGUAGE: 'C',
    GIT_PAGER: 'cat',
    PAGER: 'cat',
    GIT_TERMINAL_PROMPT: '0',
    // Reading must not write: no index refresh, no lock files in the checkout.
    GIT_OPTIONAL_LOCKS: '0',
  });
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Config pins as GIT_CONFIG_COUNT/KEY_n/VALUE_n (command-line scope: they win over every file). */
function configEnvironment(pairs: ReadonlyArray<readonly [string, string]>): Record<string, string> {
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(pairs.length) };
  pairs.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}

/**
 * The keys of `git config --list -z` output that need a pin, with the value to pin. Each entry is
 * `key\nvalue` or `key` alone (a bare boolean); a key is `section.name.variable` with section and
 * variable lower-cased and `name` verbatim (it may contain dots, `=` and quotes, never a newline).
 */
export function dynamicPins(listing: Buffer, input = ''): Array<[string, string]> {
  const pins = new Map<string, string>();
  for (const entry of listing.toString('latin1').split('\0')) {
    const newline = entry.indexOf('\n');
    const key = newline === -1 ? entry : entry.slice(0, newline);
    const firstDot = key.indexOf('.');
    const lastDot = key.lastIndexOf('.');
    if (firstDot <= 0) continue;
    const section = key.slice(0, firstDot).toLowerCase();
    if (section === PAGER_SECTION && firstDot === lastDot) {
      pins.set(key, 'false');
      continue;
    }
    const family = PINNED_FAMILIES[section];
    if (!family || lastDot === firstDot) continue;
    const name = key.slice(firstDot + 1, lastDot);
    for (const [variable, value] of family) pins.set(`${section}.${name}.${variable}`, value);
  }
  if (pins.size > MAX_DYNAMIC_PINS) {
    throw new WaybillError(
      'LIMIT',
      input,
      `git config defines more than ${MAX_DYNAMIC_PINS} drivers and helpers`,
    );
  }
  return [...pins].map(([key, value]) => [utf8Key(key, input), value]);
}

/**
 * Node passes environment strings to the child as UTF-8, so a key whose bytes are not UTF-8 cannot be
 * handed back to git verbatim, and a pin that does not match byte for byte pins nothing: refuse.
 */
function utf8Key(byteString: string, input: string): string {
  const bytes = Buffer.from(byteString, 'latin1');
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) {
    throw new WaybillError(
      'SOURCE',
      input,
      `git config names a driver or helper that is not valid UTF-8 (${JSON.stringify(text)}); refusing the repository`,
    );
  }
  return text;
}

function parsePair(kv: string): [string, string] {
  const eq = kv.indexOf('=');
  return eq === -1 ? [kv, 'true'] : [kv.slice(0, eq), kv.slice(eq + 1)];
}

/**
 * A runner bound to `dir`. `extraConfig` are more `key=value` pins from trusted code (an allowed
 * signers file…), applied after the fixed ones; `extraEnv` are environment variables (GNUPGHOME…).
 *
 *   const git = gitRunner(checkout);
 *   const out = await gitOk(git, ['ls-tree', '-r', '-z', commit]);
 *   const tar = await git.run(['archive', '--format=tar', commit]);
 */
export function gitRunner(
  dir: string,
  extraConfig: readonly string[] = [],
  extraEnv: Record<string, string | undefined> = {},
  options: GitRunnerOptions = {},
): GitRunner {
  const baseEnv = gitEnvironment(extraEnv);
  const fixed: Array<readonly [string, string]> = [...PINNED_CONFIG, ...extraConfig.map(parsePair)];
  const timeoutMs = options.timeoutMs ?? gitTimeoutMs();

  const spawnGit = (args: readonly string[], env: NodeJS.ProcessEnv, stdin?: Buffer | string) =>
    runProgram('git', ['--no-pager', ...args], {
      cwd: dir,
      env,
      stdin,
      timeoutMs,
      maxStdoutBytes: MAX_OUTPUT_BYTES,
      input: dir,
      label: `git ${args[0] ?? ''}`.trim(),
      spawnErrorCode: 'SOURCE',
    });

  let environment: Promise<NodeJS.ProcessEnv> | undefined;
  /** The environment with every pin, built once per runner from the effective config. */
  const pinnedEnvironment = (): Promise<NodeJS.ProcessEnv> => {
    environment ??= (async () => {
      const fixedEnv = { ...baseEnv, ...configEnvironment(fixed) };
      const listing = await spawnGit(['config', '--list', '-z'], fixedEnv);
      // Outside a repository, or one git refuses (safe.directory), the listing fails; the command
      // that follows fails the same way, so the fixed pins are enough.
      const dynamic = listing.code === 0 ? dynamicPins(listing.stdout, dir) : [];
      // Dynamic pins first: fixed and caller pins come later and win where they overlap.
      return { ...baseEnv, ...configEnvironment([...dynamic, ...fixed]) };
    })();
    return environment;
  };

  return {
    dir,
    async run(args, opts = {}) {
      const subcommand = args[0] ?? '';
      const check = READ_ONLY_COMMANDS[subcommand];
      const refused = check ? check(args.slice(1)) : `git ${subcommand} is not a read-only command`;
      if (refused !== null) {
        // A programming error, not bad input: waybill itself asked for something unsafe.
        throw new WaybillError('UNSUPPORTED', dir, `refusing to run git ${subcommand}: ${refused}`);
      }
      const env = await pinnedEnvironment();
      return spawnGit(args, env, opts.stdin);
    },
  };
}

/** Runs and insists on success; a failure here means the repository cannot be used. */
export async function gitOk(git: GitRunner, args: readonly string[], opts?: GitRunOptions): Promise<Buffer> {
  const result = await git.run(args, opts);
  if (result.code !== 0) {
    const why = firstLine(result.stderr) || `exit status ${result.code}`;
    throw new WaybillError('SOURCE', git.dir, `git ${args[0]} failed: ${why}`);
  }
  return result.stdout;
}

export function firstLine(text: string): string {
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed) return trimmed;
  }
  return '';
}
