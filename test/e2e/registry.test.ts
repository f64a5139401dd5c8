/**
 * `docker://` through the real CLI, against a real registry (Debian's docker-registry on loopback,
 * plain and with htpasswd auth) and skopeo as the independent client:
 * - `sbom docker://…` of an image skopeo pushed lists what `sbom oci:…` of the same image lists;
 * - a layout stamped by waybill and pushed with its attachments passes `check docker://…` as it
 *   passes `check oci:…`, the record and SBOM read through the referrers tag;
 * - credentials from --password-stdin and DOCKER_CONFIG work and never show in any output;
 * - hostile registries and bad references end with one line and exit 2 (faults a real registry
 *   cannot be made to produce come from the labelled TEST ONLY server of src/registry/test-server.ts).
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadRecord, saveStatementBundle } from '../../src/app/attachments.ts';
import { MEDIA_TYPE } from '../../src/oci/types.ts';
import { MAX_MANIFEST_BYTES } from '../../src/registry/manifests.ts';
import { reply, startTestServer, type TestServer } from '../../src/registry/test-server.ts';
import { validateCycloneDx } from '../../src/sbom/validate.ts';
import { generateKeyPair } from '../../src/sign/keys.ts';
import { serializeBundle, signStatement } from '../../src/sign/sign-statement.ts';
import { KeyFileSigner } from '../../src/sign/signer.ts';
import { openArtifact } from '../../src/sources/open.ts';
import { buildOciLayout } from '../../src/sources/testing.ts';
import { sha256Digest } from '../../src/util/digest.ts';
import { type CliResult, waybill, waybillJson } from '../helpers/cli.ts';
import { ensureFixtureImage } from '../helpers/fixture-image.ts';
import { makeSshSigner, makeTmp, removeTmp, type SshSigner } from '../helpers/git-fixtures.ts';
import {
  hasSkopeo,
  isolatedRegistryEnv,
  pushLayout,
  pushNewerRecord,
  skopeo,
  startRegistry,
  type TestRegistry,
} from '../helpers/registry.ts';
import { helloStampFlags, realFiles, signedHelloRepo } from '../helpers/release-fixture.ts';

const SCHEMAS = fileURLToPath(new URL('../../../shared/fixtures/schemas', import.meta.url));
const PASSWORD = 'e2e-S3cret-pw';
const AUTH = { username: 'e2e-user', password: PASSWORD };

let tmp: string;
let env: NodeJS.ProcessEnv;
let registry: TestRegistry | undefined;
let secured: TestRegistry | undefined;
let skip: string | undefined;
let signer: SshSigner;
let signedRepo: string;
let layout: string;
const keys = generateKeyPair('ed25519');
let publicKey: string;
const servers: TestServer[] = [];

interface Bom {
  components: Array<{ purl?: string; name: string; version?: string }>;
  metadata: {
    component: { name: string; type: string; properties?: Array<{ name: string; value: string }> };
  };
}

function property(bom: Bom, name: string): string | undefined {
  return bom.metadata.component.properties?.find((p) => p.name === name)?.value;
}

/** One line on stderr, exit 2, no stack trace, no password. */
function assertOneLine(result: CliResult, pattern: RegExp): void {
  assert.equal(result.code, 2, `${result.stdout}\n${result.stderr}`);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0] as string, pattern);
  assert.doesNotMatch(result.stderr, /^\s+at /m);
  for (const out of [result.stdout, result.stderr]) {
    assert.ok(!out.includes(PASSWORD), 'password printed');
    assert.ok(
      !out.includes(Buffer.from(`${AUTH.username}:${PASSWORD}`).toString('base64')),
      'basic credentials printed',
    );
  }
}

before(async () => {
  tmp = await makeTmp('waybill-e2e-registry-');
  // The user's own Docker configuration and cache are never used by the tests.
  env = isolatedRegistryEnv(tmp);
  const plain = await startRegistry();
  if ('skip' in plain) skip = plain.skip;
  else registry = plain;
  const withAuth = await startRegistry({ auth: AUTH });
  if ('skip' in withAuth) skip ??= withAuth.skip;
  else secured = withAuth;
  if (!hasSkopeo()) skip ??= 'skopeo is not installed';

  signer = await makeSshSigner(tmp);
  signedRepo = await signedHelloRepo(tmp, signer);
  publicKey = join(tmp, 'release.pub');
  writeFileSync(publicKey, keys.publicKeyPem);
  layout = join(tmp, 'layout');
  await buildOciLayout(layout, [realFiles()], { tag: 'latest' });
});

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await registry?.stop();
  await secured?.stop();
  if (tmp) await removeTmp(tmp);
});

describe('docker:// through the CLI', () => {
  test('sbom docker:// of the fixture image skopeo pushed equals sbom oci: of the same image', async (t) => {
    if (skip) return t.skip(skip);
    const fixture = await ensureFixtureImage();
    if ('skip' in fixture) return t.skip(fixture.skip);
    const host = (registry as TestRegistry).host;
    skopeo([
      'copy',
      '-q',
      '--dest-tls-verify=false',
      `oci:${fixture.ociDir}:latest`,
      `docker://${host}/fixture/debian:latest`,
    ]);
    const naming = ['--name', 'fixture', '--version', '1', '--quiet'];
    const fromLayout = await waybill(['sbom', `oci:${fixture.ociDir}:latest`, ...naming], { env });
    assert.equal(fromLayout.code, 0, fromLayout.stderr);
    const fromRegistry = await waybill(
      ['sbom', `docker://${host}/fixture/debian:latest`, '--insecure', ...naming],
      { env },
    );
    assert.equal(fromRegistry.code, 0, fromRegistry.stderr);
    const a = JSON.parse(fromLayout.stdout) as Bom;
    const b = JSON.parse(fromRegistry.stdout) as Bom;
    assert.ok(a.components.length > 100, `${a.components.length} components`);
    assert.deepEqual(b.components, a.components);
    assert.equal(property(b, 'waybill:artifact:digest'), property(a, 'waybill:artifact:digest'));
    assert.equal(property(b, 'waybill:artifact:kind'), 'registry');
    assert.equal(b.metadata.component.type, 'container');
    if (existsSync(SCHEMAS)) {
      assert.deepEqual(validateCycloneDx(b, SCHEMAS), []);
    }
    // The layers are in the cache now: a second run reads them from there.
    const cached = readdirSync(join(tmp, 'cache', 'waybill', 'blobs', 'sha256'));
    for (const name of readdirSync(join(fixture.ociDir, 'blobs', 'sha256')))
      assert.ok(cached.includes(name), name);
    const again = await waybill(['sbom', `docker://${host}/fixture/debian:latest`, '--insecure', ...naming], {
      env,
    });
    assert.equal(again.stdout, fromRegistry.stdout);
  });

  test('a layout stamped by waybill, pushed with its attachments: check and inspect read them back', async (t) => {
    if (skip) return t.skip(skip);
    const dir = join(tmp, 'stamped');
    cpSync(layout, dir, { recursive: true });
    const stamped = await waybill(
      ['stamp', `oci:${dir}:latest`, ...helloStampFlags(signedRepo, signer.allowedSignersFile)],
      { env },
    );
    assert.equal(stamped.code, 0, stamped.stderr);
    const ref = (registry as TestRegistry).ref('stamped/hello:1.2.3');
    // The record signed with a release key, its bundle attached in the layout like the others.
    const image = await openArtifact(`oci:${dir}:latest`);
    const record = (await loadRecord(image))?.record;
    assert.ok(record);
    const bundle = serializeBundle(
      await signStatement(record, KeyFileSigner.fromPem(keys.privateKeyPem, 'release.key')),
    );
    await saveStatementBundle(image, 'record', record.predicateType, bundle);
    const attached = await pushLayout(dir, 'latest', ref, { insecure: true });
    assert.equal(attached.length, 3, 'record, SBOM and signed-record bundle');

    const local = await waybillJson<{
      passed: boolean;
      digest: string;
      rules: Array<{ id: string; status: string }>;
    }>(['check', `oci:${dir}:latest`, '--allowed-signers', signer.allowedSignersFile], { env });
    const remote = await waybillJson<{
      passed: boolean;
      digest: string;
      rules: Array<{ id: string; status: string }>;
    }>(['check', ref, '--insecure', '--allowed-signers', signer.allowedSignersFile], { env });
    assert.equal(remote.code, 0, JSON.stringify(remote.json, null, 2));
    assert.equal(remote.json.passed, true);
    assert.equal(remote.json.digest, local.json.digest);
    assert.deepEqual(
      remote.json.rules.map((r) => [r.id, r.status]),
      local.json.rules.map((r) => [r.id, r.status]),
    );

    const view = await waybillJson<{
      kind: string;
      name: string;
      record: { location: string };
      manifest: { components: number };
    }>(['inspect', ref, '--insecure'], { env });
    const localView = await waybillJson<{ manifest: { components: number } }>(
      ['inspect', `oci:${dir}:latest`],
      { env },
    );
    assert.equal(view.code, 0, view.stderr);
    assert.equal(view.json.kind, 'registry');
    assert.equal(view.json.name, 'hello');
    assert.match(
      view.json.record.location,
      /^referrer sha256:[0-9a-f]{64} in docker:\/\/127\.0\.0\.1:\d+\/stamped\/hello$/,
    );
    assert.equal(view.json.manifest.components, localView.json.manifest.components);
    // verify finds the bundle among the referrers and matches it with the record read from there.
    const verified = await waybillJson<{
      passed: boolean;
      statements: Array<{ source: string; passed: boolean }>;
    }>(['verify', ref, '--insecure', '--key', publicKey, '--allowed-signers', signer.allowedSignersFile], {
      env,
    });
    assert.equal(verified.code, 0, JSON.stringify(verified.json, null, 2));
    assert.match(verified.json.statements[0]?.source ?? '', /@sha256:[0-9a-f]{64} \(referrer bundle\)$/);
    // A newer record pushed next to it, edited after signing: it is the one read, and it fails.
    const edited = structuredClone(record);
    edited.predicate.team.name = 'Someone Else';
    await pushNewerRecord(ref, { insecure: true }, edited);
    const tampered = await waybillJson<{ passed: boolean; statements: Array<{ reason?: string }> }>(
      ['verify', ref, '--insecure', '--key', publicKey],
      { env },
    );
    assert.equal(tampered.code, 1);
    assert.match(tampered.json.statements[0]?.reason ?? '', /edited after signing/);
    // skopeo sees the stamped labels on the pushed image.
    const inspected = JSON.parse(skopeo(['inspect', '--tls-verify=false', ref])) as {
      Labels: Record<string, string>;
    };
    assert.equal(inspected.Labels['org.opencontainers.image.version'], '1.2.3');
    // A registry image is read, never written by stamp (publish does that).
    const refused = await waybill(['stamp', ref, '--insecure', '--name', 'x', '--version', '1', '--quiet'], {
      env,
    });
    assert.notEqual(refused.code, 0);
  });

  test('credentials: --password-stdin and DOCKER_CONFIG work; a wrong password is one line that never shows it', async (t) => {
    if (skip) return t.skip(skip);
    const host = (secured as TestRegistry).host;
    const ref = `docker://${host}/private/hello:1`;
    skopeo([
      'copy',
      '-q',
      '--dest-tls-verify=false',
      '--dest-creds',
      `${AUTH.username}:${PASSWORD}`,
      `oci:${layout}:latest`,
      ref,
    ]);
    const ok = await waybill(
      ['inspect', ref, '--insecure', '--username', AUTH.username, '--password-stdin', '--format', 'json'],
      { env, input: `${PASSWORD}\n` },
    );
    assert.equal(ok.code, 0, ok.stderr);

    const config = join(tmp, 'docker-config-auth');
    mkdirSync(config);
    writeFileSync(
      join(config, 'config.json'),
      JSON.stringify({
        auths: { [host]: { auth: Buffer.from(`${AUTH.username}:${PASSWORD}`).toString('base64') } },
      }),
    );
    const fromConfig = await waybill(['sbom', ref, '--insecure', '--quiet'], {
      env: { ...env, DOCKER_CONFIG: config },
    });
    assert.equal(fromConfig.code, 0, fromConfig.stderr);
    assert.ok(!fromConfig.stdout.includes(PASSWORD));

    const wrong = await waybill(
      ['inspect', ref, '--insecure', '--username', AUTH.username, '--password-stdin'],
      { env, input: 'not-the-password' },
    );
    assertOneLine(
      wrong,
      /^waybill: docker:\/\/127\.0\.0\.1:\d+\/private\/hello:1: the registry refused access \(401: UNAUTHORIZED/,
    );
    assert.ok(!wrong.stderr.includes('not-the-password'));
    const none = await waybill(['check', ref, '--insecure'], { env });
    assertOneLine(
      none,
      /asks for credentials and none are configured for 127\.0\.0\.1:\d+ \(use --username with --password-stdin, --authfile, or docker login\)$/,
    );
    const inRef = await waybill(
      ['inspect', `docker://${AUTH.username}:${PASSWORD}@${host}/private/hello:1`, '--insecure'],
      { env },
    );
    assertOneLine(inRef, /a reference cannot carry credentials/);
    const half = await waybill(['inspect', ref, '--insecure', '--username', AUTH.username], { env });
    assertOneLine(half, /give --username and --password-stdin together/);
  });

  test('hostile registries and bad references: one line, exit 2', async (t) => {
    if (skip) return t.skip(skip);
    const host = (registry as TestRegistry).host;
    const layer = Buffer.from('a layer that is not what the manifest says');
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPE.ociManifest,
        config: { mediaType: MEDIA_TYPE.ociConfig, digest: sha256Digest('{}'), size: 2 },
        layers: [
          { mediaType: MEDIA_TYPE.ociLayer, digest: sha256Digest('the real layer'), size: layer.length },
        ],
      }),
    );
    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [sha256Digest('x')] },
      }),
    );
    // TEST ONLY server: each repository name picks a misbehaviour.
    const fake = await startTestServer((req, res) => {
      if (req.url.includes('/busy/')) return reply(res, 429, '', { 'retry-after': '86400' });
      if (req.url.includes('/huge/'))
        return reply(res, 200, Buffer.alloc(MAX_MANIFEST_BYTES + 10, 32), {
          'content-type': MEDIA_TYPE.ociManifest,
        });
      if (req.url.includes('/sneaky/') && req.url.includes('/blobs/'))
        return reply(res, 307, '', { location: `http://user:${PASSWORD}@127.0.0.2:9/blob` });
      if (req.url.includes('/manifests/')) {
        const doc = JSON.parse(manifest.toString());
        doc.config = { mediaType: MEDIA_TYPE.ociConfig, digest: sha256Digest(config), size: config.length };
        return reply(res, 200, JSON.stringify(doc), { 'content-type': MEDIA_TYPE.ociManifest });
      }
      if (req.url.endsWith(sha256Digest(config))) return reply(res, 200, config);
      return reply(res, 200, layer);
    });
    servers.push(fake);
    const cases: Array<[string[], RegExp]> = [
      [
        ['inspect', `docker://${host}/Bad/Name:1`],
        /"B" at position 1 is not allowed \(lower-case letters, digits and the separators/,
      ],
      [
        ['inspect', 'docker://registry.example/x:1', '--insecure'],
        /--insecure \(plain http\) is allowed only for loopback registries/,
      ],
      [
        ['inspect', `docker://${fake.host}/busy/app:1`, '--insecure'],
        /answered 429 and asks to retry after 86400 s \(waiting at most 60 s\); try again later$/,
      ],
      [
        ['inspect', `docker://${fake.host}/huge/app:1`, '--insecure'],
        /manifest 1 of \d+ bytes is larger than the 4194304-byte limit$/,
      ],
      [
        ['sbom', `docker://${fake.host}/liar/app:1`, '--insecure', '--quiet'],
        /blob sha256:[0-9a-f]{64}: size mismatch|blob sha256:[0-9a-f]{64}: digest is sha256:[0-9a-f]{64}, expected/,
      ],
      [
        ['sbom', `docker://${fake.host}/sneaky/app:1`, '--insecure', '--quiet'],
        /the redirect target carries credentials in its URL; refused$/,
      ],
      [
        ['inspect', `docker://${host}/absent/image:1`, '--insecure'],
        /manifest 1 not found: (NAME_UNKNOWN|MANIFEST_UNKNOWN)/,
      ],
    ];
    cases.push(
      [
        ['inspect', `docker://${host}/absent/image:1`],
        /does not answer https \(a plain http registry on this machine needs --insecure\)$/,
      ],
      [
        ['stamp', `docker://${host}/absent/image:1`, '--name', 'x', '--version', '1'],
        /is not changed in place; stamp a local copy/,
      ],
    );
    for (const [args, pattern] of cases) assertOneLine(await waybill(args, { env }), pattern);
    // Nothing the liar sent is in the cache.
    const cache = join(tmp, 'cache', 'waybill', 'blobs', 'sha256');
    if (existsSync(cache)) assert.ok(!readdirSync(cache).includes(sha256Digest('the real layer').slice(7)));
  });
});
