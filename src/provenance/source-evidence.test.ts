/**
 * verifySourceEvidence with real repositories, real SSH and OpenPGP keys and signed tags: the
 * evidence stamp records verifies with the consumer's own trust, and fails — with the reason and a
 * fix naming real flags — without trust, with someone else's trust, and for every hand edit of the
 * record (tag name, commit, tree, tag object swapped or altered, commit object swapped, a v1 record).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  commitFiles,
  exportGpgPublicKey,
  type GpgSigner,
  makeGpgSigner,
  makeRepo,
  makeSshSigner,
  makeTmp,
  removeTmp,
  type SshSigner,
  signedTag,
  tamperTagMessage,
  unsignedAnnotatedTag,
} from '../../test/helpers/git-fixtures.ts';
import { WaybillError } from '../errors.ts';
import { PREDICATE_TYPE, PREDICATE_TYPE_V1, type SourceFact } from '../record/types.ts';
import { verifySourceTag } from './git-tag.ts';
import { type ConsumerTrust, verifySourceEvidence } from './source-evidence.ts';

let tmp: string;
let ssh: SshSigner;
let otherSsh: SshSigner;
let gpg: GpgSigner;
let otherGpg: GpgSigner;
let sshFact: SourceFact;
let gpgFact: SourceFact;
/** A second signed tag (another name, another commit) in the SSH repository. */
let laterFact: SourceFact;
let keyring: string;
let otherKeyring: string;

before(async () => {
  tmp = await makeTmp('waybill-evidence-');
  [ssh, otherSsh, gpg, otherGpg] = await Promise.all([
    makeSshSigner(tmp),
    makeSshSigner(tmp, 'mallory@waybill.invalid', 'other-ssh'),
    makeGpgSigner(tmp),
    makeGpgSigner(tmp, 'Other <other@waybill.invalid>', 'other-gnupg'),
  ]);
  const sshRepo = await makeRepo(
    tmp,
    { 'a.txt': 'a\n' },
    { name: 'ssh-repo', origin: 'https://example.org/a.git' },
  );
  await signedTag(sshRepo, 'v1.0.0', ssh);
  sshFact = await verifySourceTag(sshRepo, { allowedSignersFile: ssh.allowedSignersFile });
  assert.equal(sshFact.signature.verified, true, sshFact.signature.reason);
  await commitFiles(sshRepo, { 'b.txt': 'b\n' });
  await signedTag(sshRepo, 'v2.0.0', ssh);
  laterFact = await verifySourceTag(sshRepo, { allowedSignersFile: ssh.allowedSignersFile });
  const gpgRepo = await makeRepo(tmp, { 'g.txt': 'g\n' }, { name: 'gpg-repo' });
  await signedTag(gpgRepo, 'v3.1.4', gpg);
  gpgFact = await verifySourceTag(gpgRepo, { gnupgHome: gpg.gnupgHome, trustedGpgKeys: [gpg.fingerprint] });
  assert.equal(gpgFact.signature.verified, true, gpgFact.signature.reason);
  keyring = await exportGpgPublicKey(gpg, path.join(tmp, 'release.gpg'));
  otherKeyring = await exportGpgPublicKey(otherGpg, path.join(tmp, 'other.asc'), { armor: true });
});
after(() => removeTmp(tmp));

const sshTrust = (): ConsumerTrust => ({ allowedSigners: ssh.allowedSignersFile, source: 'test' });
const gpgTrust = (): ConsumerTrust => ({
  gpgKeyring: keyring,
  trustedGpgKeys: [gpg.fingerprint],
  source: 'test',
});

function edited(fact: SourceFact, change: Partial<SourceFact>): SourceFact {
  return structuredClone({ ...fact, ...change });
}

describe('good evidence, the consumer’s trust', () => {
  test('SSH: verifies, names the signer, the commit time and every check', async () => {
    const v = await verifySourceEvidence(sshFact, PREDICATE_TYPE, sshTrust());
    assert.equal(v.verified, true, v.reason);
    assert.equal(v.format, 'ssh');
    assert.match(v.signer ?? '', /^release@waybill\.invalid \(ED25519 key SHA256:/);
    assert.equal(v.committedAt, '2024-01-02T03:04:05Z');
    assert.deepEqual(
      v.checks.map((c) => [c.id, c.passed]),
      [
        ['tag-object', true],
        ['tag-name', true],
        ['tag-commit', true],
        ['commit-object', true],
        ['tree', true],
        ['signature', true],
      ],
    );
    assert.match(
      v.reason,
      /^tag 'v1\.0\.0' at commit [0-9a-f]{12}: good SSH signature by allowed signer release@waybill\.invalid$/,
    );
  });

  test('OpenPGP: a binary or armored exported keyring and the primary fingerprint', async () => {
    const v = await verifySourceEvidence(gpgFact, PREDICATE_TYPE, gpgTrust());
    assert.equal(v.verified, true, v.reason);
    assert.equal(v.format, 'openpgp');
    assert.match(v.signer ?? '', new RegExp(`^${gpg.fingerprint} \\(Release Signer`));
    const armored = await exportGpgPublicKey(gpg, path.join(tmp, 'release.asc'), { armor: true });
    // Fingerprints as gpg prints them (groups of four, lower case) name the same key.
    const spaced = gpg.fingerprint
      .toLowerCase()
      .replace(/(.{4})/g, '$1 ')
      .trim();
    const w = await verifySourceEvidence(gpgFact, PREDICATE_TYPE, {
      gpgKeyring: armored,
      trustedGpgKeys: [spaced],
    });
    assert.equal(w.verified, true, w.reason);
  });
});

describe('no trust, the wrong trust', () => {
  test('no trust at all: fails and says which flags and keys give it', async () => {
    const s = await verifySourceEvidence(sshFact, PREDICATE_TYPE, {});
    assert.equal(s.verified, false);
    assert.match(s.reason, /SSH-signed and no SSH trust was given/);
    assert.match(s.fix ?? '', /--allowed-signers FILE .*trust\.allowedSigners/);
    const g = await verifySourceEvidence(gpgFact, PREDICATE_TYPE, {});
    assert.match(g.reason, /OpenPGP-signed and no OpenPGP keyring was given/);
    assert.match(
      g.fix ?? '',
      /--gpg-keyring FILE .*--trusted-gpg-key FINGERPRINT.*trust\.gpgKeyring and trust\.trustedGpgKeys/,
    );
    const noFpr = await verifySourceEvidence(gpgFact, PREDICATE_TYPE, { gpgKeyring: keyring });
    assert.match(noFpr.reason, /no trusted key fingerprint was given/);
  });

  test('someone else’s allowed signers, keyring or fingerprint: fails', async () => {
    const s = await verifySourceEvidence(sshFact, PREDICATE_TYPE, {
      allowedSigners: otherSsh.allowedSignersFile,
    });
    assert.equal(s.verified, false);
    assert.match(s.reason, /not in the allowed signers file/);
    assert.match(s.signer ?? '', /^ED25519 key SHA256:/);
    const k = await verifySourceEvidence(gpgFact, PREDICATE_TYPE, {
      gpgKeyring: otherKeyring,
      trustedGpgKeys: [gpg.fingerprint],
    });
    assert.match(k.reason, /public key is not in the keyring/);
    const f = await verifySourceEvidence(gpgFact, PREDICATE_TYPE, {
      gpgKeyring: keyring,
      trustedGpgKeys: [otherGpg.fingerprint],
    });
    assert.match(
      f.reason,
      /good OpenPGP signature by [0-9A-F]{40}, which is not one of your trusted key fingerprints/,
    );
    // A long key id is not a fingerprint: it names no key here.
    const longId = await verifySourceEvidence(gpgFact, PREDICATE_TYPE, {
      gpgKeyring: keyring,
      trustedGpgKeys: [gpg.fingerprint.slice(-16)],
    });
    assert.equal(longId.verified, false);
  });

  test('the consumer’s own unusable trust files are errors (exit 2), not verdicts', async () => {
    await assert.rejects(
      verifySourceEvidence(gpgFact, PREDICATE_TYPE, {
        gpgKeyring: path.join(tmp, 'nope.gpg'),
        trustedGpgKeys: [gpg.fingerprint],
      }),
      (e: unknown) => e instanceof WaybillError && e.code === 'NOT_FOUND',
    );
    const junk = path.join(tmp, 'junk.gpg');
    await writeFile(junk, 'not a keyring\n');
    await assert.rejects(
      verifySourceEvidence(gpgFact, PREDICATE_TYPE, { gpgKeyring: junk, trustedGpgKeys: [gpg.fingerprint] }),
      /junk\.gpg: holds no OpenPGP public key gpg can import/,
    );
  });
});

describe('hand-edited records', () => {
  const failsAt = async (
    fact: SourceFact,
    id: string,
    reason: RegExp,
    predicateType: string = PREDICATE_TYPE,
  ) => {
    const v = await verifySourceEvidence(fact, predicateType, sshTrust());
    assert.equal(v.verified, false, `${id}: ${v.reason}`);
    assert.equal(v.checks.at(-1)?.id, id);
    assert.match(v.reason, reason);
    assert.ok(v.fix, 'a failure says how to fix it');
  };

  test('the tag name, the commit or the tree changed', async () => {
    await failsAt(
      edited(sshFact, { tag: 'v9.9.9' }),
      'tag-name',
      /names tag 'v1\.0\.0', the record says 'v9\.9\.9'/,
    );
    await failsAt(
      edited(sshFact, { commit: 'f'.repeat(40) }),
      'tag-commit',
      /points at commit [0-9a-f]{12}, the record says commit ffffffffffff/,
    );
    await failsAt(edited(sshFact, { tree: 'e'.repeat(40) }), 'tree', /the record says eeeeeeeeeeee/);
  });

  test('the tag object swapped for another signed tag’s (with or without its id)', async () => {
    const other = laterFact.evidence!;
    await failsAt(
      edited(sshFact, { evidence: { ...sshFact.evidence!, rawTag: other.rawTag } }),
      'tag-object',
      /hashes to [0-9a-f]{12}, not to the recorded tagObject/,
    );
    await failsAt(
      edited(sshFact, {
        tagObject: laterFact.tagObject,
        evidence: { ...sshFact.evidence!, rawTag: other.rawTag },
      }),
      'tag-name',
      /names tag 'v2\.0\.0', the record says 'v1\.0\.0'/,
    );
    // Renamed consistently, the other tag points at another commit than the record's.
    await failsAt(
      edited(sshFact, {
        tag: 'v2.0.0',
        tagObject: laterFact.tagObject,
        evidence: { ...sshFact.evidence!, rawTag: other.rawTag },
      }),
      'tag-commit',
      /points at commit/,
    );
    // Every source field taken from the other tag describes that tag truthfully: it verifies (the
    // record's signature, not the evidence, binds a source to the artifact).
    const v = await verifySourceEvidence(laterFact, PREDICATE_TYPE, sshTrust());
    assert.equal(v.verified, true, v.reason);
  });

  test('the commit object swapped; bytes that are not base64', async () => {
    await failsAt(
      edited(sshFact, { evidence: { ...sshFact.evidence!, rawCommit: laterFact.evidence!.rawCommit } }),
      'commit-object',
      /hashes to [0-9a-f]{12}, not to the recorded commit/,
    );
    await failsAt(
      edited(sshFact, { evidence: { ...sshFact.evidence!, rawCommit: null } }),
      'commit-object',
      /does not embed/,
    );
    await failsAt(
      edited(sshFact, { evidence: { ...sshFact.evidence!, rawTag: 'b2JqZWN0=x' } }),
      'tag-object',
      /not valid base64/,
    );
  });

  test('a tag object altered after signing, its id and the record made consistent: bad signature', async () => {
    const repo = await makeRepo(tmp, { 'x.txt': 'x\n' }, { name: 'forged' });
    await signedTag(repo, 'v1.0.0', ssh);
    await tamperTagMessage(repo, 'v1.0.0', 'a different release\n');
    const forged = await verifySourceTag(repo, { allowedSignersFile: ssh.allowedSignersFile });
    // The producer's own verification caught it; a forger flips the verdict by hand.
    assert.equal(forged.signature.verified, false);
    const flipped = edited(forged, { signature: { ...forged.signature, verified: true, reason: 'good' } });
    await failsAt(flipped, 'signature', /bad SSH signature/);
  });

  test('an unsigned tag with "verified: true" typed in; no tag at all; a v1 record', async () => {
    const repo = await makeRepo(tmp, { 'u.txt': 'u\n' }, { name: 'unsigned' });
    await unsignedAnnotatedTag(repo, 'v0.1.0');
    const unsigned = await verifySourceTag(repo, { allowedSignersFile: ssh.allowedSignersFile });
    const flipped = edited(unsigned, {
      signature: { verified: true, format: 'ssh', signer: 'x', reason: 'good' },
    });
    await failsAt(flipped, 'signature', /tag 'v0\.1\.0' is not signed/);
    await failsAt(
      edited(sshFact, { tagObject: null, evidence: { rawTag: null, rawCommit: null } }),
      'evidence',
      /embeds no tag object/,
    );
    const { tree: _t, evidence: _e, ...v1 } = sshFact;
    await failsAt(v1, 'evidence', /release record v1 carries no tag object/, PREDICATE_TYPE_V1);
  });
});

test('the example record in docs/record.md carries evidence that verifies with the key it shows', async () => {
  const docs = new URL('../../docs/record.md', import.meta.url);
  const text = await import('node:fs/promises').then((fs) => fs.readFile(docs, 'utf8'));
  const example = JSON.parse(/```json\n([\s\S]*?)\n```/.exec(text)![1]!) as {
    predicateType: string;
    predicate: { source: SourceFact };
  };
  const line = /^release-team@example\.org ssh-ed25519 \S+$/m.exec(text)![0];
  const signers = path.join(tmp, 'docs_allowed_signers');
  await writeFile(signers, `${line}\n`);
  const v = await verifySourceEvidence(example.predicate.source, example.predicateType, {
    allowedSigners: signers,
  });
  assert.equal(v.verified, true, v.reason);
  assert.equal(v.signer, example.predicate.source.signature.signer);
});
