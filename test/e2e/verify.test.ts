/**
 * `waybill keygen` and `waybill verify` through the real CLI: a statement signed with a key made by
 * keygen verifies next to its artifact; one changed byte of the payload, the signature or the artifact
 * makes verify exit 1; keyless public bundles verify offline with the consumer's identity; unreadable
 * input exits 2.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { serializeBundle, signStatement } from '../../src/sign/sign-statement.ts';
import { KeyFileSigner } from '../../src/sign/signer.ts';
import {
  CONFORMANCE,
  CONFORMANCE_IDENTITY,
  CONFORMANCE_ISSUER,
  GRYPE,
  needsFixtures,
} from '../../src/sign/test-support.ts';
import { sha256Hex } from '../../src/util/digest.ts';
import { waybill, waybillJson } from '../helpers/cli.ts';
import { makeTmp, removeTmp } from '../helpers/git-fixtures.ts';

interface Report {
  passed: boolean;
  notes: string[];
  record: { found: boolean };
  trustedRoot: { description: string };
  statements: Array<{
    kind: string;
    passed: boolean;
    reason?: string;
    source: string;
    provenance?: { builderId?: string };
  }>;
}

let tmp: string;
before(async () => {
  tmp = await makeTmp('waybill-verify-');
});
after(() => removeTmp(tmp));

/** Flips one base64 character of `field` inside the bundle file, keeping it valid base64. */
function tamperBundle(
  path: string,
  pick: (bundle: {
    dsseEnvelope: { payload: string; signatures: Array<{ sig: string }> };
  }) => [object, string],
): void {
  const bundle = JSON.parse(readFileSync(path, 'utf8'));
  const [holder, key] = pick(bundle);
  const value = (holder as Record<string, string>)[key] as string;
  const at = Math.floor(value.length / 2);
  (holder as Record<string, string>)[key] =
    value.slice(0, at) + (value[at] === 'A' ? 'B' : 'A') + value.slice(at + 1);
  writeFileSync(path, JSON.stringify(bundle));
}

describe('keygen, sign, verify, tamper', () => {
  let artifact: string;
  let bundlePath: string;
  let pub: string;

  before(async () => {
    const keys = join(tmp, 'keys');
    mkdirSync(keys);
    const made = await waybill(['keygen', '--out', join(keys, 'release')], {
      env: { WAYBILL_KEY_PASSWORD: 'pw' },
    });
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /encrypted/);
    pub = join(keys, 'release.pub');
    artifact = join(tmp, 'hello-1.0.tar.gz');
    writeFileSync(artifact, 'the release bytes\n');
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'hello-1.0.tar.gz', digest: { sha256: sha256Hex(readFileSync(artifact)) } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: {
        buildDefinition: {
          buildType: 'https://waybill.dev/build/v1',
          externalParameters: {
            workflow: {
              repository: 'https://github.com/example/hello',
              ref: 'refs/tags/v1.0',
              path: 'waybill.yaml',
            },
          },
          resolvedDependencies: [
            {
              uri: 'git+https://github.com/example/hello@refs/tags/v1.0',
              digest: { gitCommit: 'c'.repeat(40) },
            },
          ],
        },
        runDetails: { builder: { id: 'https://waybill.dev/builder@v1' } },
      },
    };
    const signer = await KeyFileSigner.fromFile(join(keys, 'release.key'), 'pw');
    bundlePath = `${artifact}.provenance.sigstore.json`;
    writeFileSync(bundlePath, serializeBundle(await signStatement(statement, signer)));
  });

  test('keygen: 0600 private key, refuses to overwrite, unencrypted without a password', async () => {
    assert.equal(statSync(join(tmp, 'keys', 'release.key')).mode & 0o777, 0o600);
    const again = await waybill(['keygen', '--out', join(tmp, 'keys', 'release')]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /release.key: already exists: refusing to overwrite/);
    const plain = await waybillJson<{ encrypted: boolean; algorithm: string }>(
      ['keygen', '--out', join(tmp, 'keys', 'ed'), '--algorithm', 'ed25519'],
      { env: { WAYBILL_KEY_PASSWORD: '' } },
    );
    assert.equal(plain.code, 0);
    assert.deepEqual([plain.json.encrypted, plain.json.algorithm], [false, 'ed25519']);
    assert.match(readFileSync(join(tmp, 'keys', 'ed.key'), 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    assert.equal((await waybill(['keygen', '--algorithm', 'rsa', '--out', join(tmp, 'keys', 'x')])).code, 2);
  });

  test('the sidecar bundle verifies with the right key, with provenance policy', async () => {
    const result = await waybillJson<Report>([
      'verify',
      artifact,
      '--key',
      pub,
      '--source-uri',
      'github.com/example/hello',
      '--source-tag',
      'v1.0',
      '--builder-id',
      'https://waybill.dev/builder',
    ]);
    assert.equal(result.code, 0, JSON.stringify(result.json));
    assert.equal(result.json.passed, true);
    assert.deepEqual(
      result.json.statements.map((s) => [s.kind, s.passed]),
      [['provenance', true]],
    );
    assert.ok(result.json.notes.some((n) => /no release record found/.test(n)));
    const text = await waybill(['verify', artifact, '--key', pub]);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /✔ provenance/);
    assert.match(text.stdout, /trusted root: public-good Sigstore trusted root/);
  });

  test('policy mismatches, a wrong key and no key fail with exit 1', async () => {
    const wrongTag = await waybillJson<Report>(['verify', artifact, '--key', pub, '--source-tag', 'v2.0']);
    assert.equal(wrongTag.code, 1);
    assert.match(
      wrongTag.json.statements[0]?.reason ?? '',
      /provenance ref refs\/tags\/v1.0 is not refs\/tags\/v2.0/,
    );
    const other = join(tmp, 'keys', 'ed.pub');
    const wrongKey = await waybill(['verify', artifact, '--key', other]);
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.stdout, /does not verify with the key given/);
    const noKey = await waybill(['verify', artifact]);
    assert.equal(noKey.code, 1);
    assert.match(noKey.stdout, /give its public key with --key/);
  });

  test('one changed byte of payload, signature or artifact: exit 1', async () => {
    for (const [what, pick] of [
      ['payload', (b: { dsseEnvelope: { payload: string } }) => [b.dsseEnvelope, 'payload']],
      [
        'signature',
        (b: { dsseEnvelope: { signatures: Array<{ sig: string }> } }) => [
          b.dsseEnvelope.signatures[0],
          'sig',
        ],
      ],
    ] as const) {
      const dir = join(tmp, `tamper-${what}`);
      mkdirSync(dir);
      const copy = join(dir, 'hello-1.0.tar.gz');
      copyFileSync(artifact, copy);
      copyFileSync(bundlePath, `${copy}.provenance.sigstore.json`);
      tamperBundle(`${copy}.provenance.sigstore.json`, pick as never);
      const result = await waybill(['verify', copy, '--key', pub]);
      assert.equal(result.code, 1, `${what}: ${result.stdout}${result.stderr}`);
      assert.match(result.stdout, /signature does not verify/);
    }
    const dir = join(tmp, 'tamper-artifact');
    mkdirSync(dir);
    const copy = join(dir, 'hello-1.0.tar.gz');
    writeFileSync(copy, 'the release bytez\n');
    copyFileSync(bundlePath, `${copy}.provenance.sigstore.json`);
    const result = await waybill(['verify', copy, '--key', pub]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /subject digest does not match/);
  });

  test('unreadable input exits 2 with one line', async () => {
    const broken = join(tmp, 'broken.sigstore.json');
    writeFileSync(broken, '{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", ');
    const bad = await waybill(['verify', artifact, '--key', pub, '--bundle', broken]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^waybill: .*broken.sigstore.json: not valid JSON/);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
    assert.equal((await waybill(['verify', artifact, '--key', join(tmp, 'nope.pub')])).code, 2);
    assert.equal((await waybill(['verify', join(tmp, 'missing.tar.gz')])).code, 2);
    assert.equal((await waybill(['verify', artifact, '--certificate-identity', 'x'])).code, 2);
  });
});

describe('third-party statements', () => {
  test('keyless public bundles verify offline with the consumer identity; the wrong identity fails', {
    skip: needsFixtures(CONFORMANCE),
  }, async () => {
    const a = join(CONFORMANCE, '..', 'a.txt');
    const bundle = join(CONFORMANCE, 'happy-path-intoto-in-dsse-v3', 'bundle.sigstore.json');
    const good = await waybillJson<Report>([
      'verify',
      a,
      '--bundle',
      bundle,
      '--certificate-identity',
      CONFORMANCE_IDENTITY,
      '--certificate-oidc-issuer',
      CONFORMANCE_ISSUER,
    ]);
    assert.equal(good.code, 0, JSON.stringify(good.json));
    assert.equal(
      good.json.statements[0]?.provenance?.builderId,
      'https://github.com/loosebazooka/aa-test/.github/workflows/provenance.yaml@refs/heads/main',
    );
    const wrong = await waybill([
      'verify',
      a,
      '--bundle',
      bundle,
      '--certificate-identity-regexp',
      '^https://github.com/someone-else/',
      '--certificate-oidc-issuer',
      CONFORMANCE_ISSUER,
    ]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stdout, /does not match/);
    const rekor2 = join(CONFORMANCE, 'rekor2-dsse-happy-path');
    const custom = await waybill([
      'verify',
      join(CONFORMANCE, '..', 'a.txt'),
      '--bundle',
      join(rekor2, 'bundle.sigstore.json'),
      '--trusted-root',
      join(rekor2, 'trusted_root.json'),
      '--certificate-identity',
      CONFORMANCE_IDENTITY,
      '--certificate-oidc-issuer',
      CONFORMANCE_ISSUER,
    ]);
    assert.equal(custom.code, 0, custom.stdout + custom.stderr);
    for (const failing of [
      'inclusion-proof-corrupted-hash_fail',
      'intoto-expired-certificate_fail',
      'set-invalid-signature_fail',
    ]) {
      const dir = join(CONFORMANCE, failing);
      let artifact = join(dir, 'artifact');
      try {
        statSync(artifact);
      } catch {
        artifact = a;
      }
      const args = [
        'verify',
        artifact,
        '--bundle',
        join(dir, 'bundle.sigstore.json'),
        '--certificate-identity',
        CONFORMANCE_IDENTITY,
        '--certificate-oidc-issuer',
        CONFORMANCE_ISSUER,
      ];
      try {
        statSync(join(dir, 'trusted_root.json'));
        args.push('--trusted-root', join(dir, 'trusted_root.json'));
      } catch {
        // the public-good root
      }
      assert.equal((await waybill(args)).code, 1, failing);
    }
  });

  test('cosign attestations: right key 0, wrong key 1, tampered twin 1, broken key 2', {
    skip: needsFixtures(GRYPE),
  }, async () => {
    // The attestation's subject is an image the fixtures do not ship: a file standing in for it has
    // another digest, so the signature verdict is read from the JSON and the subject check fails.
    const stand = join(tmp, 'alpine-image');
    writeFileSync(stand, 'not the image\n');
    const run = (key: string, file: string) =>
      waybillJson<Report>(['verify', stand, '--key', join(GRYPE, key), '--bundle', join(GRYPE, file)]);
    const right = await run('cosign.pub', 'alpine.cdx.att.json');
    assert.equal(right.code, 1);
    assert.match(right.json.statements[0]?.reason ?? '', /subject digest does not match/);
    const wrong = await run('another_cosign.pub', 'alpine.cdx.att.json');
    assert.match(wrong.json.statements[0]?.reason ?? '', /does not verify with the key given/);
    const tampered = await run('cosign.pub', 'alpine-tampered.cdx.att.json');
    assert.match(tampered.json.statements[0]?.reason ?? '', /does not verify/);
    const broken = await waybill([
      'verify',
      stand,
      '--key',
      join(GRYPE, 'cosign_broken.pub'),
      '--bundle',
      join(GRYPE, 'alpine.att.json'),
    ]);
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /cosign_broken.pub: cannot read the public key/);
  });

  test('verdict lines escape control characters from the statement', async () => {
    const dir = join(tmp, 'hostile');
    mkdirSync(dir);
    const artifact = join(dir, 'x.bin');
    writeFileSync(artifact, 'x');
    const { generateKeyPair } = await import('../../src/sign/keys.ts');
    const pair = generateKeyPair('ed25519');
    writeFileSync(join(dir, 'k.pub'), pair.publicKeyPem);
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'x.bin', digest: { sha256: sha256Hex('x') } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: {
        runDetails: { builder: { id: 'evil\u001b[2J\u001b]0;owned\u0007' } },
        buildDefinition: {},
      },
    };
    writeFileSync(
      `${artifact}.provenance.sigstore.json`,
      serializeBundle(await signStatement(statement, KeyFileSigner.fromPem(pair.privateKeyPem, 'k'))),
    );
    const result = await waybill(['verify', artifact, '--key', join(dir, 'k.pub')]);
    assert.equal(result.code, 0, result.stdout);
    assert.doesNotMatch(result.stdout, /\u001b/);
    assert.match(result.stdout, /evil\\x1b\[2J\\x1b\]0;owned\\x07/);
  });
});
