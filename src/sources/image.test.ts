/**
 * Image sources end to end on real bytes: layouts made by umoci, converted by skopeo, and layouts
 * written by hand (zstd layer, multi-platform index, hostile documents).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { WaybillError } from '../errors.ts';
import { attachArtifact } from '../oci/attach.ts';
import { parseImageManifest } from '../oci/parse.ts';
import { MEDIA_TYPE, OCI_ANNOTATION } from '../oci/types.ts';
import { sha256Digest } from '../util/digest.ts';
import { openArtifact } from './open.ts';
import {
  buildMultiPlatformLayout,
  buildOciLayout,
  buildTar,
  writeBlob,
  writeLayoutIndex,
} from './testing.ts';
import type { FileFilter, WalkResult } from './types.ts';
import type { SourceWalkOptions } from './walk-options.ts';

let work = '';
const filesOnly: FileFilter = { want: (e) => e.type === 'file' };

function summary(result: WalkResult): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of result.files)
    out[f.entry.path] =
      `${f.data.toString('latin1')}|${f.earlier.map((e) => e.data.toString('latin1')).join(',')}`;
  return out;
}

const EXPECTED = {
  'etc/os-release': 'ID=test\n|',
  'opt/app/c.txt': 'c\n|',
  'usr/bin/tool': '\x7fELFv2|\x7fELFv1',
};

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'waybill-image-'));
  const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd: work, stdio: 'pipe' });
  await mkdir(join(work, 'a/etc'), { recursive: true });
  await mkdir(join(work, 'a/usr/bin'), { recursive: true });
  await mkdir(join(work, 'a/opt/app'), { recursive: true });
  await mkdir(join(work, 'a/var/old'), { recursive: true });
  await mkdir(join(work, 'b'), { recursive: true });
  await mkdir(join(work, 'c'), { recursive: true });
  await writeFile(join(work, 'a/etc/os-release'), 'ID=test\n');
  await writeFile(join(work, 'a/usr/bin/tool'), '\x7fELFv1', 'latin1');
  await writeFile(join(work, 'a/opt/app/a.txt'), 'a\n');
  await writeFile(join(work, 'a/opt/app/b.txt'), 'b\n');
  await writeFile(join(work, 'a/var/old/x.txt'), 'x\n');
  await writeFile(join(work, 'b/tool'), '\x7fELFv2', 'latin1');
  await writeFile(join(work, 'c/c.txt'), 'c\n');
  // Four layers: base tree; tool replaced (earlier chain); /var/old whited out; /opt/app made opaque.
  sh('umoci', ['init', '--layout', 'L']);
  sh('umoci', ['new', '--image', 'L:t']);
  sh('umoci', ['insert', '--image', 'L:t', 'a', '/']);
  sh('umoci', ['insert', '--image', 'L:t', 'b/tool', '/usr/bin/tool']);
  sh('umoci', ['insert', '--image', 'L:t', '--whiteout', '/var/old']);
  sh('umoci', ['insert', '--image', 'L:t', '--opaque', 'c', '/opt/app']);
  sh('skopeo', ['copy', '-q', 'oci:L:t', 'docker-archive:d.tar:d:t']);
  sh('skopeo', ['copy', '-q', 'oci:L:t', 'oci-archive:o.tar:t']);
});

after(async () => {
  await rm(work, { recursive: true, force: true });
});

test('umoci layout: whiteout, opaque dir and earlier versions; same view via oci-archive and docker-archive', async () => {
  const index = JSON.parse(await readFile(join(work, 'L/index.json'), 'utf8'));
  const manifestDigest = index.manifests[0].digest as string;
  const oci = await openArtifact(`oci:${join(work, 'L')}:t`);
  assert.equal(oci.kind, 'oci');
  assert.equal(oci.digest, manifestDigest);
  assert.equal(oci.image?.refName, 't');
  assert.equal(oci.image?.selected?.manifest.layers.length, 4);
  const ociResult = await oci.walk(filesOnly);
  assert.deepEqual(summary(ociResult), EXPECTED);
  const tool = ociResult.files.find((f) => f.entry.path === 'usr/bin/tool');
  // Layers are named by diff_id (uncompressed digest), not by the gzip blob digest.
  const diffIds = oci.image?.selected?.config.rootfs.diff_ids ?? [];
  assert.equal(tool?.entry.layer, diffIds[1]);
  assert.equal(tool?.earlier[0]?.layer, diffIds[0]);
  assert.notEqual(tool?.entry.layer, oci.image?.selected?.manifest.layers[1]?.digest);

  const archive = await openArtifact(`oci-archive:${join(work, 'o.tar')}:t`);
  assert.equal(archive.kind, 'oci-archive');
  assert.equal(archive.digest, manifestDigest);
  assert.deepEqual(summary(await archive.walk(filesOnly)), EXPECTED);

  const docker = await openArtifact(`docker-archive:${join(work, 'd.tar')}:d:t`);
  assert.equal(docker.kind, 'docker-archive');
  assert.equal(docker.digest, oci.image?.selected?.configDigest);
  assert.deepEqual(docker.image?.repoTags, ['docker.io/library/d:t']);
  assert.equal(docker.image?.refName, 'd:t');
  assert.equal(docker.image?.selected?.descriptor.mediaType, MEDIA_TYPE.dockerManifest);
  const dockerResult = await docker.walk(filesOnly);
  assert.deepEqual(summary(dockerResult), EXPECTED);
  // One identity per layer whatever the transport: the docker-archive's uncompressed layers and the
  // layout's gzip ones give the same FileEntry.layer.
  const layersOf = (r: typeof ociResult) =>
    r.files.map((f) => `${f.entry.path} ${f.entry.layer} ${f.earlier.map((e) => e.layer).join(',')}`);
  assert.deepEqual(layersOf(dockerResult), layersOf(ociResult));
});

test('workers: a filter module walks layers on threads with the same result; progress reaches the total', async () => {
  const modulePath = join(work, 'filter.mjs');
  await writeFile(
    modulePath,
    'export function makeFilter(arg) { return { want: (e) => e.type === arg }; }\n',
  );
  const oci = await openArtifact(join(work, 'L'));
  let last: [number, number] = [0, 0];
  const options: SourceWalkOptions = {
    workers: 3,
    filterModule: { url: pathToFileURL(modulePath).href, export: 'makeFilter', arg: 'file' },
    onProgress: (done, total) => {
      last = [done, total];
    },
  };
  // The main thread scans some layers itself with the filter it is given, the workers the others
  // with the module's: both keep the same files.
  const threaded = await oci.walk({ want: (e) => e.type === 'file' }, options);
  assert.deepEqual(summary(threaded), EXPECTED);
  const total = oci.image?.selected?.manifest.layers.reduce((s, l) => s + l.size, 0);
  assert.deepEqual(last, [total, total]);
  assert.ok(Buffer.isBuffer(threaded.files[0]?.data));
});

test('sniff and maxFileSize: only sniffed ELF files kept; a too-large wanted file is skipped', async () => {
  const oci = await openArtifact(join(work, 'L'));
  const elf: FileFilter = {
    want: (e) => (e.type === 'file' ? 'sniff' : false),
    sniff: (_e, head) => head.subarray(0, 4).equals(Buffer.from('\x7fELF', 'latin1')),
  };
  assert.deepEqual(Object.keys(summary(await oci.walk(elf))), ['usr/bin/tool']);
  const small = await oci.walk(filesOnly, { maxFileSize: 3 });
  assert.deepEqual(Object.keys(summary(small)), ['opt/app/c.txt']);
  assert.ok(small.skipped.some((s) => s.path === 'usr/bin/tool'));
});

test('detection without a prefix: layout dir, oci-archive tar, docker-archive tar', async () => {
  assert.equal((await openArtifact(join(work, 'L'))).kind, 'oci');
  assert.equal((await openArtifact(join(work, 'o.tar'))).kind, 'oci-archive');
  assert.equal((await openArtifact(join(work, 'd.tar'))).kind, 'docker-archive');
  await assert.rejects(openArtifact(`oci:${join(work, 'L')}:nope`), { code: 'NOT_FOUND' });
  await assert.rejects(openArtifact(`docker-archive:${join(work, 'd.tar')}:other:tag`), {
    code: 'NOT_FOUND',
  });
});

test('buildOciLayout is deterministic and skopeo accepts it; zstd layer compressed by the zstd CLI', async () => {
  const one = await buildOciLayout(join(work, 'b1'), [
    { 'etc/os-release': 'ID=x\n' },
    { 'bin/x': Buffer.from([1, 2]) },
  ]);
  const two = await buildOciLayout(join(work, 'b2'), [
    { 'etc/os-release': 'ID=x\n' },
    { 'bin/x': Buffer.from([1, 2]) },
  ]);
  assert.equal(one.manifest.digest, two.manifest.digest);
  execFileSync('skopeo', [
    'copy',
    '-q',
    `oci:${join(work, 'b1')}:latest`,
    `oci:${join(work, 'b1-copy')}:latest`,
  ]);

  // zstd: a GNU tar layer compressed with the zstd CLI, descriptor and config written here.
  const dir = join(work, 'zst');
  const tar = buildTar({ 'usr/share/z.txt': 'zstd!\n' });
  const compressed = execFileSync('zstd', ['-c', '-q', '-19'], { input: tar });
  const layer = await writeBlob(dir, compressed, MEDIA_TYPE.ociLayerZstd);
  const config = await writeBlob(
    dir,
    Buffer.from(
      JSON.stringify({
        architecture: 'arm64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [sha256Digest(tar)] },
      }),
    ),
    MEDIA_TYPE.ociConfig,
  );
  const manifest = await writeBlob(
    dir,
    Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest, config, layers: [layer] }),
    ),
    MEDIA_TYPE.ociManifest,
  );
  await writeLayoutIndex(dir, [{ ...manifest, annotations: { [OCI_ANNOTATION.refName]: 'z' } }]);
  const artifact = await openArtifact(`oci:${dir}:z`);
  assert.deepEqual(artifact.image?.selected?.platform, { os: 'linux', architecture: 'arm64' });
  assert.deepEqual(summary(await artifact.walk(filesOnly)), { 'usr/share/z.txt': 'zstd!\n|' });
});

test('multi-platform index: platforms listed, selection by --platform, walk refuses to guess', async () => {
  const dir = join(work, 'multi');
  const { index, arm } = await buildMultiPlatformLayout(dir, 'multi');

  const any = await openArtifact(`oci:${dir}:multi`);
  assert.equal(any.digest, index.digest);
  assert.equal(any.image?.index?.digest, index.digest);
  assert.equal(any.image?.platforms.length, 2);
  assert.equal(any.image?.selected, undefined);
  await assert.rejects(any.walk(filesOnly), {
    code: 'USAGE',
    reason: 'several platforms: linux/amd64, linux/arm64/v8; choose one with --platform',
  });

  const chosen = await openArtifact(dir, { platform: 'linux/arm64' });
  assert.equal(chosen.digest, arm.manifest.digest);
  assert.deepEqual(summary(await chosen.walk(filesOnly)), { 'arch.txt': 'arm64|' });
  await assert.rejects(
    openArtifact(dir, { platform: 'linux/s390x' }),
    /no image for platform linux\/s390x; available: linux\/amd64, linux\/arm64\/v8/,
  );
});

test('hostile: corrupted layer blob, wrong diff_id, tampered manifest are DIGEST_MISMATCH', async () => {
  // Uncompressed layer with one content byte flipped: tar still parses, the digest check fails.
  const plain = join(work, 'corrupt');
  const built = await buildOciLayout(plain, [{ 'f.txt': 'hello' }], { compression: 'none' });
  const blobPath = join(plain, 'blobs/sha256', built.layers[0]!.digest.slice(7));
  const bytes = await readFile(blobPath);
  bytes[bytes.indexOf('hello')] = 0x48;
  await writeFile(blobPath, bytes);
  const artifact = await openArtifact(plain);
  await assert.rejects(
    artifact.walk(filesOnly),
    (e: unknown) =>
      e instanceof WaybillError &&
      e.code === 'DIGEST_MISMATCH' &&
      e.input.includes(built.layers[0]!.digest.slice(7)),
  );

  // Right blob, wrong diff_id in the config.
  const wrongDiff = join(work, 'wrongdiff');
  const base = await buildOciLayout(wrongDiff, [{ 'f.txt': 'hello' }], { blobsOnly: true });
  const config = await writeBlob(
    wrongDiff,
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [sha256Digest('other')] },
      }),
    ),
    MEDIA_TYPE.ociConfig,
  );
  const manifest = await writeBlob(
    wrongDiff,
    Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest, config, layers: base.layers }),
    ),
    MEDIA_TYPE.ociManifest,
  );
  await writeLayoutIndex(wrongDiff, [manifest]);
  await assert.rejects((await openArtifact(wrongDiff)).walk(filesOnly), /diff_id.*digest is/);

  // A manifest blob edited in place.
  const tampered = join(work, 'tampered');
  await cp(join(work, 'L'), tampered, { recursive: true });
  const index = JSON.parse(await readFile(join(tampered, 'index.json'), 'utf8'));
  const manifestPath = join(tampered, 'blobs/sha256', index.manifests[0].digest.slice(7));
  await writeFile(
    manifestPath,
    (await readFile(manifestPath, 'utf8')).replace('"schemaVersion":2', '"schemaVersion": 2'),
  );
  await assert.rejects(openArtifact(tampered), { code: 'DIGEST_MISMATCH' });
});

test('hostile: 100 000 layers, broken JSON, unknown layout version, several refs', async () => {
  const many = join(work, 'many');
  const layer = { mediaType: MEDIA_TYPE.ociLayerGzip, digest: sha256Digest('x'), size: 1 };
  const config = { mediaType: MEDIA_TYPE.ociConfig, digest: sha256Digest('y'), size: 1 };
  const huge = Buffer.from(JSON.stringify({ schemaVersion: 2, config, layers: Array(100_000).fill(layer) }));
  const hugeManifest = await writeBlob(many, huge, MEDIA_TYPE.ociManifest);
  await writeLayoutIndex(many, [hugeManifest]);
  await assert.rejects(openArtifact(many), { code: 'LIMIT' });
  // Under the byte cap but over the layer cap.
  const tenThousandOne = Buffer.from(
    JSON.stringify({ schemaVersion: 2, config, layers: Array(10_001).fill(layer) }),
  );
  assert.throws(() => parseImageManifest(tenThousandOne, 'm'), /10001 layers \(limit 10000\)/);

  const broken = join(work, 'broken');
  await buildOciLayout(broken, [{ a: 'a' }]);
  const brokenBlob = await writeBlob(
    broken,
    Buffer.from('{"schemaVersion": 2, "config": '),
    MEDIA_TYPE.ociManifest,
  );
  await writeLayoutIndex(broken, [brokenBlob]);
  await assert.rejects(
    openArtifact(broken),
    (e: unknown) =>
      e instanceof WaybillError && e.code === 'MALFORMED' && e.input.includes(brokenBlob.digest.slice(7)),
  );
  await writeFile(join(broken, 'index.json'), '{"schemaVersion":2,');
  await assert.rejects(
    openArtifact(broken),
    (e: unknown) => e instanceof WaybillError && e.code === 'MALFORMED' && e.input.endsWith('index.json'),
  );
  await writeFile(join(broken, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
  await assert.rejects(openArtifact(broken), { code: 'UNSUPPORTED' });

  const two = join(work, 'two');
  const first = await buildOciLayout(two, [{ a: '1' }], { blobsOnly: true });
  const second = await buildOciLayout(two, [{ a: '2' }], { blobsOnly: true });
  await writeLayoutIndex(two, [
    { ...first.manifest, annotations: { [OCI_ANNOTATION.refName]: 'one' } },
    { ...second.manifest, annotations: { [OCI_ANNOTATION.refName]: 'two' } },
  ]);
  await assert.rejects(openArtifact(two), { code: 'USAGE', reason: /one, two/ });
  assert.deepEqual(summary(await (await openArtifact(`oci:${two}:two`)).walk(filesOnly)), { a: '2|' });
});

test('oci:DIR without a tag names the one image even after waybill attached records to it', async () => {
  const dir = join(work, 'attached');
  const built = await buildOciLayout(dir, [{ 'a.txt': 'a' }]);
  await attachArtifact(
    dir,
    built.manifest,
    'application/vnd.example+json',
    Buffer.from('{}'),
    'application/json',
  );
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
  assert.equal(index.manifests.length, 2);
  assert.equal((await openArtifact(`oci:${dir}`)).digest, built.manifest.digest);
});
