/**
 * Real git repositories, SSH and OpenPGP signers and (mis)tagged releases for tests.
 *
 * Everything lives under one temp dir from `makeTmp()`; git runs with no system or global config
 * (GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL=/dev/null), HOME pointing into the temp dir, identity and
 * dates passed per command, so tests neither read nor change the developer's setup and produce the
 * same commits every run. Call `removeTmp(tmp)` when done: it also stops the gpg-agents started for
 * the signers made there.
 *
 *   const tmp = await makeTmp();
 *   const signer = await makeSshSigner(tmp);
 *   const repo = await makeRepo(tmp, { 'README.md': 'hello\n' });
 *   await signedTag(repo, 'v1.0.0', signer);
 */

import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface SshSigner {
  kind: 'ssh';
  /** Private key file (unencrypted ed25519); pass as user.signingkey. */
  privateKey: string;
  publicKey: string;
  /** An allowed signers file that lists exactly this key for `principal`. */
  allowedSignersFile: string;
  principal: string;
  /** `SHA256:…` as ssh-keygen prints it. */
  fingerprint: string;
}

export interface GpgSigner {
  kind: 'gpg';
  /** GNUPGHOME holding this key (secret and public). */
  gnupgHome: string;
  /** Primary key fingerprint, 40 upper-case hex digits. */
  fingerprint: string;
  userId: string;
}

export type Signer = SshSigner | GpgSigner;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Fixed identity and dates so commit and tag ids are the same on every run. */
const IDENTITY = {
  GIT_AUTHOR_NAME: 'Waybill Test',
  GIT_AUTHOR_EMAIL: 'test@waybill.invalid',
  GIT_COMMITTER_NAME: 'Waybill Test',
  GIT_COMMITTER_EMAIL: 'test@waybill.invalid',
  GIT_AUTHOR_DATE: '2024-01-02T03:04:05Z',
  GIT_COMMITTER_DATE: '2024-01-02T03:04:05Z',
};

const gnupgHomesByTmp = new Map<string, string[]>();

/** A fresh directory under os.tmpdir(). */
export async function makeTmp(prefix = 'waybill-git-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Stops gpg-agents started for signers in `tmp`, then deletes it. */
export async function removeTmp(tmp: string): Promise<void> {
  for (const home of gnupgHomesByTmp.get(tmp) ?? []) {
    await run('gpgconf', ['--homedir', home, '--kill', 'all'], { env: isolatedEnv(tmp) }).catch(
      () => undefined,
    );
  }
  gnupgHomesByTmp.delete(tmp);
  await rm(tmp, { recursive: true, force: true });
}

/** Environment isolated from the developer's git, gpg and ssh setup. */
export function isolatedEnv(tmp: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('GIT_') && key !== 'GNUPGHOME' && key !== 'SSH_AUTH_SOCK') env[key] = value;
  }
  return {
    ...env,
    ...IDENTITY,
    HOME: path.join(tmp, 'home'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    LC_ALL: 'C',
    ...extra,
  };
}

/** Runs a program without a shell; resolves with its exit code and output. */
export function run(
  command: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string | Buffer } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const stdin = opts.input === undefined ? 'ignore' : 'pipe';
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: [stdin, 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code: code ?? 1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
    if (child.stdin) {
      // A child that exits without reading its input must not fail the run with EPIPE.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input);
    }
  });
}

async function runOk(command: string, args: readonly string[], opts: Parameters<typeof run>[2] = {}) {
  const result = await run(command, args, opts);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
  }
  return result.stdout;
}

/** The temp dir a repository made by `makeRepo` lives in (its parent). */
function tmpOf(repo: string): string {
  return path.dirname(repo);
}

/** Runs git in `repo` with the isolated environment; throws on failure; returns trimmed stdout. */
export async function git(
  repo: string,
  args: readonly string[],
  opts: { env?: Record<string, string>; input?: string | Buffer } = {},
): Promise<string> {
  const out = await runOk('git', args, {
    cwd: repo,
    env: isolatedEnv(tmpOf(repo), opts.env),
    input: opts.input,
  });
  return out.trim();
}

/** The exact bytes git prints (object contents need not be UTF-8 and end in newlines `git` trims). */
export async function gitBytes(repo: string, args: readonly string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd: repo,
      env: isolatedEnv(tmpOf(repo)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(Buffer.concat(out))
        : reject(
            new Error(`git ${args.join(' ')} failed (${code}): ${Buffer.concat(err).toString().trim()}`),
          ),
    );
  });
}

/** An ed25519 SSH key and an allowed signers file naming it for `principal`. */
export async function makeSshSigner(
  tmp: string,
  principal = 'release@waybill.invalid',
  name = 'ssh-signer',
): Promise<SshSigner> {
  const dir = path.join(tmp, name);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const privateKey = path.join(dir, 'id_ed25519');
  await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', principal, '-f', privateKey], {
    env: isolatedEnv(tmp),
  });
  const publicKey = `${privateKey}.pub`;
  const allowedSignersFile = path.join(dir, 'allowed_signers');
  const pub = (await readFile(publicKey, 'utf8')).trim();
  await writeFile(allowedSignersFile, `${principal} ${pub}\n`);
  const fingerprintLine = await runOk('ssh-keygen', ['-l', '-E', 'sha256', '-f', publicKey], {
    env: isolatedEnv(tmp),
  });
  const fingerprint = /SHA256:[A-Za-z0-9+/=]+/.exec(fingerprintLine)?.[0] ?? '';
  return { kind: 'ssh', privateKey, publicKey, allowedSignersFile, principal, fingerprint };
}

/** An unprotected ed25519 OpenPGP signing key in its own GNUPGHOME (well under a second). */
export async function makeGpgSigner(
  tmp: string,
  userId = 'Release Signer <release@waybill.invalid>',
  name = 'gnupg',
): Promise<GpgSigner> {
  const gnupgHome = path.join(tmp, name);
  await mkdir(gnupgHome, { recursive: true, mode: 0o700 });
  gnupgHomesByTmp.set(tmp, [...(gnupgHomesByTmp.get(tmp) ?? []), gnupgHome]);
  const env = isolatedEnv(tmp, { GNUPGHOME: gnupgHome });
  const gpg = ['--batch', '--no-tty', '--homedir', gnupgHome];
  await runOk(
    'gpg',
    [
      ...gpg,
      '--pinentry-mode',
      'loopback',
      '--passphrase',
      '',
      '--quick-gen-key',
      userId,
      'ed25519',
      'sign',
      'never',
    ],
    { env },
  );
  const listing = await runOk('gpg', [...gpg, '--with-colons', '--list-secret-keys', userId], { env });
  const fingerprint = /^fpr:(?:[^:]*:){8}([0-9A-F]{40}):/m.exec(listing)?.[1];
  if (!fingerprint) throw new Error(`could not read the fingerprint of the new key:\n${listing}`);
  return { kind: 'gpg', gnupgHome, fingerprint, userId };
}

/**
 * Writes the signer's public key as an exported keyring (what a consumer is handed to trust a
 * release key), binary by default or ASCII-armored; returns the file's path.
 */
export async function exportGpgPublicKey(
  signer: GpgSigner,
  file: string,
  opts: { armor?: boolean } = {},
): Promise<string> {
  const tmp = path.dirname(signer.gnupgHome);
  const args = [
    '--batch',
    '--homedir',
    signer.gnupgHome,
    ...(opts.armor ? ['--armor'] : []),
    '--export',
    signer.fingerprint,
  ];
  const child = spawn('gpg', args, {
    env: isolatedEnv(tmp, { GNUPGHOME: signer.gnupgHome }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? 1));
  });
  const bytes = Buffer.concat(out);
  if (code !== 0 || bytes.length === 0)
    throw new Error(`gpg --export ${signer.fingerprint} failed (${code})`);
  await writeFile(file, bytes);
  return file;
}

/** A new repository `tmp/<name>` with one commit holding `files` (paths may contain '/'). */
export async function makeRepo(
  tmp: string,
  files: Record<string, string | Uint8Array>,
  opts: { name?: string; origin?: string; objectFormat?: 'sha1' | 'sha256' } = {},
): Promise<string> {
  const repo = path.join(tmp, opts.name ?? 'repo');
  await mkdir(repo, { recursive: true });
  await git(repo, ['init', '-q', '-b', 'main', `--object-format=${opts.objectFormat ?? 'sha1'}`]);
  await git(repo, ['config', 'user.name', IDENTITY.GIT_COMMITTER_NAME]);
  await git(repo, ['config', 'user.email', IDENTITY.GIT_COMMITTER_EMAIL]);
  if (opts.origin) await git(repo, ['remote', 'add', 'origin', opts.origin]);
  await commitFiles(repo, files, 'initial commit');
  return repo;
}

/** Writes `files` and commits them; returns the new commit id. */
export async function commitFiles(
  repo: string,
  files: Record<string, string | Uint8Array>,
  message = 'update',
): Promise<string> {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(repo, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
  await git(repo, ['add', '-A']);
  await git(repo, ['commit', '-q', '--allow-empty', '-m', message]);
  return git(repo, ['rev-parse', 'HEAD']);
}

/** A signed annotated tag at HEAD (or `target`); returns the tag object id. */
export async function signedTag(
  repo: string,
  name: string,
  signer: Signer,
  opts: { message?: string; target?: string } = {},
): Promise<string> {
  const config =
    signer.kind === 'ssh'
      ? ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${signer.privateKey}`]
      : ['-c', 'gpg.format=openpgp', '-c', `user.signingkey=${signer.fingerprint}`];
  const env: Record<string, string> = signer.kind === 'gpg' ? { GNUPGHOME: signer.gnupgHome } : {};
  const args = [...config, 'tag', '-s', '-m', opts.message ?? `release ${name}`, name];
  if (opts.target) args.push(opts.target);
  await git(repo, args, { env });
  return git(repo, ['rev-parse', `refs/tags/${name}`]);
}

/** An empty commit on HEAD signed with an SSH key (`git commit -S`); returns the commit id. */
export async function signedCommit(
  repo: string,
  signer: SshSigner,
  message = 'signed commit',
): Promise<string> {
  const config = ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${signer.privateKey}`];
  await git(repo, [...config, 'commit', '-q', '-S', '--allow-empty', '-m', message]);
  return git(repo, ['rev-parse', 'HEAD']);
}

/** A lightweight tag (a ref straight to the commit); returns the commit id. */
export async function lightweightTag(repo: string, name: string, target = 'HEAD'): Promise<string> {
  await git(repo, ['tag', name, target]);
  return git(repo, ['rev-parse', `refs/tags/${name}`]);
}

/** An annotated tag without a signature; returns the tag object id. */
export async function unsignedAnnotatedTag(
  repo: string,
  name: string,
  message = `release ${name}`,
): Promise<string> {
  await git(repo, ['tag', '-a', '-m', message, name]);
  return git(repo, ['rev-parse', `refs/tags/${name}`]);
}

/**
 * Moves tag object `from` to ref `to` without re-signing, as someone renaming or re-pushing a tag
 * would: the object still says `tag <from>` but now lives at refs/tags/<to>. Returns the object id.
 */
export async function renameTag(repo: string, from: string, to: string): Promise<string> {
  const id = await git(repo, ['rev-parse', `refs/tags/${from}`]);
  await git(repo, ['update-ref', `refs/tags/${to}`, id]);
  await git(repo, ['update-ref', '-d', `refs/tags/${from}`]);
  return id;
}

/**
 * Rewrites a signed tag's message while keeping its signature block (a forged tag) and points the
 * ref at the new object. Returns the new tag object id.
 */
export async function tamperTagMessage(
  repo: string,
  name: string,
  newMessage = 'tampered release',
): Promise<string> {
  const original = await git(repo, ['cat-file', 'tag', `refs/tags/${name}`]);
  const headerEnd = original.indexOf('\n\n');
  const sigStart = original.search(/^-----BEGIN (?:PGP|SSH) SIGNATURE-----$/m);
  if (headerEnd === -1 || sigStart === -1) throw new Error(`tag ${name} is not a signed annotated tag`);
  const forged = `${original.slice(0, headerEnd)}\n\n${newMessage}\n${original.slice(sigStart)}\n`;
  const id = await git(repo, ['mktag'], { input: forged });
  await git(repo, ['update-ref', `refs/tags/${name}`, id]);
  return id;
}
