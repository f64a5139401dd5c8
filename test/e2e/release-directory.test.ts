/**
 * Release directories end to end: a tarball stamped by the real CLI from a signed tag, its record
 * signed with a release key, published into a release directory with `publishToReleaseDirectory`
 * (the library `waybill publish` calls), then read back through the real CLI from a download site —
 * test/helpers/static-site.ts, node:http on 127.0.0.1 serving the directory as any static web
 * server would, the real component for a download site — and from `file://`:
 * - `inspect`, `check`, `sbom`, `verify` and `audit` work on `http://…/NAME/VERSION/FILE`;
 * - a file changed on the server makes `check` exit 2 and `verify` exit 1, naming it and both digests;
 * - `audit` finds newer releases in the release directory's index.json, and in a registry's tags
 *   (Debian's docker-registry on loopback).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { loadRecord } from '../../src/app/attachments.ts';
import { releaseBundleFor } from '../../src/publish/release-bundle.ts';
import { publishToReleaseDirectory } from '../../src/publish/release-dir.ts';
import { sampleReleaseBundle } from '../../src/publish/testing.ts';
import { openRepository } from '../../src/registry/repository.ts';
import { generateKeyPair } from '../../src/sign/keys.ts';
import { serializeBundle, signStatement } from '../../src/sign/sign-statement.ts';
import { KeyFileSigner } from '../../src/sign/signer.ts';
import { openArtifact } from '../../src/sources/open.ts';
import { buildOciLayout, buildTar } from '../../src/sources/testing.ts';
import { sha256Digest } from '../../src/util/digest.ts';
import { type CliResult, waybill, waybillJson } from '../helpers/cli.ts';
import { makeSshSigner, makeTmp, removeTmp, type SshSigner } from '../helpers/git-fixtures.ts';
import { pushLayout, startRegistry, type TestRegistry } from '../helpers/registry.ts';
import { helloStampFlags, realFiles, signedHelloRepo } from '../helpers/release-fixture.ts';
import { type StaticSite, serveDirectory } from '../helpers/static-site.ts';

const FILE = 'hello-1.2.3.tar';

let tmp: string;
let env: NodeJS.ProcessEnv;
let signer: SshSigner;
let repo: string;
let root: string;
let site: StaticSite;
let publicKey: string;
let db: string;
const keys = generateKeyPair('ed25519');

const url = (file = FILE, version = '1.2.3') => `${site.origin}/hello/${version}/${file}`;
const versionDir = () => join(root, 'hello', '1.2.3');

/** One line on stderr naming what is wrong, no stack trace. */
function oneLine(result: CliResult, code: number, pattern: RegExp): void {
  assert.equal(result.code, code, `${result.stdout}\n${result.stderr}`);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0] as string, pattern);
}

/** Runs `fn` with a published file replaced by `bytes`, restoring it after. */
async function withTampered(name: string, bytes: string, fn: () => Promise<void>): Promise<void> {
  const path = join(versionDir(), name);
  const original = readFileSync(path);
  writeFileSync(path, bytes);
  try {
    await fn();
  } finally {
    writeFileSync(path, original);
  }
}

before(async () => {
  tmp = await makeTmp('waybill-e2e-release-dir-');
  env = { XDG_CACHE_HOME: join(tmp, 'cache') };
  signer = await makeSshSigner(tmp);
  repo = await signedHelloRepo(tmp, signer);
  const work = join(tmp, 'work');
  mkdirSync(work);
  const artifact = join(work, FILE);
  // An application tarball: real package.json files of this project's dependencies, no os-release
  // (so it is no system image and its identity is the record's alone).
  const modules = new URL('../../node_modules/', import.meta.url).pathname;
  const app: Record<string, string | Buffer> = { 'hello-1.2.3/bin/hello': '#!/bin/sh\necho hello\n' };
  for (const dep of ['ajv', 'yaml', 'commander'])
    app[`hello-1.2.3/node_modules/${dep}/package.json`] = readFileSync(join(modules, dep, 'package.json'));
  writeFileSync(artifact, buildTar(app));
  const stamped = await waybill(['stamp', artifact, ...helloStampFlags(repo, signer.allowedSignersFile)], {
    env,
  });
  assert.equal(stamped.code, 0, stamped.stderr);
  // The record signed with the release key, as a sidecar bundle beside it.
  const record = (await loadRecord(await openArtifact(artifact)))?.record;
  assert.ok(record);
  const signed = await signStatement(record, KeyFileSigner.fromPem(keys.privateKeyPem, 'release.key'));
  writeFileSync(`${artifact}.record.sigstore.json`, serializeBundle(signed));
  publicKey = join(tmp, 'release.pub');
  writeFileSync(publicKey, keys.publicKeyPem);

  root = join(tmp, 'releases');
  mkdirSync(root);
  const bundle = await releaseBundleFor(artifact, { published: '2026-03-02T08:00:00Z' });
  assert.deepEqual(
    bundle.files.map((f) => [f.fileName, f.kind]),
    [
      [`${FILE}.cdx.json`, 'sbom'],
      [`${FILE}.record.sigstore.json`, 'bundle'],
      [`${FILE}.waybill.json`, 'record'],
    ],
  );
  assert.equal((await publishToReleaseDirectory(root, bundle)).changed, true);
  // A newer release of the same name, published after it.
  await publishToReleaseDirectory(root, sampleReleaseBundle(work, { version: '1.3.0' }));
  site = await serveDirectory(root);

  // An advisory database with nothing in it: freshness needs no advisories.
  db = join(tmp, 'advisories.db');
  const osv = join(tmp, 'osv');
  mkdirSync(osv);
  writeFileSync(
    join(osv, 'GHSA-test.json'),
    JSON.stringify({ id: 'GHSA-xxxx-xxxx-xxxx', modified: '2024-01-01T00:00:00Z', affected: [] }),
  );
  const imported = await waybill(['db', 'import', '--db', db, osv]);
  assert.equal(imported.code, 0, imported.stderr);
});

after(async () => {
  await site?.close();
  if (tmp) await removeTmp(tmp);
});

describe('a release directory over http', () => {
  test('sha256sum -c accepts the published version directory; publishing it again changes nothing', async () => {
    const checked = execFileSync('sha256sum', ['-c', '--strict', 'SHA256SUMS'], {
      cwd: versionDir(),
      encoding: 'utf8',
    });
    assert.equal(checked.trim().split('\n').length, 4);
    const again = await publishToReleaseDirectory(
      root,
      await releaseBundleFor(join(tmp, 'work', FILE), { published: '2026-05-01T00:00:00Z' }),
    );
    assert.equal(again.changed, false);
    assert.match(again.message, /already published .*; nothing changed$/);
  });

  test('inspect, check and sbom read the published file and its sidecars', async () => {
    const inspected = await waybillJson<{
      kind: string;
      name: string;
      version: string;
      digest: string;
      record: { location: string };
      manifest: { components: number; location: string };
    }>(['inspect', url()], { env });
    assert.equal(inspected.code, 0, inspected.stderr);
    assert.equal(inspected.json.kind, 'release');
    assert.deepEqual([inspected.json.name, inspected.json.version], ['hello', '1.2.3']);
    assert.equal(inspected.json.digest, sha256Digest(readFileSync(join(versionDir(), FILE))));
    assert.equal(inspected.json.record.location, `${url()}.waybill.json`);
    assert.ok(inspected.json.manifest.components > 0);
    const text = await waybill(['inspect', url()], { env });
    assert.match(text.stdout, new RegExp(`artifact +${url().replace(/[.]/g, '\\.')} \\(release\\)`));

    // The consumer's trust in the release signer and key: the tag and the record are verified.
    const checked = await waybillJson<{ passed: boolean; rules: Array<{ id: string; status: string }> }>(
      ['check', url(), '--allowed-signers', signer.allowedSignersFile, '--key', publicKey],
      { env },
    );
    assert.equal(checked.code, 0, JSON.stringify(checked.json.rules));
    assert.ok(
      checked.json.rules.every((r) => r.status === 'pass'),
      JSON.stringify(checked.json.rules),
    );

    // The SBOM of the download is the SBOM of the local file: same bytes, whatever URL it came from.
    const remote = await waybill(['sbom', url()], { env });
    const local = await waybill(['sbom', `file:${join(tmp, 'work', FILE)}`], { env });
    assert.equal(remote.code, 0, remote.stderr);
    assert.equal(remote.stdout, local.stdout);
    // The file was downloaded once, into the user cache under its digest and name.
    const cached = join(tmp, 'cache', 'waybill', 'releases', 'sha256', inspected.json.digest.slice(7), FILE);
    assert.deepEqual(readFileSync(cached), readFileSync(join(versionDir(), FILE)));
  });

  test('verify judges the signed record published beside it with the consumer key', async () => {
    const verified = await waybillJson<{
      passed: boolean;
      statements: Array<{ kind: string; passed: boolean; source: string }>;
    }>(['verify', url(), '--key', publicKey, '--allowed-signers', signer.allowedSignersFile], { env });
    assert.equal(verified.code, 0, JSON.stringify(verified.json));
    const record = verified.json.statements.find((s) => s.kind === 'record');
    assert.equal(record?.passed, true);
    assert.equal(record?.source, `${url()}.record.sigstore.json`);
    // Another key: the same statement fails (exit 1).
    const other = join(tmp, 'other.pub');
    writeFileSync(other, generateKeyPair('ed25519').publicKeyPem);
    assert.equal((await waybill(['verify', url(), '--key', other], { env })).code, 1);
  });

  test('a file changed on the server: check exits 2 and verify exits 1, naming it and both digests', async () => {
    const published = sha256Digest(readFileSync(join(versionDir(), FILE)));
    const trojan = 'a trojan tarball\n';
    await withTampered(FILE, trojan, async () => {
      // A fresh cache: the tampered bytes are fetched, not the copy checked earlier.
      const fresh = { XDG_CACHE_HOME: join(tmp, 'cache-tampered') };
      const message = new RegExp(`${FILE} is ${sha256Digest(trojan)}, but SHA256SUMS says ${published}`);
      oneLine(await waybill(['check', url()], { env: fresh }), 2, message);
      oneLine(await waybill(['inspect', url()], { env: fresh }), 2, message);
      oneLine(await waybill(['sbom', url()], { env: fresh }), 2, message);
      const verified = await waybillJson<{
        passed: boolean;
        statements: Array<{ kind: string; reason: string }>;
      }>(['verify', url(), '--key', publicKey], { env: fresh });
      assert.equal(verified.code, 1);
      assert.equal(verified.json.statements[0]?.kind, 'integrity');
      assert.match(verified.json.statements[0]?.reason ?? '', message);
    });
    await withTampered(`${FILE}.record.sigstore.json`, '{}', async () => {
      oneLine(
        await waybill(['check', url()], { env }),
        2,
        /hello-1\.2\.3\.tar\.record\.sigstore\.json is sha256:[0-9a-f]{64}, but SHA256SUMS says sha256:[0-9a-f]{64}/,
      );
    });
  });

  test('audit finds the newer release in the release directory index.json', async () => {
    const audited = await waybillJson<{
      subject: { name: string; version: string };
      freshness: { newerRelease?: { source: string; newer: string[]; latest: string } };
    }>(['audit', url(), '--db', db, '--now', '2026-06-01T00:00:00Z'], { env });
    assert.equal(audited.code, 0, audited.stderr);
    assert.deepEqual(audited.json.freshness.newerRelease, {
      source: `${site.origin}/hello/index.json`,
      newer: ['1.3.0'],
      latest: '1.3.0',
      scheme: 'semver',
    });
    // The newest one has nothing newer; an index given by URL works the same.
    const latest = await waybillJson<{ freshness: { newerRelease?: { newer: string[] } } }>(
      ['audit', url('hello-1.3.0.tar', '1.3.0'), '--db', db, '--releases', `${site.origin}/hello/index.json`],
      { env },
    );
    assert.equal(latest.code, 0, latest.stderr);
    assert.deepEqual(latest.json.freshness.newerRelease?.newer, []);
  });

  test('file:// reads the local release directory the same way', async () => {
    const ref = pathToFileURL(join(versionDir(), FILE)).href;
    const inspected = await waybillJson<{ kind: string; record: { location: string } }>(['inspect', ref], {
      env,
    });
    assert.equal(inspected.code, 0, inspected.stderr);
    assert.equal(inspected.json.kind, 'release');
    assert.equal(inspected.json.record.location, `${join(versionDir(), FILE)}.waybill.json`);
    const verified = await waybill(
      ['verify', ref, '--key', publicKey, '--allowed-signers', signer.allowedSignersFile],
      {
        env,
      },
    );
    assert.equal(verified.code, 0, verified.stdout);
    // A published release is read, never changed in place.
    oneLine(await waybill(['stamp', ref, '--quiet'], { env }), 2, /is not changed in place/);
  });

  test('bad release URLs: one line, exit 2', async () => {
    oneLine(
      await waybill(['inspect', `http://example.org/hello/1.2.3/${FILE}`], { env }),
      2,
      /plain http to a host that is not loopback; refused/,
    );
    oneLine(
      await waybill(['inspect', `${site.origin}/hello/1.2.3/nothing.tar`], { env }),
      2,
      /nothing\.tar is not listed in SHA256SUMS/,
    );
    oneLine(
      await waybill(['check', `${site.origin}/hello/9.9.9/${FILE}`], { env }),
      2,
      /SHA256SUMS is missing/,
    );
  });
});

describe('audit freshness from a registry', () => {
  let registry: TestRegistry | undefined;
  after(async () => registry?.stop());

  test('an image tagged 1.2.3 in a repository that also has 1.3.0 (and latest): 1.3.0 is newer', async (t) => {
    const started = await startRegistry();
    if ('skip' in started) return t.skip(started.skip);
    registry = started;
    const layout = join(tmp, 'layout');
    await buildOciLayout(layout, [realFiles()], { tag: 'latest' });
    const stamped = join(tmp, 'stamped');
    cpSync(layout, stamped, { recursive: true });
    const result = await waybill(
      ['stamp', `oci:${stamped}:latest`, ...helloStampFlags(repo, signer.allowedSignersFile)],
      {
        env,
      },
    );
    assert.equal(result.code, 0, result.stderr);
    const ref = registry.ref('hello:1.2.3');
    await pushLayout(stamped, 'latest', ref, { insecure: true });
    const repository = openRepository(ref, { insecure: true });
    const manifest = await repository.getManifest('1.2.3');
    for (const tag of ['1.3.0', 'latest'])
      await repository.putManifest(tag, manifest.bytes, manifest.descriptor.mediaType);

    const audited = await waybillJson<{
      subject: { version: string };
      freshness: { newerRelease?: { source: string; newer: string[]; latest: string } };
    }>(['audit', ref, '--insecure', '--db', db], { env });
    assert.equal(audited.code, 0, audited.stderr);
    assert.equal(audited.json.subject.version, '1.2.3');
    assert.deepEqual(audited.json.freshness.newerRelease, {
      source: `docker://${registry.host}/hello (tags)`,
      newer: ['1.3.0'],
      latest: '1.3.0',
      scheme: 'semver',
    });
  });
});
