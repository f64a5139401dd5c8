/**
 * Guideline 4, "built only from a signed git tag": checks that a checkout is exactly at a tag, that
 * the worktree is clean, and that the tag's signature verifies with a signer the policy trusts.
 *
 * Everything that is a policy matter (unsigned, untrusted, renamed, moved, dirty) comes back as a
 * SourceFact with `signature.verified === false` and a one-line reason; only an unusable input (not a
 * git work tree, git missing, a trust file that does not exist) throws.
 */

import { lstat, stat } from 'node:fs/promises';
import path from 'node:path';
import { WaybillError } from '../errors.ts';
import { UNCOMMITTED_PREFIX } from '../record/source-reasons.ts';
import type { SignatureVerdict, SourceFact } from '../record/types.ts';
import { firstLine, type GitRunner, gitOk, gitRunner, gitTimeoutMs } from './git-exec.ts';
import { parseCommitObject } from './git-object.ts';
import { gpgFailureReason, gpgSigner, isTrustedGpgKey, parseGpgStatus } from './gpg-status.ts';
import { localRepositoryUrl, redactRemoteUrl } from './remote-url.ts';
import { sshSignatureVerdict, verifySshSignature } from './ssh-signature.ts';
import { displayBytes, parseTagObject, type TagObject } from './tag-object.ts';
import { worktreeChanges } from './worktree-changes.ts';

export interface TrustPolicy {
  /** ssh-keygen allowed signers file (`principal key…` lines) for SSH-signed tags. */
  allowedSignersFile?: string;
  /** OpenPGP fingerprints (or long key ids, >= 16 hex) whose signatures are trusted. */
  trustedGpgKeys?: string[];
  /** GNUPGHOME holding the trusted public keys; default: gpg's own default. */
  gnupgHome?: string;
  /**
   * Revoked SSH keys (a KRL or a list of public keys, as `ssh-keygen -r` reads). When not given, the
   * user's own `gpg.ssh.revocationFile` from their global git config is used — never the
   * repository's config.
   */
  sshRevocationFile?: string;
  /**
   * When an SSH signer's key must be valid (`valid-after` / `valid-before` in the allowed signers
   * file); default: now. Never the tagger date, which the signer writes.
   */
  verifyTime?: Date;
}

export interface VerifySourceTagOptions {
  /** The tag the release is supposed to be built from (`v1.2.3` or `refs/tags/v1.2.3`). */
  tag?: string;
  /**
   * Paths (absolute) that are outputs of the build or of waybill itself — the artifact being stamped
   * inside the checkout, its sidecars, its lock and staging files — and so do not make the worktree
   * dirty: they are what the tagged source produced, not changes to it.
   */
  isOwnOutput?: (absolutePath: string) => boolean;
}

interface TagRef {
  /** Name under refs/tags/, as a byte string. */
  name: string;
  /** What the ref points at: a tag object or (lightweight) a commit. */
  objectId: string;
  objectType: string;
  /** The commit it peels to, when known. */
  commit: string | null;
}

/** How many dirty paths a reason lists before "+N more". */
const DIRTY_PATHS_SHOWN = 5;

export async function verifySourceTag(
  dir: string,
  trust: TrustPolicy,
  opts: VerifySourceTagOptions = {},
): Promise<SourceFact> {
  const root = path.resolve(dir);
  const { git, openRunner } = await openWorkTree(root, trust);
  const repository = await repositoryUrl(git);
  const head = await headCommit(git);
  // The tagged commit as git stores it (record v2 evidence): a consumer checks its id and tree offline.
  const commitObject = head === null ? null : await readObject(git, 'commit', head);
  const tree = commitObject === null ? null : parseCommitObject(commitObject.toString('latin1'), head!).tree;
  let rawTag: Buffer | null = null;
  const fact = (
    tag: string | null,
    commit: string | null,
    tagObject: string | null,
    sig: SignatureVerdict,
  ): SourceFact => ({
    repository,
    tag: tag === null ? null : displayBytes(tag),
    commit,
    tree,
    tagObject,
    signature: sig,
    evidence: {
      rawTag: rawTag === null ? null : rawTag.toString('base64'),
      rawCommit: commitObject === null ? null : commitObject.toString('base64'),
    },
  });
  if (head === null) return fact(null, null, null, unverified('repository has no commits (HEAD is unborn)'));

  const tags = await listTags(git);
  const choice = chooseTag(tags, head, opts.tag);
  if ('reason' in choice) return fact(choice.tag, head, choice.tagObject, unverified(choice.reason));
  const { ref, others } = choice;

  const isOwnOutput = opts.isOwnOutput;
  const own = isOwnOutput ? (p: string) => isOwnOutput(path.join(git.dir, displayBytes(p))) : undefined;
  const dirty = (await worktreeChanges(git, head, { openRunner, ...(own ? { isOwnOutput: own } : {}) })).map(
    displayBytes,
  );
  const dirtyReason = dirty.length > 0 ? `${UNCOMMITTED_PREFIX}${summarizePaths(dirty)}` : null;
  const alsoAtHead = others.length > 0 ? `; HEAD also carries ${others.map(displayBytes).join(', ')}` : '';

  if (ref.objectType === 'commit') {
    return fact(ref.name, head, null, unverified(dirtyReason ?? 'lightweight tag: not signed'));
  }
  if (ref.objectType !== 'tag') {
    return fact(ref.name, head, null, unverified(`tag ref points at a ${ref.objectType}, not a commit`));
  }

  let tagObject: TagObject;
  try {
    rawTag = await readObject(git, 'tag', ref.objectId);
    tagObject = parseTagObject(rawTag.toString('latin1'), ref.objectId);
  } catch (e) {
    if (e instanceof WaybillError && e.code === 'MALFORMED') {
      return fact(ref.name, head, ref.objectId, unverified(dirtyReason ?? `${e.reason} (${ref.objectId})`));
    }
    throw e;
  }

  const signature = await verifySignature(git, ref.objectId, tagObject, trust);
  // Order: the checkout not matching the tag outranks the tag's own problems, which outrank the
  // signature's; format and signer are kept so the record still says who signed.
  const problem =
    dirtyReason ??
    (tagObject.type !== 'commit' || tagObject.object !== head
      ? `tag object points at ${tagObject.type} ${short(tagObject.object)}, not at HEAD ${short(head)}`
      : null) ??
    (tagObject.tag !== ref.name
      ? `tag object says '${displayBytes(tagObject.tag)}' but the ref is '${displayBytes(ref.name)}' (renamed or re-pushed tag)`
      : null);
  const verdict: SignatureVerdict = problem
    ? { ...signature, verified: false, reason: problem }
    : { ...signature, reason: signature.reason + alsoAtHead };
  return fact(ref.name, head, ref.objectId, verdict);
}

function unverified(reason: string): SignatureVerdict {
  return { verified: false, format: null, signer: null, reason };
}

function short(id: string): string {
  return id.slice(0, 12);
}

/**
 * A runner at the top of the work tree `root` is in (paths from git are relative to it), and a way to
 * open more runners (submodules) with the same trust settings.
 */
async function openWorkTree(
  root: string,
  trust: TrustPolicy,
): Promise<{ git: GitRunner; openRunner: (dir: string) => GitRunner }> {
  const isDirectory = await stat(root).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDirectory) throw new WaybillError('SOURCE', root, 'not a git work tree');

  const config = ['versionsort.suffix=-'];
  const env: Record<string, string> = {};
  if (trust.allowedSignersFile !== undefined) {
    await requireExisting(path.resolve(trust.allowedSignersFile), 'file', 'allowed signers file');
  }
  if (trust.sshRevocationFile !== undefined) {
    await requireExisting(path.resolve(trust.sshRevocationFile), 'file', 'SSH revocation file');
  }
  if (trust.gnupgHome !== undefined) {
    const home = path.resolve(trust.gnupgHome);
    await requireExisting(home, 'directory', 'GnuPG home');
    env.GNUPGHOME = home;
  }
  const openRunner = (at: string) => gitRunner(at, config, env);
  const git = openRunner(root);
  const inside = await git.run(['rev-parse', '--is-inside-work-tree']);
  if (inside.stderr.includes('dubious ownership')) {
    throw new WaybillError(
      'SOURCE',
      root,
      'git refuses a repository owned by another user (see git safe.directory)',
    );
  }
  if (inside.code !== 0 || inside.stdout.toString('utf8').trim() !== 'true') {
    throw new WaybillError('SOURCE', root, 'not a git work tree');
  }
  const top = (await gitOk(git, ['rev-parse', '--show-toplevel'])).toString('utf8').replace(/\n$/, '');
  // A repository's core.worktree can name any directory as "the work tree" — an ancestor holding
  // pristine copies, say, with the real checkout ignored. The work tree waybill compares is the one
  // that holds the .git entry.
  if (
    !(await lstat(path.join(top, '.git')).then(
      () => true,
      () => false,
    ))
  ) {
    throw new WaybillError(
      'SOURCE',
      root,
      `the repository's work tree is set to ${top} (core.worktree), which does not hold its .git`,
    );
  }
  return { git: top === root ? git : openRunner(top), openRunner };
}

/**
 * Largest git object embedded as evidence: a tag message or a commit is a few kilobytes; a record
 * (at most 4 MiB) must hold both, base64.
 */
export const MAX_EVIDENCE_OBJECT_BYTES = 1024 * 1024;

/** An object's exact bytes (`git cat-file <type> <id>`), refused past MAX_EVIDENCE_OBJECT_BYTES. */
async function readObject(git: GitRunner, type: 'tag' | 'commit', id: string): Promise<Buffer> {
  const bytes = await gitOk(git, ['cat-file', type, id]);
  if (bytes.length > MAX_EVIDENCE_OBJECT_BYTES) {
    throw new WaybillError(
      'LIMIT',
      `${type} object ${id}`,
      `is ${bytes.length} bytes: a release record embeds at most ${MAX_EVIDENCE_OBJECT_BYTES} bytes of it as evidence`,
    );
  }
  return bytes;
}

async function requireExisting(p: string, kind: 'file' | 'directory', what: string): Promise<void> {
  const ok = await stat(p).then(
    (s) => (kind === 'file' ? s.isFile() : s.isDirectory()),
    () => false,
  );
  if (!ok) throw new WaybillError('NOT_FOUND', p, `${what} not found`);
}

async function repositoryUrl(git: GitRunner): Promise<string> {
  const origin = await git.run(['config', '--get', 'remote.origin.url']);
  const url = origin.code === 0 ? origin.stdout.toString('utf8').trim() : '';
  if (url) return redactRemoteUrl(url);
  const top = (await gitOk(git, ['rev-parse', '--show-toplevel'])).toString('utf8').trim();
  return localRepositoryUrl(top);
}

async function headCommit(git: GitRunner): Promise<string | null> {
  const result = await git.run(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']);
  return result.code === 0 ? result.stdout.toString('latin1').trim() : null;
}

/** All tags, highest version first (git's version sort; `-rc1` style suffixes sort before the release). */
async function listTags(git: GitRunner): Promise<TagRef[]> {
  const out = await gitOk(git, [
    'for-each-ref',
    '--sort=-v:refname',
    '--format=%(refname)%00%(objectname)%00%(objecttype)%00%(*objectname)%00%(*objecttype)',
    'refs/tags/',
  ]);
  const refs: TagRef[] = [];
  for (const line of out.toString('latin1').split('\n')) {
    if (line === '') continue;
    const [refname = '', objectId = '', objectType = '', peeledId = '', peeledType = ''] = line.split('\0');
    if (!refname.startsWith('refs/tags/')) continue;
    const commit = objectType === 'commit' ? objectId : peeledType === 'commit' ? peeledId : null;
    refs.push({ name: refname.slice('refs/tags/'.length), objectId, objectType, commit });
  }
  return refs;
}

type TagChoice =
  | { ref: TagRef; others: string[] }
  | { reason: string; tag: string | null; tagObject: string | null };

function chooseTag(tags: readonly TagRef[], head: string, wanted: string | undefined): TagChoice {
  const atHead = tags.filter((t) => t.commit === head);
  if (wanted !== undefined) {
    // Ref names are byte strings here; the caller's name is text, so encode it the same way.
    const name = Buffer.from(wanted.replace(/^refs\/tags\//, ''), 'utf8').toString('latin1');
    const ref = tags.find((t) => t.name === name);
    if (!ref) return { reason: `tag '${displayBytes(name)}' does not exist`, tag: name, tagObject: null };
    if (ref.commit === null) {
      // for-each-ref peels one level only; a tag of a tag (or of a tree) is not a release of a commit.
      return {
        reason: `tag '${displayBytes(name)}' points at a ${ref.objectType === 'tag' ? 'tag object of another tag' : ref.objectType}, not at a commit`,
        tag: name,
        tagObject: ref.objectType === 'tag' ? ref.objectId : null,
      };
    }
    if (ref.commit !== head) {
      return {
        reason: `tag '${displayBytes(name)}' points at commit ${short(ref.commit)} but HEAD is ${short(head)} (moved tag or wrong checkout)`,
        tag: name,
        tagObject: ref.objectType === 'tag' ? ref.objectId : null,
      };
    }
    return { ref, others: atHead.filter((t) => t !== ref).map((t) => t.name) };
  }
  const [best, ...rest] = atHead;
  if (!best) return { reason: `HEAD ${short(head)} is not at a tag`, tag: null, tagObject: null };
  return { ref: best, others: rest.map((t) => t.name) };
}

function summarizePaths(paths: readonly string[]): string {
  const shown = paths.slice(0, DIRTY_PATHS_SHOWN).join(', ');
  return paths.length > DIRTY_PATHS_SHOWN ? `${shown} (+${paths.length - DIRTY_PATHS_SHOWN} more)` : shown;
}

async function verifySignature(
  git: GitRunner,
  tagObjectId: string,
  tag: TagObject,
  trust: TrustPolicy,
): Promise<SignatureVerdict> {
  const signature = tag.signature;
  if (!signature) return unverified('tag is not signed');
  switch (signature.format) {
    case 'ssh':
      return verifySsh(git, tagObjectId, tag, trust);
    case 'openpgp':
      return verifyOpenPgp(git, tagObjectId, trust);
    default:
      return {
        verified: false,
        format: 'x509',
        signer: null,
        reason: 'X.509 (gpgsm) tag signatures are not supported',
      };
  }
}

async function verifySsh(
  git: GitRunner,
  tagObjectId: string,
  tag: TagObject,
  trust: TrustPolicy,
): Promise<SignatureVerdict> {
  const format = 'ssh';
  if (trust.allowedSignersFile === undefined) {
    return {
      verified: false,
      format,
      signer: null,
      reason: 'SSH-signed tag but no allowed signers file given (--allowed-signers)',
    };
  }
  const revocationFile = await sshRevocationFile(git, trust);
  const verifyTime = trust.verifyTime ?? new Date();
  // The payload and signature of the object id we parsed, not of the name: a ref can move.
  const verdict = await verifySshSignature({
    payload: Buffer.from(tag.payload, 'latin1'),
    armor: Buffer.from(tag.signature!.armor, 'latin1'),
    allowedSignersFile: path.resolve(trust.allowedSignersFile),
    revocationFile,
    verifyTime,
    input: `tag object ${tagObjectId}`,
    timeoutMs: gitTimeoutMs(),
  });
  return sshSignatureVerdict(verdict, revocationFile);
}

/**
 * The revocation list to check SSH signers against: the one the caller gave, else the user's own
 * `gpg.ssh.revocationFile` read from their global git config only (`--global`: the repository's
 * config could only weaken it). A configured file that is missing fails closed.
 */
async function sshRevocationFile(git: GitRunner, trust: TrustPolicy): Promise<string | null> {
  if (trust.sshRevocationFile !== undefined) return path.resolve(trust.sshRevocationFile);
  const configured = await git.run(['config', '--global', '--type=path', '--get', 'gpg.ssh.revocationFile']);
  const file = configured.code === 0 ? configured.stdout.toString('utf8').replace(/\n$/, '') : '';
  if (file === '') return null;
  await requireExisting(
    file,
    'file',
    'SSH revocation file (gpg.ssh.revocationFile in your global git config)',
  );
  return file;
}

async function verifyOpenPgp(
  git: GitRunner,
  tagObjectId: string,
  trust: TrustPolicy,
): Promise<SignatureVerdict> {
  const format = 'openpgp';
  const result = await git.run(['verify-tag', '--raw', tagObjectId]);
  const outcome = parseGpgStatus(`${result.stderr}\n${result.stdout.toString('utf8')}`);
  if (outcome.kind !== 'good') {
    const reason =
      gpgFailureReason(outcome) ??
      `OpenPGP signature could not be checked: ${firstLine(result.stderr) || 'gpg printed no status'}`;
    return { verified: false, format, signer: null, reason };
  }
  const signer = gpgSigner(outcome);
  const trusted = trust.trustedGpgKeys ?? [];
  if (isTrustedGpgKey(trusted, outcome)) {
    return {
      verified: true,
      format,
      signer,
      reason: `good OpenPGP signature by trusted key ${outcome.primaryFingerprint}`,
    };
  }
  const why =
    trusted.length === 0 ? 'no trusted OpenPGP keys were given' : 'that key is not in the trusted keys';
  return {
    verified: false,
    format,
    signer,
    reason: `good OpenPGP signature by ${outcome.primaryFingerprint} but ${why}`,
  };
}
