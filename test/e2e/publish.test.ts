/**
 * `publish` and `copy` through the real CLI against a real registry (Debian's docker-registry 2.8 on
 * loopback, which has no referrers API, so the referrers tag schema is what is exercised) and skopeo
 * as the independent client:
 * - a stamped image published with a key: skopeo sees the labels and annotations, the referrers tag
 *   holds the record, SBOM, publication statement and bundles; `verify docker://…` passes, `check`
 *   and `inspect` show the publish date; a second publish changes nothing; a tampered attachment
 *   fails `verify`;
 * - a registry killed mid-push leaves no tag, and the next publish resumes and completes;
 * - a Debian package published as an OCI artifact, read back by every consumer command;
 * - `copy` between registry, layout and archive keeps every attachment; what skopeo pushed is read;
 * - a failing check refuses (exit 1) and `--force` names the failures; `requireSignatures` without
 *   a key refuses (exit 2); bad references and hostile registries: one line, exit 2, nothing tagged.
 */
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { loadRecord } from '../../src/app/attachments.ts';
import { publishArtifact } from '../../src/app/publish.ts';
import { ARTIFACT_TYPE, type Descriptor, MEDIA_TYPE, OCI_ANNOTATION } from '../../src/oci/types.ts';
import { BUILT_IN_POLICY } from '../../src/policy/types.ts';
import { buildSection, makeProject, TARBALL_COMMANDS } from '../../src/provenance/build/testing.ts';
import { PUBLICATION_ARTIFACT_TYPE, publicationProblem } from '../../src/publish/publication.ts';
import { BlobCache } from '../../src/registry/blob-cache.ts';
import { referrersTag } from '../../src/registry/referrers.ts';
import { openRepository } from '../../src/registry/repository.ts';
import { reply, startTestServer, type TestServer } from '../../src/registry/test-server.ts';
import { BUNDLE_MEDIA_TYPE } from '../../src/sign/bundle-files.ts';
import { generateKeyPair } from '../../src/sign/keys.ts';
import { openArtifact } from '../../src/sources/open.ts';
import { buildOciLayout, buildTar } from '../../src/sources/testing.ts';
import { sha256Digest } from '../../src/util/digest.ts';
import { buildPackages } from '../fixtures/build-packages.ts';
import { type CliResult, waybill, waybillJson } from '../helpers/cli.ts';
import { makeSshSigner, makeTmp, removeTmp, type SshSigner } from '../helpers/git-fixtures.ts';
import {
  hasSkopeo,
  isolatedRegistryEnv,
  pushNewerRecord,
  skopeo,
  startRegistry,
  type TestRegistry,
} from '../helpers/registry.ts';
import { helloStampFlags, realFiles, signedHelloRepo } from '../helpers/release-fixture.ts';

const DSA = fileURLToPath(new URL('../../../shared/fixtures/osv/distro-osv-samples/full', import.meta.url));
let tmp: string;
let env: NodeJS.ProcessEnv;
let registry: TestRegistry | undefined;
let skip: string | undefined;
let signer: SshSigner;
let signedRepo: string;
let layout: string;
let keyFile: string;
let publicKey: string;
const servers: TestServer[] = [];
const ALL_OFF = Object.fromEntries(
  ['identity', 'manifest', 'dates', 'signed-source', 'team', 'help', 'support'].map((id) => [
    id,
    'off' as const,
  ]),
);

interface PublishJson {
  check?: unknown;
  status: string;
  message: string;
  digest: string;
  reference: string;
  published: string;
  forced: Array<{ rule: string; message: string }>;
  signed: string[];
  resumed: boolean;
  transfer?: { blobs: { uploaded: number; existing: number } };
}

/** One line on stderr, exit 2, no stack trace. */
function assertOneLine(result: CliResult, pattern: RegExp): void {
  assert.equal(result.code, 2, `${result.stdout}\n${result.stderr}`);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0] as string, pattern);
  assert.doesNotMatch(result.stderr, /^\s+at /m);
}

/** A freshly stamped copy of the fixture layout (`latest`), signed-source passing. */
async function stampedLayout(name: string): Promise<string> {
  const dir = join(tmp, name);
  cpSync(layout, dir, { recursive: true });
  const stamped = await waybill(
    ['stamp', `oci:${dir}:latest`, ...helloStampFlags(signedRepo, signer.allowedSignersFile)],
    { env },
  );
  assert.equal(stamped.code, 0, stamped.stderr);
  return dir;
}

/** The publisher's trust in its release tag, which publish's check re-verifies (the stamp used it too). */
function tagTrust(): string[] {
  return ['--allowed-signers', signer.allowedSignersFile];
}

function referrersIndex(host: string, repo: string, digest: string): { manifests: Descriptor[] } {
  return JSON.parse(
    skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${host}/${repo}:${referrersTag(digest)}`]),
  ) as { manifests: Descriptor[] };
}

before(async () => {
  tmp = await makeTmp('waybill-e2e-publish-');
  env = isolatedRegistryEnv(tmp);
  const started = await startRegistry();
  if ('skip' in started) skip = started.skip;
  else registry = started;
  if (!hasSkopeo()) skip ??= 'skopeo is not installed';
  signer = await makeSshSigner(tmp);
  signedRepo = await signedHelloRepo(tmp, signer);
  // ECDSA: a fresh random signature every time, so a second publish that signed again would show.
  const keys = generateKeyPair('ecdsa-p256');
  keyFile = join(tmp, 'release.key');
  publicKey = join(tmp, 'release.pub');
  writeFileSync(keyFile, keys.privateKeyPem, { mode: 0o600 });
  writeFileSync(publicKey, keys.publicKeyPem);
  layout = join(tmp, 'layout');
  await buildOciLayout(layout, [realFiles()], { tag: 'latest' });
});

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await registry?.stop();
  if (tmp) await removeTmp(tmp);
});

describe('publish an image to a registry', () => {
  let dir: string;
  let ref: string;
  let first: PublishJson;

  test('publish: tag last, labels and annotations for skopeo, every attachment in the referrers tag', async (t) => {
    if (skip) return t.skip(skip);
    const host = (registry as TestRegistry).host;
    dir = await stampedLayout('image');
    const result = await waybillJson<PublishJson>(
      [
        'publish',
        ...tagTrust(),
        `oci:${dir}:latest`,
        `docker://${host}/hello`,
        '--insecure',
        '--key',
        keyFile,
        '--format',
        'json',
      ],
      { env },
    );
    assert.equal(result.code, 0, result.stderr);
    first = result.json;
    assert.equal(first.status, 'published');
    // No tag given: the record's version is the tag.
    ref = `docker://${host}/hello:1.2.3`;
    assert.equal(first.reference, `docker://${host}/hello@${first.digest}`);
    assert.deepEqual(first.forced, []);
    assert.deepEqual(first.signed.map((s) => s.split(' ')[0]).sort(), ['publication', 'record']);

    const inspected = JSON.parse(skopeo(['inspect', '--tls-verify=false', ref])) as {
      Digest: string;
      Labels: Record<string, string>;
    };
    assert.equal(inspected.Digest, first.digest);
    assert.equal(inspected.Labels['org.opencontainers.image.version'], '1.2.3');
    assert.equal(inspected.Labels['org.opencontainers.image.vendor'], 'Example Release Team');
    const raw = JSON.parse(skopeo(['inspect', '--raw', '--tls-verify=false', ref])) as {
      annotations: Record<string, string>;
    };
    assert.equal(raw.annotations['org.opencontainers.image.licenses'], 'Apache-2.0');

    const index = referrersIndex(host, 'hello', first.digest);
    const types = index.manifests.map((d) => d.artifactType).sort();
    assert.deepEqual(
      types,
      [
        ARTIFACT_TYPE.cyclonedx,
        ARTIFACT_TYPE.record,
        BUNDLE_MEDIA_TYPE,
        BUNDLE_MEDIA_TYPE,
        PUBLICATION_ARTIFACT_TYPE,
      ].sort(),
    );
    // The publication statement is a valid one, about this image, at this target.
    const repo = openRepository(ref, { insecure: true });
    const publicationManifest = index.manifests.find(
      (d) => d.artifactType === PUBLICATION_ARTIFACT_TYPE,
    ) as Descriptor;
    const manifest = JSON.parse((await repo.getManifest(publicationManifest.digest)).bytes.toString()) as {
      layers: Descriptor[];
    };
    const statement = JSON.parse(
      (await repo.readBlob(manifest.layers[0] as Descriptor, 1 << 20)).toString(),
    ) as {
      subject: Array<{ digest: { sha256: string } }>;
      predicate: { target: string; published: string };
    };
    assert.equal(publicationProblem(statement), undefined);
    assert.equal(statement.subject[0]?.digest.sha256, first.digest.slice(7));
    assert.equal(statement.predicate.target, ref);
    assert.equal(statement.predicate.published, first.published);
  });

  test('verify, check and inspect read it from the registry; the publish date shows', async (t) => {
    if (skip || !first) return t.skip(skip ?? 'needs the publish test');
    const verified = await waybillJson<{
      passed: boolean;
      statements: Array<{ kind: string; passed: boolean }>;
    }>(['verify', ...tagTrust(), ref, '--insecure', '--key', publicKey], { env });
    assert.equal(verified.code, 0, JSON.stringify(verified.json, null, 2));
    // The integrity verdict (every blob hashed), the signed record and the signed publication
    // statement, the source tag re-verified with the consumer's trust, and check's rules.
    assert.deepEqual(verified.json.statements.map((s) => s.kind).sort(), [
      'check',
      'integrity',
      'publication',
      'record',
      'source',
    ]);

    const checked = await waybillJson<{
      passed: boolean;
      rules: Array<{ id: string; findings: Array<{ message: string; path: string }> }>;
    }>(['check', ...tagTrust(), ref, '--insecure', '--published'], { env });
    assert.equal(checked.code, 0, JSON.stringify(checked.json, null, 2));
    const dates = checked.json.rules.find((r) => r.id === 'dates');
    const published = dates?.findings.find((f) => f.message.startsWith('published'));
    assert.equal(published?.message, `published ${first.published} (publication statement, ${ref})`);
    const text = await waybill(['check', ...tagTrust(), ref, '--insecure'], { env });
    assert.match(text.stdout, new RegExp(`published ${first.published}`));

    const view = await waybillJson<{ published: string; publication: { target: string } }>(
      ['inspect', ref, '--insecure'],
      { env },
    );
    assert.equal(view.json.published, first.published);
    assert.equal(view.json.publication.target, ref);
    const shown = await waybill(['inspect', ref, '--insecure'], { env });
    assert.match(shown.stdout, new RegExp(`published\\s+${first.published}`));

    // audit reads the image and its SBOM from the registry too.
    if (existsSync(DSA)) {
      const db = join(tmp, 'advisories.db');
      assert.equal((await waybill(['db', 'import', '--db', db, DSA], { env })).code, 0);
      const audited = await waybillJson<{ subject: { digest: string; sbom: { source: string } } }>(
        ['audit', ref, '--insecure', '--db', db],
        { env },
      );
      assert.equal(audited.code, 0, audited.stderr);
      assert.equal(audited.json.subject.digest, first.digest);
      assert.equal(audited.json.subject.sbom.source, 'record');
    }
  });

  test('publishing the same digest again changes nothing and says so', async (t) => {
    if (skip || !first) return t.skip(skip ?? 'needs the publish test');
    const host = (registry as TestRegistry).host;
    const before = referrersIndex(host, 'hello', first.digest);
    const again = await waybillJson<PublishJson>(
      [
        'publish',
        ...tagTrust(),
        `oci:${dir}:latest`,
        `docker://${host}/hello`,
        '--insecure',
        '--key',
        keyFile,
      ],
      { env },
    );
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json.status, 'unchanged');
    assert.equal(again.json.published, first.published);
    assert.deepEqual(again.json.signed, []);
    assert.match(again.json.message, /nothing done/);
    assert.deepEqual(referrersIndex(host, 'hello', first.digest), before);
    const text = await waybill(
      [
        'publish',
        ...tagTrust(),
        `oci:${dir}:latest`,
        `docker://${host}/hello`,
        '--insecure',
        '--key',
        keyFile,
      ],
      {
        env,
      },
    );
    assert.match(text.stdout, /^already published at .* nothing done$/m);
  });

  test('a tampered attachment fails verify', async (t) => {
    if (skip || !first) return t.skip(skip ?? 'needs the publish test');
    // A newer record, edited after signing, pushed next to the signed one: it is the record read.
    const record = (await loadRecord(await openArtifact(`oci:${dir}:latest`)))?.record;
    assert.ok(record);
    const edited = structuredClone(record);
    edited.predicate.team.name = 'Someone Else';
    await pushNewerRecord(ref, { insecure: true }, edited);
    const verified = await waybillJson<{ statements: Array<{ kind: string; reason?: string }> }>(
      ['verify', ...tagTrust(), ref, '--insecure', '--key', publicKey],
      { env },
    );
    assert.equal(verified.code, 1, verified.stderr);
    const recordVerdict = verified.json.statements.find((s) => s.kind === 'record');
    assert.match(recordVerdict?.reason ?? '', /edited after signing/);
  });

  test('a layer blob changed in the registry’s storage: verify (with an empty cache) fails naming it', async (t) => {
    if (skip || !first) return t.skip(skip ?? 'needs the publish test');
    const reg = registry as TestRegistry;
    const manifest = JSON.parse(skopeo(['inspect', '--raw', '--tls-verify=false', ref])) as {
      layers: Array<{ digest: string; size: number }>;
    };
    const largest = [...manifest.layers].sort((a, b) => b.size - a.size)[0];
    assert.ok(largest);
    const hex = largest.digest.slice('sha256:'.length);
    const stored = join(reg.root, 'data/docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    const original = readFileSync(stored);
    const changed = Buffer.from(original);
    changed[changed.length >> 1] = (changed[changed.length >> 1] as number) ^ 0x01;
    writeFileSync(stored, changed);
    try {
      const fresh = { ...env, XDG_CACHE_HOME: join(tmp, 'cache-tampered-layer') };
      const verified = await waybillJson<{
        statements: Array<{ kind: string; passed: boolean; reason?: string }>;
      }>(['verify', ...tagTrust(), ref, '--insecure', '--key', publicKey], { env: fresh });
      assert.equal(verified.code, 1, verified.stderr);
      const integrity = verified.json.statements.find((s) => s.kind === 'integrity');
      assert.equal(integrity?.passed, false, JSON.stringify(verified.json.statements));
      assert.ok(
        JSON.stringify(verified.json).includes(largest.digest),
        'the verdict names the changed layer by its digest',
      );
    } finally {
      writeFileSync(stored, original);
    }
  });
});

describe('interrupted publishes', () => {
  test('a registry killed mid-push leaves no visible release; publish resumes and completes', async (t) => {
    if (skip) return t.skip(skip);
    const reg = registry as TestRegistry;
    // An image with a large layer, so the push is still running when the registry goes away.
    const big = join(tmp, 'big');
    await buildOciLayout(big, [realFiles(), { 'opt/big.bin': Buffer.alloc(24 << 20, 7) }], {
      tag: 'latest',
      compression: 'none',
    });
    const target = reg.ref('big/hello:1.0');
    let restarting: Promise<void> | undefined;
    const failed = publishArtifact(`oci:${big}:latest`, target, {
      // Unstamped: the rules are off here, the push is what is tested.
      policy: { levels: ALL_OFF, allowedLicenses: [], source: BUILT_IN_POLICY },
      registry: { insecure: true, retry: { attempts: 1 } },
      cache: new BlobCache(join(tmp, 'cache-interrupt')),
      chunkedAbove: 1 << 20,
      concurrency: 1,
      events: {
        blobBytes(descriptor, n) {
          void n;
          if (descriptor.size > 16 << 20 && !restarting) restarting = reg.restart();
        },
      },
    });
    await assert.rejects(failed, (e: Error) =>
      /NETWORK|ECONN|reset|refused|broke off/i.test(`${(e as { code?: string }).code} ${e.message}`),
    );
    await restarting;
    // Nothing visible: no tag, so nobody sees a half-published release.
    const repo = openRepository(target, { insecure: true });
    assert.equal(await repo.headManifest(), undefined);
    // The next publish finishes what the first began.
    const resumed = await waybillJson<PublishJson>(
      ['publish', ...tagTrust(), `oci:${big}:latest`, target, '--insecure', '--force', '--key', keyFile],
      { env },
    );
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(resumed.json.status, 'published');
    assert.ok((resumed.json.transfer?.blobs.existing ?? 0) >= 1, JSON.stringify(resumed.json.transfer));
    const inspected = JSON.parse(skopeo(['inspect', '--tls-verify=false', target])) as { Digest: string };
    assert.equal(inspected.Digest, resumed.json.digest);
    const verified = await waybill(
      ['verify', ...tagTrust(), target, '--insecure', '--key', publicKey, '--allow-unsigned'],
      {
        env,
      },
    );
    assert.equal(verified.code, 0, verified.stdout);
  });
});

describe('files as OCI artifacts', () => {
  test('a Debian package published to a registry, read back by inspect, check, sbom, verify and copy', async (t) => {
    if (skip) return t.skip(skip);
    const packages = await buildPackages({ skopeo: false });
    const deb = packages.deb.gzip;
    if (!deb) return t.skip(packages.debSkip ?? 'no deb fixture');
    const host = (registry as TestRegistry).host;
    const dist = join(tmp, 'dist');
    mkdirSync(dist);
    const file = join(dist, 'waybill-demo_1.2.3-1_amd64.deb');
    copyFileSync(deb, file);
    const flags = helloStampFlags(signedRepo, signer.allowedSignersFile).filter(
      (_, i, all) =>
        !['--name', '--version'].includes(all[i] as string) &&
        !['--name', '--version'].includes(all[i - 1] as string),
    );
    const stamped = await waybill(['stamp', file, ...flags], { env });
    assert.equal(stamped.code, 0, stamped.stderr);
    const target = `docker://${host}/debs/waybill-demo:1.2.3`;
    const result = await waybillJson<PublishJson>(
      ['publish', ...tagTrust(), file, target, '--insecure', '--key', keyFile, '--force'],
      {
        env,
      },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.json.status, 'published');

    // skopeo sees an OCI artifact: the artifact type, the file as its one layer, the record's facts.
    const raw = JSON.parse(skopeo(['inspect', '--raw', '--tls-verify=false', target])) as {
      artifactType: string;
      layers: Descriptor[];
      annotations: Record<string, string>;
    };
    assert.equal(raw.artifactType, 'application/vnd.waybill.deb.v1');
    assert.equal(raw.layers.length, 1);
    assert.equal(raw.layers[0]?.mediaType, 'application/vnd.debian.binary-package');
    assert.equal(raw.layers[0]?.annotations?.[OCI_ANNOTATION.title], 'waybill-demo_1.2.3-1_amd64.deb');
    assert.equal(raw.annotations[OCI_ANNOTATION.vendor], 'Example Release Team');
    assert.equal(raw.layers[0]?.digest, result.json.digest);

    const view = await waybillJson<{
      kind: string;
      name: string;
      digest: string;
      published: string;
      manifest: { components: number };
    }>(['inspect', target, '--insecure'], { env });
    assert.equal(view.code, 0, view.stderr);
    assert.equal(view.json.kind, 'file');
    assert.equal(view.json.name, 'waybill-demo');
    assert.equal(view.json.digest, result.json.digest);
    assert.equal(view.json.published, result.json.published);
    const localView = await waybillJson<{ manifest: { components: number } }>(['inspect', file], { env });
    assert.deepEqual(view.json.manifest, localView.json.manifest);
    const local = await waybillJson<{ rules: Array<{ id: string; status: string }> }>(
      ['check', ...tagTrust(), file],
      {
        env,
      },
    );
    const remote = await waybillJson<{ rules: Array<{ id: string; status: string }> }>(
      ['check', ...tagTrust(), target, '--insecure'],
      {
        env,
      },
    );
    assert.deepEqual(
      remote.json.rules.map((r) => [r.id, r.status]),
      local.json.rules.map((r) => [r.id, r.status]),
    );
    const sbom = await waybill(['sbom', target, '--insecure'], { env });
    assert.equal(sbom.code, 0, sbom.stderr);
    assert.match(sbom.stdout, /waybill-demo/);
    const verified = await waybill(['verify', ...tagTrust(), target, '--insecure', '--key', publicKey], {
      env,
    });
    assert.equal(verified.code, 0, verified.stdout);

    // copy to a layout and back to another repository: the attachments come along.
    const copied = join(tmp, 'deb-layout');
    const toLayout = await waybill(['copy', target, `oci:${copied}:1.2.3`, '--insecure'], { env });
    assert.equal(toLayout.code, 0, toLayout.stderr);
    const target2 = `docker://${host}/mirror/waybill-demo:1.2.3`;
    const back = await waybill(['copy', `oci:${copied}:1.2.3`, target2, '--insecure'], { env });
    assert.equal(back.code, 0, back.stderr);
    const mirrored = await waybill(['verify', ...tagTrust(), target2, '--insecure', '--key', publicKey], {
      env,
    });
    assert.equal(mirrored.code, 0, mirrored.stdout);
  });
});

describe('release directories', () => {
  test('a tarball published to dir:ROOT with its statements; read back from file://, copied to a registry and back', async (t) => {
    if (skip) return t.skip(skip);
    const host = (registry as TestRegistry).host;
    const dist = join(tmp, 'reldir-dist');
    mkdirSync(dist);
    const file = join(dist, 'hello-1.2.3.tar.gz');
    writeFileSync(
      file,
      gzipSync(buildTar({ 'hello/README': 'hello\n', 'hello/bin/true': readFileSync('/usr/bin/true') })),
    );
    const stamped = await waybill(
      ['stamp', file, ...helloStampFlags(signedRepo, signer.allowedSignersFile)],
      { env },
    );
    assert.equal(stamped.code, 0, stamped.stderr);
    const root = join(tmp, 'releases');
    mkdirSync(root);
    const published = await waybillJson<PublishJson & { written: string[] }>(
      ['publish', ...tagTrust(), file, `dir:${root}`, '--key', keyFile],
      { env },
    );
    assert.equal(
      published.code,
      0,
      JSON.stringify(published.json.check ?? published.json) + published.stderr,
    );
    assert.equal(published.json.status, 'published');
    const version = join(root, 'hello', '1.2.3');
    for (const name of [
      'hello-1.2.3.tar.gz',
      'hello-1.2.3.tar.gz.waybill.json',
      'hello-1.2.3.tar.gz.cdx.json',
      'hello-1.2.3.tar.gz.publication.json',
      'hello-1.2.3.tar.gz.publication.sigstore.json',
      'hello-1.2.3.tar.gz.record.sigstore.json',
      'SHA256SUMS',
    ])
      assert.ok(existsSync(join(version, name)), name);
    assert.ok(existsSync(join(root, 'hello', 'index.json')));
    const again = await waybillJson<PublishJson>(
      ['publish', ...tagTrust(), file, `dir:${root}`, '--key', keyFile],
      { env },
    );
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json.status, 'unchanged');
    assert.equal(again.json.published, published.json.published);

    const url = pathToFileURL(join(version, 'hello-1.2.3.tar.gz')).href;
    const view = await waybillJson<{ published: string; publication: { target: string } }>(['inspect', url], {
      env,
    });
    assert.equal(view.code, 0, view.stderr);
    assert.equal(view.json.published, published.json.published);
    assert.equal(view.json.publication.target, `dir:${root}`);
    const checked = await waybillJson<{ passed: boolean }>(['check', ...tagTrust(), url, '--published'], {
      env,
    });
    assert.equal(checked.json.passed, true, JSON.stringify(checked.json));
    const verified = await waybill(['verify', ...tagTrust(), url, '--key', publicKey], { env });
    assert.equal(verified.code, 0, verified.stdout);

    // From the release directory to a registry, and from there into another release directory.
    const target = `docker://${host}/reldir/hello:1.2.3`;
    const toRegistry = await waybill(['copy', url, target, '--insecure'], { env });
    assert.equal(toRegistry.code, 0, toRegistry.stderr);
    const fromRegistry = await waybill(['verify', ...tagTrust(), target, '--insecure', '--key', publicKey], {
      env,
    });
    assert.equal(fromRegistry.code, 0, fromRegistry.stdout);
    const mirror = join(tmp, 'mirror-releases');
    mkdirSync(mirror);
    const back = await waybill(['copy', target, `dir:${mirror}`, '--insecure'], { env });
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(readFileSync(join(mirror, 'hello', '1.2.3', 'hello-1.2.3.tar.gz')), readFileSync(file));
    const mirrored = await waybill(
      [
        'verify',
        ...tagTrust(),
        pathToFileURL(join(mirror, 'hello', '1.2.3', 'hello-1.2.3.tar.gz')).href,
        '--key',
        publicKey,
      ],
      { env },
    );
    assert.equal(mirrored.code, 0, mirrored.stdout);
  });
});

describe('rebuild from a registry', () => {
  test('a built tarball published with its kit: rebuild docker://… fetches both and reproduces it', async (t) => {
    if (skip) return t.skip(skip);
    const host = (registry as TestRegistry).host;
    // A private HOME and TMPDIR: the recipe's outside-write watch sees only this test's directories.
    const buildEnv = { ...env, HOME: join(tmp, 'build-home'), TMPDIR: join(tmp, 'build-tmp') };
    mkdirSync(buildEnv.HOME, { recursive: true });
    mkdirSync(buildEnv.TMPDIR, { recursive: true });
    const project = await makeProject(
      tmp,
      'rebuildable',
      buildSection({ commands: TARBALL_COMMANDS, outputs: ['dist/hello.tar.gz'], tools: ['tar', 'gzip'] }),
      signer,
    );
    const out = join(tmp, 'built');
    const built = await waybill(['build', '--out', out, '--allowed-signers', signer.allowedSignersFile], {
      cwd: project.repo,
      env: buildEnv,
    });
    assert.equal(built.code, 0, built.stdout + built.stderr);
    const target = `docker://${host}/built/hello:1.2.3`;
    const published = await waybill(
      ['publish', ...tagTrust(), join(out, 'hello.tar.gz'), target, '--insecure', '--force'],
      {
        env: buildEnv,
      },
    );
    assert.equal(published.code, 0, published.stdout + published.stderr);
    const rebuilt = await waybillJson<{
      reproduced: boolean;
      outputs: Array<{ name: string; reproduced: boolean }>;
    }>(['rebuild', target, '--insecure', '--trust-recipe'], { env: buildEnv });
    assert.equal(rebuilt.code, 0, JSON.stringify(rebuilt.json) + rebuilt.stderr);
    assert.equal(rebuilt.json.reproduced, true);
    assert.deepEqual(
      rebuilt.json.outputs.map((o) => [o.name, o.reproduced]),
      [['hello.tar.gz', true]],
    );
    // An artifact without a kit: one line, exit 2.
    skopeo(['copy', '-q', '--dest-tls-verify=false', `oci:${layout}:latest`, `docker://${host}/nokit/x:1`]);
    const plain = await waybill(['rebuild', `docker://${host}/nokit/x:1`, '--insecure', '--trust-recipe'], {
      env: buildEnv,
    });
    assertOneLine(plain, /no rebuild kit is attached/);
  });
});

describe('copy', () => {
  test('registry → layout → oci-archive → registry keeps the image and every attachment', async (t) => {
    if (skip) return t.skip(skip);
    const host = (registry as TestRegistry).host;
    const dir = await stampedLayout('copy-src');
    const published = await waybill(
      [
        'publish',
        ...tagTrust(),
        `oci:${dir}:latest`,
        `docker://${host}/copy/hello:1`,
        '--insecure',
        '--key',
        keyFile,
      ],
      { env },
    );
    assert.equal(published.code, 0, published.stderr);
    const pulled = join(tmp, 'pulled');
    const archive = join(tmp, 'hello.tar');
    const steps = [
      [`docker://${host}/copy/hello:1`, `oci:${pulled}:1`],
      [`oci:${pulled}:1`, `oci-archive:${archive}:1`],
      [`oci-archive:${archive}:1`, `docker://${host}/copy/again:1`],
    ];
    for (const [src, dst] of steps) {
      const insecure = `${src}${dst}`.includes('docker://') ? ['--insecure'] : [];
      const copied = await waybillJson<{ changed: boolean; attachments: number }>(
        ['copy', src as string, dst as string, ...insecure],
        { env },
      );
      assert.equal(copied.code, 0, copied.stderr);
      assert.equal(copied.json.changed, true);
      assert.equal(copied.json.attachments, 5, `${src} → ${dst}`);
    }
    for (const ref of [`oci:${pulled}:1`, `oci-archive:${archive}:1`, `docker://${host}/copy/again:1`]) {
      const verified = await waybill(
        ['verify', ...tagTrust(), ref, '--insecure', '--key', publicKey].filter(
          (a) => a !== '--insecure' || ref.startsWith('docker'),
        ),
        { env },
      );
      assert.equal(verified.code, 0, `${ref}: ${verified.stdout}`);
      const checked = await waybillJson<{ passed: boolean }>(
        ['check', ...tagTrust(), ref, '--published', ...(ref.startsWith('docker') ? ['--insecure'] : [])],
        { env },
      );
      assert.equal(checked.json.passed, true, ref);
    }
    const again = await waybillJson<{ changed: boolean }>(
      ['copy', `oci:${pulled}:1`, `oci-archive:${archive}:1`],
      { env },
    );
    assert.equal(again.json.changed, false);
  });

  test('what skopeo pushed, waybill copies and reads', async (t) => {
    if (skip) return t.skip(skip);
    const host = (registry as TestRegistry).host;
    skopeo([
      'copy',
      '-q',
      '--dest-tls-verify=false',
      `oci:${layout}:latest`,
      `docker://${host}/skopeo/plain:1`,
    ]);
    const digest = (
      JSON.parse(skopeo(['inspect', '--tls-verify=false', `docker://${host}/skopeo/plain:1`])) as {
        Digest: string;
      }
    ).Digest;
    const out = join(tmp, 'from-skopeo');
    const copied = await waybillJson<{ digest: string }>(
      ['copy', `docker://${host}/skopeo/plain:1`, `oci:${out}:1`, '--insecure'],
      { env },
    );
    assert.equal(copied.code, 0, copied.stderr);
    assert.equal(copied.json.digest, digest);
    // skopeo reads waybill's layout back.
    assert.equal((JSON.parse(skopeo(['inspect', `oci:${out}:1`])) as { Digest: string }).Digest, digest);
  });
});

describe('refusals', () => {
  test('a failing check refuses (exit 1, nothing pushed); --force publishes and names the failures', async (t) => {
    if (skip) return t.skip(skip);
    const host = (registry as TestRegistry).host;
    const plain = join(tmp, 'unstamped');
    cpSync(layout, plain, { recursive: true });
    const refused = await waybill(
      ['publish', ...tagTrust(), `oci:${plain}:latest`, `docker://${host}/refused/x:1`, '--insecure'],
      { env },
    );
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stdout, /not published: .*failed/);
    assert.equal(
      await openRepository(`docker://${host}/refused/x:1`, { insecure: true }).headManifest(),
      undefined,
    );
    const forced = await waybillJson<PublishJson>(
      [
        'publish',
        ...tagTrust(),
        `oci:${plain}:latest`,
        `docker://${host}/refused/x:1`,
        '--insecure',
        '--force',
      ],
      { env },
    );
    assert.equal(forced.code, 0, forced.stderr);
    assert.ok(
      forced.json.forced.some((f) => f.rule === 'identity'),
      JSON.stringify(forced.json.forced),
    );
    const view = await waybill(['inspect', `docker://${host}/refused/x:1`, '--insecure'], { env });
    assert.match(view.stdout, /published despite failing rules: .*identity/);
  });

  test('policy.requireSignatures without a key: exit 2, nothing pushed', async (t) => {
    if (skip) return t.skip(skip);
    const host = (registry as TestRegistry).host;
    const dir = await stampedLayout('unsigned');
    const config = join(tmp, 'waybill.yaml');
    writeFileSync(
      config,
      'version: 1\nteam:\n  name: Example Release Team\nhelp:\n  bugTracker: https://bugs.example.org/hello\npolicy:\n  requireSignatures: true\n',
    );
    const result = await waybill(
      [
        'publish',
        ...tagTrust(),
        `oci:${dir}:latest`,
        `docker://${host}/unsigned/x:1`,
        '--insecure',
        '-c',
        config,
      ],
      {
        env: { ...env, WAYBILL_KEY: '' },
      },
    );
    assertOneLine(result, /requireSignatures.*--key/);
    assert.equal(
      await openRepository(`docker://${host}/unsigned/x:1`, { insecure: true }).headManifest(),
      undefined,
    );
  });

  test('bad references and hostile registries: one line, exit 2, no tag at the destination', async (t) => {
    if (skip) return t.skip(skip);
    const host = (registry as TestRegistry).host;
    const dir = await stampedLayout('bad-refs');
    assertOneLine(
      await waybill(
        ['publish', ...tagTrust(), `oci:${dir}:latest`, `docker://${host}/Bad/Name:1`, '--insecure'],
        { env },
      ),
      /"B" at position 1/,
    );
    assertOneLine(
      await waybill(['copy', `oci:${dir}:latest`, `oci:${join(tmp, 'x')}:bad\u001btag`], { env }),
      /tag/,
    );
    assertOneLine(await waybill(['copy', `oci:${dir}:latest`, 'ftp://x/y'], { env }), /unknown destination/);

    // A registry whose blob is not what its digest says: the copy stops, the layout gets no tag.
    const layer = Buffer.from('the layer the registry sends');
    const configBytes = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [sha256Digest('x')] },
      }),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPE.ociManifest,
        config: {
          mediaType: MEDIA_TYPE.ociConfig,
          digest: sha256Digest(configBytes),
          size: configBytes.length,
        },
        layers: [
          { mediaType: MEDIA_TYPE.ociLayer, digest: sha256Digest('another layer'), size: layer.length },
        ],
      }),
    );
    const liar = await startTestServer((req, res) => {
      if (req.url.includes('/manifests/'))
        return reply(res, 200, manifest, {
          'content-type': MEDIA_TYPE.ociManifest,
          'docker-content-digest': sha256Digest(manifest),
        });
      if (req.url.includes(sha256Digest(configBytes))) return reply(res, 200, configBytes);
      if (req.url.includes('/blobs/')) return reply(res, 200, layer);
      if (req.url.includes('/referrers/')) return reply(res, 404);
      return reply(res, 200, '{}');
    });
    servers.push(liar);
    const out = join(tmp, 'from-liar');
    assertOneLine(
      await waybill(['copy', `docker://${liar.host}/x/y:1`, `oci:${out}:1`, '--insecure'], { env }),
      /digest/i,
    );
    // Nothing tagged at the destination.
    assert.ok(
      !existsSync(join(out, 'index.json')) || !readFileSync(join(out, 'index.json'), 'utf8').includes('"1"'),
    );

    // A manifest over the 4 MiB limit.
    const huge = await startTestServer((req, res) =>
      req.url.includes('/manifests/')
        ? reply(res, 200, Buffer.alloc(5 << 20, 0x20), { 'content-type': MEDIA_TYPE.ociManifest })
        : reply(res, 404),
    );
    servers.push(huge);
    assertOneLine(
      await waybill(['copy', `docker://${huge.host}/x/y:1`, `oci:${join(tmp, 'huge')}:1`, '--insecure'], {
        env,
      }),
      /4194304|limit|larger/i,
    );

    // A blob redirect to another host carrying credentials in the URL.
    const redirector = await startTestServer((req, res) => {
      if (req.url.includes('/manifests/'))
        return reply(res, 200, manifest, {
          'content-type': MEDIA_TYPE.ociManifest,
          'docker-content-digest': sha256Digest(manifest),
        });
      if (req.url.includes('/blobs/'))
        return reply(res, 307, '', { location: 'http://user:secret@127.0.0.2:9/blob' });
      return reply(res, 404);
    });
    servers.push(redirector);
    const redirected = await waybill(
      ['copy', `docker://${redirector.host}/x/y:1`, `oci:${join(tmp, 'redir')}:1`, '--insecure'],
      { env },
    );
    assertOneLine(redirected, /redirect|credentials|user info/i);
    assert.doesNotMatch(redirected.stderr, /secret/);

    // An auth challenge naming a token service on another host: no credentials go there.
    const realm = await startTestServer((_req, res) =>
      reply(res, 200, JSON.stringify({ token: 'anonymous' })),
    );
    servers.push(realm);
    const challenger = await startTestServer((_req, res) =>
      reply(res, 401, '', {
        'www-authenticate': `Bearer realm="http://localhost:${realm.host.split(':')[1]}/token",service="x",scope="repository:x/y:pull"`,
      }),
    );
    servers.push(challenger);
    const challenged = await waybill(
      [
        'copy',
        `oci:${dir}:latest`,
        `docker://${challenger.host}/x/y:1`,
        '--insecure',
        '--username',
        'u',
        '--password-stdin',
      ],
      { env, input: 'hunter2-secret\n' },
    );
    assertOneLine(challenged, /localhost|realm|WAYBILL_REGISTRY_AUTH_HOSTS|refused/i);
    assert.ok(
      realm.requests.every((r) => !r.authorization),
      'credentials sent to another realm host',
    );
    assert.doesNotMatch(challenged.stderr, /hunter2/);
  });
});
