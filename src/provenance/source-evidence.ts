/**
 * The consumer's side of guideline 4: re-verify, from the evidence a release record v2 carries and
 * with the consumer's own trust, that the artifact's source is a signed tag — never believing the
 * producer's `signature.verified`. Offline, no repository needed:
 *
 * 1. the embedded tag object hashes to the recorded `tagObject` id (git object hashing, git-object.ts);
 * 2. it is a tag object naming the recorded tag (`tag` header) and commit (`object`, `type commit`);
 * 3. the embedded commit object hashes to the recorded `commit` and names the recorded `tree`;
 * 4. its signature verifies with the consumer's trust: SSH with `ssh-keygen -Y` against their allowed
 *    signers file (signer validity at the time of verification, their revocation list;
 *    ssh-signature.ts), OpenPGP with gpg in a temporary home holding only their exported keyring,
 *    the primary key's fingerprint one they named (openpgp-signature.ts).
 *
 * What the objects cannot prove — the repository URL, that the producer's checkout was clean — stays
 * the producer's claim, and callers say so. Every outcome is a value; only the consumer's own input
 * (a trust file that is missing or unreadable) throws.
 */
import { PREDICATE_TYPE_V1, type SourceFact } from '../record/types.ts';
import { gitTimeoutMs } from './git-exec.ts';
import { gitObjectId, type ObjectFormat, objectFormatOf, parseCommitObject } from './git-object.ts';
import { gpgFailureReason, gpgSigner, normalizeKeyId } from './gpg-status.ts';
import { verifyOpenPgpSignature } from './openpgp-signature.ts';
import { sshSignatureVerdict, verifySshSignature } from './ssh-signature.ts';
import { displayBytes, parseTagObject, type SignatureFormat, type TagObject } from './tag-object.ts';

/**
 * Whom the consumer trusts to sign release tags. Paths are absolute (resolved where they were given:
 * against the current directory for flags, the file's directory for a policy file).
 */
export interface ConsumerTrust {
  /** OpenSSH allowed signers file (`principal key…` lines) for SSH-signed tags. */
  allowedSigners?: string;
  /** Revoked SSH keys (a KRL or public keys, as `ssh-keygen -r` reads them). */
  sshRevocationFile?: string;
  /** An exported OpenPGP public keyring (`gpg --export … > FILE`, binary or armored). */
  gpgKeyring?: string;
  /** Full primary-key fingerprints (40 or 64 hex, upper case) trusted to sign tags. */
  trustedGpgKeys?: string[];
  /** Where this trust came from, for reports: `flags`, a policy file path, or both. */
  source?: string;
}

export type EvidenceCheckId =
  | 'evidence'
  | 'tag-object'
  | 'tag-name'
  | 'tag-commit'
  | 'commit-object'
  | 'tree'
  | 'signature';

export interface EvidenceCheck {
  id: EvidenceCheckId;
  passed: boolean;
  detail: string;
}

/** The consumer's verdict on a record's source evidence. */
export interface SourceVerification {
  verified: boolean;
  /** One line: what verified, or the first thing that did not. */
  reason: string;
  /** How to fix a failure, naming flags and keys that exist. */
  fix?: string;
  /** The tag's signature format, read from the tag object itself (null: unsigned or no evidence). */
  format: SignatureFormat | null;
  /** Who signed, when the signature could be read: `principal (ED25519 key SHA256:…)`, `FPR (uid)`. */
  signer: string | null;
  /** The tagged commit's committer time (RFC 3339 UTC), from the embedded commit object. */
  committedAt: string | null;
  /** Whose trust judged, in words: `your trust (flags)`, `your trust (/home/you/…/policy.yaml)`. */
  trust: string | null;
  /** Every check made, in order; the last one failed when `verified` is false. */
  checks: EvidenceCheck[];
}

/** The flags and keys that supply trust, per signature format: the "how to" of a failure. */
export function trustHowTo(format: SignatureFormat | null): string {
  const where = 'in your policy file (--policy FILE, $WAYBILL_POLICY or ~/.config/waybill/policy.yaml)';
  const ssh = `--allowed-signers FILE (OpenSSH allowed_signers lines: PRINCIPAL KEY), or trust.allowedSigners ${where}`;
  const pgp = `--gpg-keyring FILE (gpg --export FINGERPRINT > FILE) with --trusted-gpg-key FINGERPRINT, or trust.gpgKeyring and trust.trustedGpgKeys ${where}`;
  if (format === 'ssh') return `give the SSH keys you trust to sign release tags: ${ssh}`;
  if (format === 'openpgp') return `give the OpenPGP key you trust to sign release tags: ${pgp}`;
  return `give the keys you trust to sign release tags: for SSH ${ssh}; for OpenPGP ${pgp}`;
}

/** The evidence is there but disagrees with the record around it: hand-edited, or assembled. */
const EDITED =
  "the record's source does not match its own evidence: it was edited or assembled by hand; do not trust it, and get the record (and its signature) its producer published";
const RESTAMP =
  're-stamp the artifact with this waybill from a checkout at its signed tag (waybill stamp ARTIFACT --source DIR): it embeds the tag and commit objects (record v2)';
const SIGNATURE_BROKEN =
  'the tag object does not carry a valid signature by that key: do not trust this artifact; ask its producer for a release tagged and stamped again';
const RESIGN = 'tag the release commit with a signed annotated tag (git tag -s vX.Y.Z) and stamp again';

interface Options {
  /** When SSH signer keys must be valid (allowed signers valid-after/valid-before); default now. */
  now?: Date;
  /** Deadline for ssh-keygen and gpg; default WAYBILL_GIT_TIMEOUT. */
  timeoutMs?: number;
}

function short(id: string): string {
  return id.slice(0, 12);
}

/** Undefined when `raw` is the git object named `id`; else one line saying it is another. */
function objectMismatch(
  type: 'tag' | 'commit',
  raw: Buffer,
  id: string,
  format: ObjectFormat,
): string | undefined {
  const actual = gitObjectId(type, raw, format);
  if (actual === id) return undefined;
  const field = type === 'tag' ? 'tagObject' : 'commit';
  return `the embedded ${type} object hashes to ${short(actual)}, not to the recorded ${field} ${short(id)}: it was replaced`;
}

/** Strict base64 → bytes (the schema checked the alphabet; this catches a record that skipped it). */
function decodeBase64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/**
 * Verifies `source` (the record's predicate.source) of a record of `predicateType` with `trust`.
 * A v1 record, or one without evidence, does not verify: its verdict is a claim nobody can check.
 */
export async function verifySourceEvidence(
  source: SourceFact,
  predicateType: string,
  trust: ConsumerTrust,
  options: Options = {},
): Promise<SourceVerification> {
  const checks: EvidenceCheck[] = [];
  let format: SignatureFormat | null = null;
  let signer: string | null = null;
  let committedAt: string | null = null;
  const verdict = (verified: boolean, reason: string, fix?: string): SourceVerification => ({
    verified,
    reason,
    ...(fix ? { fix } : {}),
    format,
    signer,
    committedAt,
    trust: trust.source ? `your trust (${trust.source})` : 'your trust',
    checks,
  });
  const pass = (id: EvidenceCheckId, detail: string) => checks.push({ id, passed: true, detail });
  const fail = (id: EvidenceCheckId, detail: string, fix: string): SourceVerification => {
    checks.push({ id, passed: false, detail });
    return verdict(false, detail, fix);
  };

  const evidence = source.evidence;
  if (predicateType === PREDICATE_TYPE_V1 || evidence === undefined) {
    return fail(
      'evidence',
      'a release record v1 carries no tag object: its "verified" is the producer’s word and cannot be re-checked',
      RESTAMP,
    );
  }
  if (evidence.rawTag === null) {
    return fail(
      'evidence',
      source.tagObject === null
        ? 'the record embeds no tag object: the source was not a signed annotated tag'
        : `the record names tag object ${short(source.tagObject)} but does not embed it`,
      RESIGN,
    );
  }

  // 1. The tag object is the one the record names.
  const tagFormat = source.tagObject === null ? undefined : objectFormatOf(source.tagObject);
  const rawTag = decodeBase64(evidence.rawTag);
  if (rawTag === undefined) return fail('tag-object', 'the embedded tag object is not valid base64', EDITED);
  if (tagFormat === undefined || source.tagObject === null) {
    return fail('tag-object', 'the record embeds a tag object but names no tag object id', EDITED);
  }
  const tagId = source.tagObject;
  const tagMismatch = objectMismatch('tag', rawTag, tagId, tagFormat);
  if (tagMismatch) return fail('tag-object', tagMismatch, EDITED);
  let tag: TagObject;
  try {
    tag = parseTagObject(rawTag.toString('latin1'), `tag object ${short(tagId)}`);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return fail('tag-object', `the embedded tag object is not a git tag: ${why}`, EDITED);
  }
  pass('tag-object', `tag object ${tagId} (${rawTag.length} bytes) hashes to the recorded id`);

  // 2. It names the recorded tag and commit. Names compare as bytes: a tag name need not be UTF-8.
  const recordedName = Buffer.from(source.tag ?? '', 'utf8').toString('latin1');
  if (source.tag === null || tag.tag !== recordedName) {
    return fail(
      'tag-name',
      `the tag object names tag '${displayBytes(tag.tag)}', the record says ${source.tag === null ? 'none' : `'${source.tag}'`}`,
      EDITED,
    );
  }
  pass('tag-name', `the tag object names tag '${source.tag}'`);
  if (tag.type !== 'commit' || source.commit === null || tag.object !== source.commit) {
    return fail(
      'tag-commit',
      `the tag object points at ${tag.type} ${short(tag.object)}, the record says commit ${source.commit === null ? 'none' : short(source.commit)}`,
      EDITED,
    );
  }
  pass('tag-commit', `the tag object points at commit ${source.commit}`);

  // 3. The commit object is that commit, and names the recorded tree.
  if (evidence.rawCommit === null) {
    return fail('commit-object', 'the record does not embed the commit object', EDITED);
  }
  const rawCommit = decodeBase64(evidence.rawCommit);
  const commitFormat = objectFormatOf(source.commit);
  if (rawCommit === undefined || commitFormat !== tagFormat) {
    return fail(
      'commit-object',
      'the embedded commit object is not valid base64 of this repository’s objects',
      EDITED,
    );
  }
  const commitId = source.commit;
  const commitMismatch = objectMismatch('commit', rawCommit, commitId, commitFormat);
  if (commitMismatch) return fail('commit-object', commitMismatch, EDITED);
  let tree: string;
  try {
    const commit = parseCommitObject(rawCommit.toString('latin1'), `commit ${short(commitId)}`);
    tree = commit.tree;
    if (commit.committerTime !== null) {
      committedAt = new Date(commit.committerTime * 1000).toISOString().replace('.000Z', 'Z');
    }
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return fail('commit-object', `the embedded commit object is not a git commit: ${why}`, EDITED);
  }
  pass('commit-object', `commit object ${commitId} hashes to the recorded id`);
  if (source.tree !== tree) {
    return fail(
      'tree',
      `the commit names tree ${short(tree)}, the record says ${source.tree ? short(source.tree) : 'none'}`,
      EDITED,
    );
  }
  pass('tree', `the commit names tree ${tree}`);

  // 4. The signature, with the consumer's trust.
  const signature = tag.signature;
  if (signature === null) return fail('signature', `tag '${source.tag}' is not signed`, RESIGN);
  format = signature.format;
  const input = `tag object ${short(tagId)}`;
  const timeoutMs = options.timeoutMs ?? gitTimeoutMs();
  const payload = Buffer.from(tag.payload, 'latin1');
  const armor = Buffer.from(signature.armor, 'latin1');
  if (signature.format === 'x509') {
    return fail(
      'signature',
      'X.509 (gpgsm) tag signatures are not supported',
      'sign the tag with an OpenPGP or SSH key (git tag -s)',
    );
  }
  if (signature.format === 'ssh') {
    if (trust.allowedSigners === undefined) {
      return fail(
        'signature',
        'the tag is SSH-signed and no SSH trust was given: nothing to verify it against',
        trustHowTo('ssh'),
      );
    }
    const revocation = trust.sshRevocationFile ?? null;
    const raw = await verifySshSignature({
      payload,
      armor,
      allowedSignersFile: trust.allowedSigners,
      revocationFile: revocation,
      verifyTime: options.now ?? new Date(),
      input,
      timeoutMs,
    });
    const ssh = sshSignatureVerdict(raw, revocation);
    signer = ssh.signer;
    if (!ssh.verified) {
      // A key you do not list (or no longer list as valid) is a trust question; a bad or revoked
      // signature is not fixed by trusting more.
      const fix =
        raw.kind === 'unknown-key' || raw.kind === 'not-valid-now'
          ? trustHowTo('ssh')
          : raw.kind === 'revoked'
            ? 'the signing key is revoked: the release must be tagged again with a current key'
            : SIGNATURE_BROKEN;
      return fail('signature', ssh.reason, fix);
    }
    pass('signature', `${ssh.reason} (${trust.allowedSigners})`);
    return verdict(true, `tag '${source.tag}' at commit ${short(source.commit)}: ${ssh.reason}`);
  }
  const keys = (trust.trustedGpgKeys ?? []).map(normalizeKeyId);
  if (trust.gpgKeyring === undefined || keys.length === 0) {
    return fail(
      'signature',
      `the tag is OpenPGP-signed and ${trust.gpgKeyring === undefined ? 'no OpenPGP keyring' : 'no trusted key fingerprint'} was given: nothing to verify it against`,
      trustHowTo('openpgp'),
    );
  }
  const outcome = await verifyOpenPgpSignature({
    payload,
    armor,
    keyringFile: trust.gpgKeyring,
    input,
    timeoutMs,
  });
  if (outcome.kind !== 'good') {
    const fix = outcome.kind === 'missing-key' ? trustHowTo('openpgp') : SIGNATURE_BROKEN;
    return fail('signature', gpgFailureReason(outcome) ?? 'gpg printed no verdict on the signature', fix);
  }
  signer = gpgSigner(outcome);
  // Only the primary key's full fingerprint names a key: long key ids and subkeys are not trust.
  if (!keys.includes(outcome.primaryFingerprint)) {
    return fail(
      'signature',
      `good OpenPGP signature by ${outcome.primaryFingerprint}, which is not one of your trusted key fingerprints`,
      trustHowTo('openpgp'),
    );
  }
  const reason = `good OpenPGP signature by trusted key ${outcome.primaryFingerprint}`;
  pass('signature', reason);
  return verdict(true, `tag '${source.tag}' at commit ${short(source.commit)}: ${reason}`);
}
