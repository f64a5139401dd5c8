/**
 * verifyArtifact with a release record next to the artifact: unsigned it fails unless
 * --allow-unsigned; signed it verifies; a sidecar edited after signing fails record-match; an OCI
 * layout's attached bundle is found and judged against the image digest. A record also gets a
 * `source` verdict (its evidence re-verified) and a `check` verdict (the rules): the sample record's
 * evidence is made up, so those fail here; test/e2e/evidence.test.ts verifies real evidence.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildRecord } from '../record/build.ts';
import { sampleRecordInput } from '../record/sample-input.ts';
import { writeSidecar } from '../record/sidecar.ts';
import { generateKeyPair } from '../sign/keys.ts';
import { serializeBundle, signStatement } from '../sign/sign-statement.ts';
import { KeyFileSigner } from '../sign/signer.ts';
import { openArtifact } from '../sources/open.ts';
import { buildOciLayout } from '../sources/testing.ts';
import { sha256Hex } from '../util/digest.ts';
import { saveStatementBundle } from './attachments.ts';
import { verifyArtifact } from './verify.ts';

const dir = mkdtempSync(join(tmpdir(), 'waybill-verify-app-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const pair = generateKeyPair('ed25519');
const signer = KeyFileSigner.fromPem(pair.privateKeyPem, 'release.key');
const pub = join(dir, 'release.pub');
writeFileSync(pub, pair.publicKeyPem);

function recordFor(name: string, sha256: string) {
  const input = sampleRecordInput();
  input.subject = [{ name, digest: { sha256 } }];
  return buildRecord(input);
}

test('an unsigned record fails verify unless --allow-unsigned', async () => {
  const artifact = join(dir, 'unsigned.tar.gz');
  writeFileSync(artifact, 'bytes');
  await writeSidecar(artifact, recordFor('unsigned.tar.gz', sha256Hex('bytes')));
  const strict = await verifyArtifact(artifact, { keys: [pub] });
  assert.equal(strict.passed, false);
  assert.equal(strict.record.found, true);
  assert.match(verdict(strict, 'record').reason ?? '', /release record is not signed/);
  const lenient = await verifyArtifact(artifact, { keys: [pub], allowUnsigned: true });
  assert.equal(verdict(lenient, 'record').passed, true);
  // Accepting an unsigned record does not accept its evidence: the made-up tag object fails.
  assert.equal(lenient.passed, false);
  assert.match(
    verdict(lenient, 'source').reason ?? '',
    /hashes to [0-9a-f]{12}, not to the recorded tagObject/,
  );
  assert.equal(verdict(lenient, 'check').passed, false);
  assert.equal(lenient.check?.rules.find((r) => r.id === 'signed-source')?.status, 'fail');
});

function verdict(report: Awaited<ReturnType<typeof verifyArtifact>>, kind: string) {
  const found = report.statements.find((s) => s.kind === kind);
  assert.ok(found, `no ${kind} verdict in ${JSON.stringify(report.statements.map((s) => s.kind))}`);
  return found;
}

test('a signed record verifies; the sidecar edited after signing does not', async () => {
  const artifact = join(dir, 'signed.tar.gz');
  writeFileSync(artifact, 'signed bytes');
  const record = recordFor('signed.tar.gz', sha256Hex('signed bytes'));
  await writeSidecar(artifact, record);
  const opened = await openArtifact(artifact);
  const where = await saveStatementBundle(
    opened,
    'record',
    record.predicateType,
    serializeBundle(await signStatement(record, signer)),
  );
  assert.equal(where, `${artifact}.record.sigstore.json`);
  const good = await verifyArtifact(artifact, { keys: [pub] });
  assert.equal(verdict(good, 'record').passed, true, JSON.stringify(good.statements));
  assert.deepEqual(
    verdict(good, 'record').checks.map((c) => c.id),
    ['signature', 'subject', 'record-match'],
  );
  const edited = JSON.parse(readFileSync(`${artifact}.waybill.json`, 'utf8'));
  edited.predicate.team.name = 'Someone Else';
  writeFileSync(`${artifact}.waybill.json`, JSON.stringify(edited));
  const bad = await verifyArtifact(artifact, { keys: [pub] });
  assert.equal(bad.passed, false);
  assert.match(
    verdict(bad, 'record').reason ?? '',
    /differs from the signed record: it was edited after signing/,
  );
  // check sees the same: the record's signature does not sign this record.
  assert.match(
    JSON.stringify(bad.check?.rules.find((r) => r.id === 'signed-source')?.findings),
    /record's signature does not verify: .*edited after signing/,
  );
});

test('an OCI layout: the bundle is attached to the image and matched with its manifest digest', async () => {
  const layout = join(dir, 'layout');
  await buildOciLayout(layout, [{ 'etc/hello': 'hi\n' }], { tag: 'v1' });
  const image = await openArtifact(`oci:${layout}:v1`);
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'hello', digest: { sha256: image.digest.slice('sha256:'.length) } }],
    predicateType: 'https://cyclonedx.org/bom',
    predicate: { bomFormat: 'CycloneDX', specVersion: '1.6' },
  };
  const where = await saveStatementBundle(
    image,
    'sbom',
    statement.predicateType,
    serializeBundle(await signStatement(statement, signer)),
  );
  assert.match(where, /^oci:sha256:/);
  const report = await verifyArtifact(`oci:${layout}:v1`, { keys: [pub] });
  assert.equal(report.passed, true, JSON.stringify(report.statements));
  assert.equal(report.statements[0]?.kind, 'sbom');
  assert.match(report.statements[0]?.source ?? '', /attached bundle/);
});

test('a plain statement copy beside its signed bundle must be the signed statement', async () => {
  const { storeStatement } = await import('../provenance/statement-store.ts');
  const artifact = join(dir, 'copied.tar.gz');
  writeFileSync(artifact, 'copied bytes');
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'copied.tar.gz', digest: { sha256: sha256Hex('copied bytes') } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: { buildType: 'https://waybill.dev/build/v1', externalParameters: {} },
      runDetails: { builder: { id: 'https://waybill.dev/builder/local' } },
    },
  };
  const stored = await storeStatement({ path: artifact, kind: 'file' }, 'provenance', statement, signer);
  assert.equal(stored.bundle, `${artifact}.provenance.sigstore.json`);
  const good = await verifyArtifact(artifact, { keys: [pub] });
  assert.equal(good.passed, true, JSON.stringify(good.statements));
  assert.ok(verdict(good, 'provenance').checks.some((c) => c.id === 'copy-match' && c.passed));

  const edited = JSON.parse(readFileSync(stored.path, 'utf8'));
  edited.predicate.runDetails.builder.id = 'https://evil.example/builder';
  writeFileSync(stored.path, JSON.stringify(edited));
  const bad = await verifyArtifact(artifact, { keys: [pub] });
  assert.equal(bad.passed, false);
  assert.match(
    verdict(bad, 'provenance').reason ?? '',
    /differs from the signed statement: it was edited after signing/,
  );

  writeFileSync(stored.path, '{"_type": ');
  const broken = await verifyArtifact(artifact, { keys: [pub] });
  assert.equal(broken.passed, false);
  assert.match(
    verdict(broken, 'provenance').reason ?? '',
    /copied\.tar\.gz\.provenance\.json is unreadable: not valid JSON/,
  );

  // Written again without a key: the bundle signing the old copy goes, and nothing stale is judged.
  await storeStatement({ path: artifact, kind: 'file' }, 'provenance', edited);
  assert.throws(() => readFileSync(`${artifact}.provenance.sigstore.json`), { code: 'ENOENT' });
});

test('a signed rebuild verdict says what it reports: reproduced or NOT', async () => {
  const artifact = join(dir, 'rebuilt.tar.gz');
  writeFileSync(artifact, 'rebuilt bytes');
  const verdictOf = (reproduced: boolean) => ({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'rebuilt.tar.gz', digest: { sha256: sha256Hex('rebuilt bytes') } }],
    predicateType: 'https://waybill.dev/rebuild/v1',
    predicate: {
      reproduced,
      reason: reproduced ? 'every output reproduced' : 'not reproduced: rebuilt.tar.gz',
    },
  });
  const opened = await openArtifact(artifact);
  for (const reproduced of [true, false]) {
    const statement = verdictOf(reproduced);
    await saveStatementBundle(
      opened,
      'rebuild',
      statement.predicateType,
      serializeBundle(await signStatement(statement, signer)),
    );
    const report = await verifyArtifact(artifact, { keys: [pub] });
    const outcome = verdict(report, 'rebuild').checks.find((c) => c.id === 'rebuild-outcome');
    assert.ok(outcome, JSON.stringify(report.statements));
    assert.match(
      outcome.detail,
      reproduced
        ? /reproduced every output bit for bit/
        : /did NOT reproduce the outputs: not reproduced: rebuilt\.tar\.gz/,
    );
  }
});

test('a release directory: the published plain copy of a signed statement is checked against SHA256SUMS', async () => {
  const { publishToReleaseDirectory } = await import('../publish/release-dir.ts');
  const { sampleReleaseBundle } = await import('../publish/testing.ts');
  const { mkdirSync } = await import('node:fs');
  const work = join(dir, 'release-work');
  const root = join(dir, 'releases');
  mkdirSync(work, { recursive: true });
  mkdirSync(root, { recursive: true });
  const content = 'the hello 1.2.3 release\n';
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'hello-1.2.3.tar', digest: { sha256: sha256Hex(content) } }],
    predicateType: 'https://waybill.dev/rebuild/v1',
    predicate: { reproduced: true, reason: 'every output reproduced' },
  };
  const copy = Buffer.from(`${JSON.stringify(statement, null, 2)}\n`);
  const bundle = Buffer.from(serializeBundle(await signStatement(statement, signer)));
  await publishToReleaseDirectory(
    root,
    sampleReleaseBundle(work, {
      content,
      extra: [
        { fileName: 'hello-1.2.3.tar.rebuild.json', bytes: copy, kind: 'rebuild' },
        { fileName: 'hello-1.2.3.tar.rebuild.sigstore.json', bytes: bundle, kind: 'bundle' },
      ],
    }),
  );
  const ref = `file://${root}/hello/1.2.3/hello-1.2.3.tar`;
  const good = await verifyArtifact(ref, { keys: [pub], allowUnsigned: true });
  assert.ok(
    verdict(good, 'rebuild').checks.some((c) => c.id === 'copy-match' && c.passed),
    JSON.stringify(good.statements),
  );
  // One byte changed in the published copy: SHA256SUMS no longer lists it.
  const published = join(root, 'hello', '1.2.3', 'hello-1.2.3.tar.rebuild.json');
  writeFileSync(published, readFileSync(published, 'utf8').replace('every output', 'every Output'));
  const bad = await verifyArtifact(ref, { keys: [pub], allowUnsigned: true });
  assert.equal(bad.passed, false);
  assert.match(
    verdict(bad, 'integrity').reason ?? '',
    /hello-1\.2\.3\.tar\.rebuild\.json is sha256:[0-9a-f]{64}, but SHA256SUMS says sha256:[0-9a-f]{64}/,
  );
});
