/**
 * Evidence instead of verdicts, through the real CLI, with real repositories, real SSH and OpenPGP
 * keys and signed tags:
 * - `stamp --key` writes a release record v2 carrying the raw tag and commit objects, and signs it
 *   and an SBOM attestation; `check` and `verify` with the consumer's trust re-verify the tag from
 *   that evidence and pass; without trust, or with someone else's, signed-source fails and says how
 *   to give trust;
 * - a hand-edited record (the producer's verdict flipped on an unsigned tag, another signed tag's
 *   object swapped in, the commit or the tag name changed) fails signed-source, and verify exits 1;
 *   a tampered record bundle fails verify; `requireSignatures` fails an unsigned record; a v1 record
 *   is read and judged;
 * - the statements are in-toto Statement v1 (the framework's checks, tested against its vectors,
 *   and only the fields its protos define), the bundles valid against the official Sigstore Bundle
 *   schema and verified by @sigstore/verify on its own.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkStatement } from '../../src/record/intoto.ts';
import {
  BUNDLE_SCHEMAS,
  bundleValidator,
  independentVerify,
  needsFixtures,
} from '../../src/sign/test-support.ts';
import { buildOciLayout, buildTar } from '../../src/sources/testing.ts';
import { type CliResult, waybill, waybillJson } from '../helpers/cli.ts';
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
  unsignedAnnotatedTag,
} from '../helpers/git-fixtures.ts';
import { statementProtoProblem } from '../helpers/intoto-vectors.ts';

interface Rule {
  id: string;
  status: string;
  findings: Array<{ message: string; path: string; fix?: string; severity: string }>;
}
interface CheckReport {
  passed: boolean;
  rules: Rule[];
}
interface Verdict {
  kind: string;
  passed: boolean;
  reason?: string;
  fix?: string;
  source: string;
  claims?: string[];
}
interface VerifyReport {
  passed: boolean;
  statements: Verdict[];
  source?: { verified: boolean; reason: string; signer: string | null; committedAt: string | null };
  check?: CheckReport;
}
interface SignedBundle {
  mediaType: string;
  dsseEnvelope: { payload: string; payloadType: string; signatures: Array<{ sig: string }> };
}

let tmp: string;
let ssh: SshSigner;
let mallory: SshSigner;
let gpg: GpgSigner;
let otherGpg: GpgSigner;
let sshRepo: string;
let gpgRepo: string;
let keyring: string;
let otherKeyring: string;
let releaseKey: string;
let releasePub: string;
let otherPub: string;

const STAMP = [
  '--name',
  'hello',
  '--version',
  '1.2.3',
  '--team',
  'Example Release Team',
  '--bug-tracker',
  'https://bugs.example.org/hello',
  '--quiet',
];

let count = 0;
/** A fresh tarball in a directory of its own (sidecars are named after it). */
function tarball(name = 'hello-1.2.3.tar'): string {
  count += 1;
  const dir = join(tmp, `a${count}`);
  mkdirSync(dir);
  const path = join(dir, name);
  writeFileSync(path, buildTar({ 'hello/README': `hello ${count}\n`, 'hello/bin/hello': '#!/bin/sh\n' }));
  return path;
}

async function stamp(artifact: string, extra: string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
  const r = await waybill(['stamp', artifact, ...STAMP, ...extra], { env });
  assert.equal(r.code, 0, `stamp: ${r.stdout}${r.stderr}`);
}

/** stamp's flags for the SSH-signed checkout, trusting its signer. */
const fromSshRepo = () => ['--source', sshRepo, '--allowed-signers', ssh.allowedSignersFile];
const sshTrust = () => ['--allowed-signers', ssh.allowedSignersFile];
const gpgTrust = () => ['--gpg-keyring', keyring, '--trusted-gpg-key', gpg.fingerprint];

function rule(report: CheckReport, id: string): Rule {
  const found = report.rules.find((r) => r.id === id);
  assert.ok(found, id);
  return found;
}

function signedSourceError(report: CheckReport): { message: string; path: string; fix?: string } {
  const r = rule(report, 'signed-source');
  assert.equal(r.status, 'fail', JSON.stringify(r, null, 1));
  const error = r.findings.find((f) => f.severity === 'error');
  assert.ok(error, JSON.stringify(r, null, 1));
  return error;
}

function verdict(report: VerifyReport, kind: string): Verdict {
  const found = report.statements.find((s) => s.kind === kind);
  assert.ok(found, `no ${kind} verdict: ${JSON.stringify(report.statements.map((s) => s.kind))}`);
  return found;
}

function bundleAt(path: string): SignedBundle {
  return JSON.parse(readFileSync(path, 'utf8')) as SignedBundle;
}

function payloadOf(bundle: SignedBundle): Record<string, unknown> {
  return JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
}

/** A copy of a stamped tarball with its SBOM and (edited) record, and no record bundle. */
/** The parts of a record the edits below change. */
interface EditableRecord {
  predicateType: string;
  predicate: {
    source: {
      tag: string;
      commit: string;
      tree?: string;
      tagObject: string;
      signature: unknown;
      evidence?: { rawTag: string; rawCommit: string };
    };
  };
}

function editedCopy(artifact: string, edit: (record: EditableRecord) => void): string {
  const copy = tarball();
  copyFileSync(artifact, copy);
  copyFileSync(`${artifact}.cdx.json`, `${copy}.cdx.json`);
  const record = JSON.parse(readFileSync(`${artifact}.waybill.json`, 'utf8')) as EditableRecord;
  edit(record);
  writeFileSync(`${copy}.waybill.json`, JSON.stringify(record, null, 2));
  return copy;
}

before(async () => {
  tmp = await makeTmp('waybill-evidence-e2e-');
  [ssh, mallory, gpg, otherGpg] = await Promise.all([
    makeSshSigner(tmp),
    makeSshSigner(tmp, 'mallory@waybill.invalid', 'mallory'),
    makeGpgSigner(tmp),
    makeGpgSigner(tmp, 'Other <other@waybill.invalid>', 'other-gnupg'),
  ]);
  sshRepo = await makeRepo(
    tmp,
    { 'build.sh': 'echo\n' },
    { name: 'ssh-repo', origin: 'https://git.example.org/hello.git' },
  );
  await signedTag(sshRepo, 'v1.2.3', ssh);
  gpgRepo = await makeRepo(
    tmp,
    { 'build.sh': 'echo gpg\n' },
    { name: 'gpg-repo', origin: 'https://git.example.org/hello.git' },
  );
  await signedTag(gpgRepo, 'v1.2.3', gpg);
  keyring = await exportGpgPublicKey(gpg, join(tmp, 'release-keys.gpg'));
  otherKeyring = await exportGpgPublicKey(otherGpg, join(tmp, 'other-keys.asc'), { armor: true });
  const keys = join(tmp, 'keys');
  mkdirSync(keys);
  for (const name of ['release', 'other']) {
    const made = await waybill(['keygen', '--out', join(keys, name)]);
    assert.equal(made.code, 0, made.stderr);
  }
  releaseKey = join(keys, 'release.key');
  releasePub = join(keys, 'release.pub');
  otherPub = join(keys, 'other.pub');
});
after(() => removeTmp(tmp));

describe('an SSH-signed tag, stamped with --key', () => {
  let artifact: string;
  before(async () => {
    artifact = tarball();
    await stamp(artifact, [...fromSshRepo(), '--key', releaseKey]);
  });

  test('the record is v2 and carries the tag and commit objects; stamp wrote both bundles', () => {
    const record = JSON.parse(readFileSync(`${artifact}.waybill.json`, 'utf8'));
    assert.equal(record.predicateType, 'https://waybill.dev/release-record/v2');
    const source = record.predicate.source;
    assert.match(source.tree, /^[0-9a-f]{40}$/);
    const rawTag = Buffer.from(source.evidence.rawTag, 'base64').toString('latin1');
    assert.match(rawTag, new RegExp(`^object ${source.commit}\ntype commit\ntag v1\\.2\\.3\n`));
    assert.match(rawTag, /-----BEGIN SSH SIGNATURE-----/);
    assert.match(
      Buffer.from(source.evidence.rawCommit, 'base64').toString('latin1'),
      new RegExp(`^tree ${source.tree}\n`),
    );
    assert.ok(existsSync(`${artifact}.record.sigstore.json`));
    assert.ok(existsSync(`${artifact}.sbom.sigstore.json`));
  });

  test('check and verify with the consumer’s trust and key pass; inspect shows the claim and the verdict', async () => {
    const [check, verify, inspect] = await Promise.all([
      waybillJson<CheckReport>(['check', artifact, ...sshTrust(), '--key', releasePub]),
      waybillJson<VerifyReport>(['verify', artifact, ...sshTrust(), '--key', releasePub]),
      waybill(['inspect', artifact, ...sshTrust()]),
    ]);
    assert.equal(check.code, 0, JSON.stringify(check.json, null, 1));
    const pass = rule(check.json, 'signed-source');
    assert.equal(pass.status, 'pass');
    assert.match(
      pass.findings[0]!.message,
      /^tag v1\.2\.3 at [0-9a-f]{40}, signed \(ssh\) by release@waybill\.invalid .*: verified by your trust \(flags\)$/,
    );
    assert.ok(pass.findings.some((f) => /producer's claim/.test(f.message)));
    assert.ok(
      pass.findings.some((f) =>
        /the release record is signed: .*record\.sigstore\.json, signed by .*release\.pub/.test(f.message),
      ),
    );

    assert.equal(verify.code, 0, JSON.stringify(verify.json, null, 1));
    assert.deepEqual(verify.json.statements.map((s) => [s.kind, s.passed]).sort(), [
      ['check', true],
      ['integrity', true],
      ['record', true],
      ['sbom', true],
      ['source', true],
    ]);
    assert.equal(verify.json.source?.committedAt, '2024-01-02T03:04:05Z');
    assert.ok(
      verdict(verify.json, 'source').claims?.some((c) =>
        /repository https:\/\/git\.example\.org\/hello\.git/.test(c),
      ),
    );

    assert.equal(inspect.code, 0, inspect.stderr);
    assert.match(
      inspect.stdout,
      /^ {2}signature {4}producer's claim: verified, ssh signer release@waybill\.invalid/m,
    );
    assert.match(
      inspect.stdout,
      /^ {2}your check {3}verified by your trust \(flags\), ssh signer release@waybill\.invalid/m,
    );
    const untrusted = await waybill(['inspect', artifact]);
    assert.match(
      untrusted.stdout,
      /^ {2}your check {3}not checked: no trust given \(.*--allowed-signers FILE/m,
    );
  });

  test('no trust: signed-source fails and names the flags and keys that give it; verify exits 1', async () => {
    const [check, verify] = await Promise.all([
      waybillJson<CheckReport>(['check', artifact]),
      waybillJson<VerifyReport>(['verify', artifact, '--key', releasePub]),
    ]);
    assert.equal(check.code, 1);
    const error = signedSourceError(check.json);
    assert.match(error.message, /SSH-signed and no SSH trust was given/);
    assert.match(
      error.fix ?? '',
      /--allowed-signers FILE .*trust\.allowedSigners in your policy file \(--policy FILE, \$WAYBILL_POLICY/,
    );
    assert.equal(verify.code, 1);
    assert.equal(verdict(verify.json, 'source').passed, false);
    assert.match(verdict(verify.json, 'source').fix ?? '', /--allowed-signers FILE/);
    // The text output says it too, and the trust given in the consumer's own policy file works.
    const text = await waybill(['check', artifact]);
    assert.match(
      text.stdout,
      /fix: give the SSH keys you trust to sign release tags: --allowed-signers FILE/,
    );
    const policy = join(tmp, 'consumer-policy.yaml');
    writeFileSync(policy, `trust:\n  allowedSigners: ${ssh.allowedSignersFile}\n`);
    const byPolicy = await waybill(['check', artifact], { env: { WAYBILL_POLICY: policy } });
    assert.equal(byPolicy.code, 0, byPolicy.stdout);
  });

  test('someone else’s allowed signers: fails; a missing trust file is bad input (exit 2)', async () => {
    const wrong = await waybillJson<CheckReport>([
      'check',
      artifact,
      '--allowed-signers',
      mallory.allowedSignersFile,
    ]);
    assert.equal(wrong.code, 1);
    assert.match(
      signedSourceError(wrong.json).message,
      /SSH signature is valid but key SHA256:\S+ is not in the allowed signers file/,
    );
    const verify = await waybill([
      'verify',
      artifact,
      '--key',
      releasePub,
      '--allowed-signers',
      mallory.allowedSignersFile,
    ]);
    assert.equal(verify.code, 1);
    const missing = await waybill(['check', artifact, '--allowed-signers', join(tmp, 'nope')]);
    assert.equal(missing.code, 2, missing.stdout);
    assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  });

  test('the statements are in-toto Statement v1; the bundles match the official schema and @sigstore/verify alone accepts them', {
    skip: needsFixtures(BUNDLE_SCHEMAS),
  }, () => {
    const validate = bundleValidator();
    const pem = readFileSync(releasePub, 'utf8');
    const digest = JSON.parse(readFileSync(`${artifact}.waybill.json`, 'utf8')).subject[0].digest.sha256;
    for (const [kind, predicateType] of [
      ['record', 'https://waybill.dev/release-record/v2'],
      ['sbom', 'https://cyclonedx.org/bom'],
    ]) {
      const raw = bundleAt(`${artifact}.${kind}.sigstore.json`);
      assert.ok(validate(structuredClone(raw)), `${kind}: ${JSON.stringify(validate.errors)}`);
      assert.equal(raw.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
      independentVerify(raw, pem);
      assert.throws(() => independentVerify(raw, readFileSync(otherPub, 'utf8')), /signature/);
      const statement = payloadOf(raw);
      assert.equal(checkStatement(statement), undefined, kind);
      assert.equal(statementProtoProblem(statement), undefined, kind);
      assert.equal(statement.predicateType, predicateType);
      assert.equal((statement.subject as Array<{ digest: { sha256: string } }>)[0]?.digest.sha256, digest);
    }
    // The signed record is the sidecar, and the SBOM attestation's predicate is the published SBOM.
    assert.deepEqual(
      payloadOf(bundleAt(`${artifact}.record.sigstore.json`)),
      JSON.parse(readFileSync(`${artifact}.waybill.json`, 'utf8')),
    );
    assert.deepEqual(
      payloadOf(bundleAt(`${artifact}.sbom.sigstore.json`)).predicate,
      JSON.parse(readFileSync(`${artifact}.cdx.json`, 'utf8')),
    );
  });

  test('a record bundle tampered with (a signature byte, a payload byte, another key): verify 1, check fails', async () => {
    for (const how of ['signature', 'payload', 'key'] as const) {
      const copy = tarball();
      copyFileSync(artifact, copy);
      for (const suffix of ['.cdx.json', '.waybill.json', '.sbom.sigstore.json'])
        copyFileSync(`${artifact}${suffix}`, `${copy}${suffix}`);
      const bundle = bundleAt(`${artifact}.record.sigstore.json`);
      if (how === 'signature') {
        const sig = bundle.dsseEnvelope.signatures[0]!;
        sig.sig = `${sig.sig.slice(0, 10)}${sig.sig[10] === 'A' ? 'B' : 'A'}${sig.sig.slice(11)}`;
      } else if (how === 'payload') {
        const record = payloadOf(bundle) as { predicate: { team: { name: string } } };
        record.predicate.team.name = 'Someone Else';
        bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(record)).toString('base64');
      }
      writeFileSync(`${copy}.record.sigstore.json`, JSON.stringify(bundle));
      const pub = how === 'key' ? otherPub : releasePub;
      const [verify, check] = await Promise.all([
        waybillJson<VerifyReport>(['verify', copy, ...sshTrust(), '--key', pub]),
        waybillJson<CheckReport>(['check', copy, ...sshTrust(), '--key', pub]),
      ]);
      assert.equal(verify.code, 1, `${how}: ${JSON.stringify(verify.json, null, 1)}`);
      assert.match(verdict(verify.json, 'record').reason ?? '', /signature does not verify/);
      assert.equal(check.code, 1, how);
      assert.match(signedSourceError(check.json).message, /record's signature does not verify/);
    }
  });

  test('requireSignatures: an unsigned record fails; a signed one passes with the key, fails without', async () => {
    const policy = join(tmp, 'require.yaml');
    writeFileSync(policy, `requireSignatures: true\ntrust:\n  allowedSigners: ${ssh.allowedSignersFile}\n`);
    const unsignedArtifact = tarball();
    await stamp(unsignedArtifact, fromSshRepo());
    assert.equal(existsSync(`${unsignedArtifact}.record.sigstore.json`), false);
    const [unsigned, signed, noKey, relaxed] = await Promise.all([
      waybillJson<CheckReport>(['check', unsignedArtifact, '--policy', policy]),
      waybillJson<CheckReport>(['check', artifact, '--policy', policy, '--key', releasePub]),
      waybillJson<CheckReport>(['check', artifact, '--policy', policy]),
      waybillJson<CheckReport>(['check', unsignedArtifact, ...sshTrust()]),
    ]);
    assert.equal(unsigned.code, 1);
    const error = signedSourceError(unsigned.json);
    assert.match(error.message, /not signed, and your policy requires signatures/);
    assert.match(error.fix ?? '', /--key FILE or WAYBILL_KEY/);
    assert.equal(signed.code, 0, JSON.stringify(signed.json, null, 1));
    assert.equal(noKey.code, 1);
    assert.match(signedSourceError(noKey.json).message, /signed but its signature was not checked/);
    assert.equal(relaxed.code, 0, 'not required, not signed: the source alone decides');
    // verify: an unsigned record fails unless --allow-unsigned.
    const strict = await waybillJson<VerifyReport>(['verify', unsignedArtifact, ...sshTrust()]);
    assert.equal(strict.code, 1);
    assert.match(verdict(strict.json, 'record').reason ?? '', /not signed/);
    assert.equal((await waybill(['verify', unsignedArtifact, ...sshTrust(), '--allow-unsigned'])).code, 0);
  });

  test('stamped again without a key: the earlier signatures are removed, not left beside a new record', async () => {
    const again = tarball();
    await stamp(again, [...fromSshRepo(), '--key', releaseKey]);
    assert.ok(existsSync(`${again}.record.sigstore.json`));
    await stamp(again, [...fromSshRepo(), '--team', 'Renamed Team']);
    assert.equal(existsSync(`${again}.record.sigstore.json`), false);
    assert.equal(existsSync(`${again}.sbom.sigstore.json`), false);
  });
});

describe('an OpenPGP-signed tag: a temporary GnuPG home holding the consumer’s exported keyring', () => {
  let artifact: string;
  before(async () => {
    artifact = tarball();
    await stamp(artifact, ['--source', gpgRepo, '--trusted-gpg-key', gpg.fingerprint, '--key', releaseKey], {
      GNUPGHOME: gpg.gnupgHome,
    });
  });

  test('check and verify with --gpg-keyring and --trusted-gpg-key pass (the user’s own GnuPG home is not used)', async () => {
    // GNUPGHOME points at an empty home: waybill must not need (or touch) it.
    const empty = join(tmp, 'empty-gnupg');
    mkdirSync(empty, { mode: 0o700 });
    const env = { GNUPGHOME: empty };
    const [check, verify] = await Promise.all([
      waybillJson<CheckReport>(['check', artifact, ...gpgTrust(), '--key', releasePub], { env }),
      waybillJson<VerifyReport>(['verify', artifact, ...gpgTrust(), '--key', releasePub], { env }),
    ]);
    assert.equal(check.code, 0, JSON.stringify(check.json, null, 1));
    assert.match(
      rule(check.json, 'signed-source').findings[0]!.message,
      new RegExp(`signed \\(openpgp\\) by ${gpg.fingerprint} \\(Release Signer`),
    );
    assert.equal(verify.code, 0, JSON.stringify(verify.json, null, 1));
    assert.deepEqual(
      await import('node:fs').then((fs) => fs.readdirSync(empty)),
      [],
      'nothing written to GNUPGHOME',
    );
  });

  test('no keyring, a keyring without the key, another fingerprint: fails with the how-to', async () => {
    const cases: Array<[string[], RegExp, RegExp]> = [
      [
        [],
        /OpenPGP-signed and no OpenPGP keyring was given/,
        /--gpg-keyring FILE \(gpg --export FINGERPRINT > FILE\) with --trusted-gpg-key FINGERPRINT/,
      ],
      [
        ['--gpg-keyring', otherKeyring, '--trusted-gpg-key', gpg.fingerprint],
        /public key is not in the keyring/,
        /--gpg-keyring FILE/,
      ],
      [
        ['--gpg-keyring', keyring, '--trusted-gpg-key', otherGpg.fingerprint],
        /which is not one of your trusted key fingerprints/,
        /--trusted-gpg-key FINGERPRINT/,
      ],
    ];
    for (const [flags, message, fix] of cases) {
      const check = await waybillJson<CheckReport>(['check', artifact, ...flags]);
      assert.equal(check.code, 1);
      const error = signedSourceError(check.json);
      assert.match(error.message, message);
      assert.match(error.fix ?? '', fix);
      assert.equal((await waybill(['verify', artifact, '--key', releasePub, ...flags])).code, 1);
    }
    // A key id is not a fingerprint: refused as bad usage.
    const short = await waybill([
      'check',
      artifact,
      '--gpg-keyring',
      keyring,
      '--trusted-gpg-key',
      gpg.fingerprint.slice(-16),
    ]);
    assert.equal(short.code, 2);
    assert.match(short.stderr, /--trusted-gpg-key: .* is not a full OpenPGP key fingerprint/);
  });
});

describe('hand-edited records: check fails signed-source, verify exits 1', () => {
  let artifact: string;
  let later: string;
  let unsigned: string;
  before(async () => {
    artifact = tarball();
    await stamp(artifact, fromSshRepo());
    // Another release of the same project, signed by the same key: its tag object is genuine.
    const laterRepo = await makeRepo(tmp, { 'build.sh': 'echo\n' }, { name: 'later-repo' });
    await commitFiles(laterRepo, { NEWS: 'two\n' });
    await signedTag(laterRepo, 'v2.0.0', ssh);
    later = tarball();
    await stamp(later, ['--source', laterRepo, '--allowed-signers', ssh.allowedSignersFile]);
    const unsignedRepo = await makeRepo(tmp, { 'build.sh': 'echo\n' }, { name: 'unsigned-repo' });
    await unsignedAnnotatedTag(unsignedRepo, 'v1.2.3');
    unsigned = tarball();
    await stamp(unsigned, ['--source', unsignedRepo, '--allowed-signers', ssh.allowedSignersFile]);
  });

  async function assertForged(copy: string, message: RegExp, path: RegExp): Promise<void> {
    const [check, verify, text]: [
      { code: number; json: CheckReport },
      { code: number; json: VerifyReport },
      CliResult,
    ] = await Promise.all([
      waybillJson<CheckReport>(['check', copy, ...sshTrust()]),
      waybillJson<VerifyReport>(['verify', copy, ...sshTrust(), '--allow-unsigned']),
      waybill(['verify', copy, ...sshTrust(), '--allow-unsigned']),
    ]);
    assert.equal(check.code, 1, JSON.stringify(check.json, null, 1));
    const error = signedSourceError(check.json);
    assert.match(error.message, message);
    assert.match(error.path, path);
    assert.match(error.fix ?? '', /do not trust it/);
    assert.equal(verify.code, 1);
    assert.match(verdict(verify.json, 'source').reason ?? '', message);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /^✘ source /m);
  }

  test('the producer’s verdict flipped to verified on an unsigned tag’s record', async () => {
    const copy = editedCopy(unsigned, (r) => {
      r.predicate.source.signature = {
        verified: true,
        format: 'ssh',
        signer: 'release@waybill.invalid',
        reason: 'good SSH signature',
      };
    });
    const check = await waybillJson<CheckReport>(['check', copy, ...sshTrust()]);
    assert.equal(check.code, 1);
    assert.match(signedSourceError(check.json).message, /tag 'v1\.2\.3' is not signed/);
    assert.equal((await waybill(['verify', copy, ...sshTrust(), '--allow-unsigned'])).code, 1);
  });

  test('the tag object swapped for another signed tag’s (with its id)', async () => {
    const other = JSON.parse(readFileSync(`${later}.waybill.json`, 'utf8')).predicate.source;
    const copy = editedCopy(artifact, (r) => {
      r.predicate.source.evidence = { ...r.predicate.source.evidence!, rawTag: other.evidence.rawTag };
      r.predicate.source.tagObject = other.tagObject;
    });
    await assertForged(
      copy,
      /the tag object names tag 'v2\.0\.0', the record says 'v1\.2\.3'/,
      /source\/tag$/,
    );
  });

  test('the commit changed', async () => {
    const copy = editedCopy(artifact, (r) => {
      r.predicate.source.commit = 'f'.repeat(40);
    });
    await assertForged(
      copy,
      /the tag object points at commit [0-9a-f]{12}, the record says commit ffffffffffff/,
      /source\/commit$/,
    );
  });

  test('the tag name changed', async () => {
    const copy = editedCopy(artifact, (r) => {
      r.predicate.source.tag = 'v9.9.9';
    });
    await assertForged(
      copy,
      /the tag object names tag 'v1\.2\.3', the record says 'v9\.9\.9'/,
      /source\/tag$/,
    );
  });
});

test('a v1 record is read and judged: its source cannot pass on its own word, the other rules still run', async () => {
  const artifact = tarball();
  await stamp(artifact, fromSshRepo());
  const copy = editedCopy(artifact, (r) => {
    r.predicateType = 'https://waybill.dev/release-record/v1';
    delete r.predicate.source.tree;
    delete r.predicate.source.evidence;
  });
  const check = await waybillJson<CheckReport>(['check', copy, ...sshTrust()]);
  assert.equal(check.code, 1);
  assert.deepEqual(
    check.json.rules.filter((r) => r.status === 'fail').map((r) => r.id),
    ['signed-source'],
  );
  const error = signedSourceError(check.json);
  assert.match(
    error.message,
    /a release record v1 carries no tag object: its "verified" is the producer’s word and cannot be re-checked/,
  );
  assert.match(
    error.fix ?? '',
    /re-stamp the artifact with this waybill .*waybill stamp ARTIFACT --source DIR/,
  );
  const verify = await waybillJson<VerifyReport>(['verify', copy, ...sshTrust(), '--allow-unsigned']);
  assert.equal(verify.code, 1);
  assert.match(verdict(verify.json, 'source').reason ?? '', /release record v1/);
  const inspect = await waybill(['inspect', copy, ...sshTrust()]);
  assert.equal(inspect.code, 0, inspect.stderr);
  assert.match(inspect.stdout, /your check +NOT verified by your trust \(flags\): a release record v1/);
});

test('an OCI layout: the bundles are attached to the image, verify finds them; a keyless re-stamp detaches them', async () => {
  const layout = join(tmp, 'layout');
  await buildOciLayout(layout, [{ 'etc/hello': 'hi\n' }], { tag: 'v1' });
  const ref = `oci:${layout}:v1`;
  await stamp(ref, [...fromSshRepo(), '--key', releaseKey]);
  const verify = await waybillJson<VerifyReport>(['verify', ref, ...sshTrust(), '--key', releasePub]);
  assert.equal(verify.code, 0, JSON.stringify(verify.json, null, 1));
  assert.match(verdict(verify.json, 'record').source, /attached bundle/);
  assert.match(verdict(verify.json, 'sbom').source, /attached bundle/);
  const check = await waybill(['check', ref, ...sshTrust(), '--key', releasePub]);
  assert.equal(check.code, 0, check.stdout);
  await stamp(ref, [...fromSshRepo(), '--team', 'Renamed Team']);
  const unsigned = await waybillJson<VerifyReport>(['verify', ref, ...sshTrust(), '--key', releasePub]);
  assert.equal(unsigned.code, 1);
  assert.match(verdict(unsigned.json, 'record').reason ?? '', /not signed/);
  assert.equal(
    unsigned.json.statements.some((s) => s.kind === 'sbom'),
    false,
    'no stale SBOM attestation',
  );
});
