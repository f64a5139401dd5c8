/**
 * Integrity on every read, through the real CLI: artifacts stamped from a signed tag — an OCI layout
 * built by umoci, the oci-archive and docker-archive skopeo copies it to, a plain tarball — pass
 * untouched; one changed byte in any blob, file or SBOM they are bound to (the largest layer, the
 * config, the manifest, the attached or sidecar SBOM, the file itself), a truncated blob or a blob
 * replaced by a symbolic link makes `check` and `inspect` refuse (exit 2, one line naming the blob
 * and the expected and actual digests) and `verify` fail (exit 1, the same facts in its integrity
 * verdict).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { indexTarFile } from '../../src/archive/tar-reader.ts';
import { haveTools, run } from '../../src/oci/testing.ts';
import { sha256Digest } from '../../src/util/digest.ts';
import { type CliResult, waybill, waybillJson } from '../helpers/cli.ts';
import { makeSshSigner, makeTmp, removeTmp, type SshSigner } from '../helpers/git-fixtures.ts';
import { helloStampFlags, signedHelloRepo } from '../helpers/release-fixture.ts';

const missing = haveTools('umoci', 'skopeo');

interface VerifyReport {
  passed: boolean;
  statements: Array<{ kind: string; passed: boolean; reason?: string }>;
  integrity: Array<{ what: string; name: string; expected: string; actual?: string; passed: boolean }>;
}

interface InspectView {
  digest: string;
  manifest: { location: string } | null;
  integrity: Array<{ what: string; passed: boolean }>;
}

let tmp: string;
let signer: SshSigner;
let repo: string;
/** Stamped once each; every case works on a copy. */
const pristine: Record<'layout' | 'ociArchive' | 'dockerArchive' | 'tarball', string> = {
  layout: '',
  ociArchive: '',
  dockerArchive: '',
  tarball: '',
};

function stampFlags(): string[] {
  return helloStampFlags(repo, signer.allowedSignersFile);
}

/** Deterministic incompressible bytes: the largest layer, so it is told apart from the others. */
function noise(size: number): Buffer {
  const out = Buffer.alloc(size);
  let x = 0x9e3779b9;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** An image with three layers (os-release and a real executable; 256 KiB of noise; a small file), by umoci. */
function umociLayout(dir: string): void {
  run('umoci', ['init', '--layout', dir]);
  run('umoci', ['new', '--image', `${dir}:latest`]);
  const layers: Array<Record<string, Buffer>> = [
    { 'etc/os-release': readFileSync('/etc/os-release'), 'usr/bin/true': readFileSync('/usr/bin/true') },
    { 'opt/data/blob.bin': noise(256 * 1024) },
    { 'opt/app/README': Buffer.from('hello\n') },
  ];
  for (const [i, files] of layers.entries()) {
    const root = join(tmp, `layer-${i}`);
    for (const [path, data] of Object.entries(files)) {
      execFileSync('mkdir', ['-p', join(root, path, '..')]);
      writeFileSync(join(root, path), data);
    }
    const tar = join(tmp, `layer-${i}.tar`);
    execFileSync('tar', [
      '--sort=name',
      '--mtime=@1700000000',
      '--owner=0',
      '--group=0',
      '-cf',
      tar,
      '-C',
      root,
      '.',
    ]);
    run('umoci', ['raw', 'add-layer', '--image', `${dir}:latest`, tar]);
  }
  run('umoci', [
    'config',
    '--image',
    `${dir}:latest`,
    '--architecture',
    'amd64',
    '--os',
    'linux',
    '--created',
    '2024-01-02T03:04:05Z',
    '--history.created',
    '2024-01-02T03:04:05Z',
  ]);
}

async function stamp(ref: string): Promise<void> {
  const result = await waybill(['stamp', ref, ...stampFlags()]);
  assert.equal(result.code, 0, `stamp ${ref}: ${result.stderr}`);
}

before(async () => {
  if (missing) return;
  tmp = await makeTmp('waybill-integrity-');
  signer = await makeSshSigner(tmp);
  repo = await signedHelloRepo(tmp, signer);

  const source = join(tmp, 'source-layout');
  umociLayout(source);
  pristine.ociArchive = join(tmp, 'image-oci.tar');
  pristine.dockerArchive = join(tmp, 'image-docker.tar');
  execFileSync('skopeo', ['copy', '-q', `oci:${source}:latest`, `oci-archive:${pristine.ociArchive}:latest`]);
  execFileSync('skopeo', [
    'copy',
    '-q',
    `oci:${source}:latest`,
    `docker-archive:${pristine.dockerArchive}:hello:1.2.3`,
  ]);
  pristine.layout = join(tmp, 'layout');
  cpSync(source, pristine.layout, { recursive: true });
  pristine.tarball = join(tmp, 'hello-1.2.3.tar');
  // No os-release: a plain tarball, not a root filesystem with an identity of its own.
  execFileSync('tar', ['-cf', pristine.tarball, '-C', join(tmp, 'layer-1'), '.']);

  await stamp(`oci:${pristine.layout}:latest`);
  await stamp(`oci-archive:${pristine.ociArchive}:latest`);
  await stamp(`docker-archive:${pristine.dockerArchive}`);
  await stamp(`file:${pristine.tarball}`);
});

after(async () => {
  if (tmp) await removeTmp(tmp);
});

// ---- where the bytes are ---------------------------------------------------------------------------

/** A place bytes live: a whole file (a layout blob, a sidecar) or a member of a tar. */
interface Place {
  /** How waybill names it in messages. */
  name: string;
  file: string;
  offset: number;
  size: number;
}

function readPlace(p: Place): Buffer {
  const fd = openSync(p.file, 'r');
  try {
    const buf = Buffer.alloc(p.size);
    readSync(fd, buf, 0, p.size, p.offset);
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** Flips one bit in the middle of the place (in place, keeping the archive's structure). */
function flipByte(p: Place): void {
  const at = p.offset + Math.floor(p.size / 2);
  const fd = openSync(p.file, 'r+');
  try {
    const one = Buffer.alloc(1);
    readSync(fd, one, 0, 1, at);
    one[0] = (one[0] as number) ^ 0x01;
    writeSync(fd, one, 0, 1, at);
  } finally {
    closeSync(fd);
  }
}

function wholeFile(path: string): Place {
  return { name: path, file: path, offset: 0, size: readFileSync(path).length };
}

async function tarMember(tar: string, member: string): Promise<Place> {
  const entry = (await indexTarFile(tar)).get(member);
  assert.ok(entry, `${member} in ${tar}`);
  return { name: `${tar}:${member}`, file: tar, offset: entry.offset, size: entry.size };
}

interface Manifest {
  config: { digest: string };
  layers: Array<{ digest: string; size: number }>;
}

const hexOf = (digest: string) => digest.slice('sha256:'.length);

/** The blobs of the image tagged `latest` in a layout (directory or oci-archive). */
async function layoutBlobs(read: (name: string) => Promise<Buffer>) {
  const index = JSON.parse((await read('index.json')).toString()) as {
    manifests: Array<{ digest: string; annotations?: Record<string, string> }>;
  };
  const image = index.manifests.find(
    (m) => m.annotations?.['org.opencontainers.image.ref.name'] === 'latest',
  );
  assert.ok(image);
  const manifest = JSON.parse((await read(`blobs/sha256/${hexOf(image.digest)}`)).toString()) as Manifest;
  const largest = manifest.layers.reduce((a, b) => (b.size > a.size ? b : a));
  return { manifest: image.digest, config: manifest.config.digest, largest: largest.digest };
}

// ---- what each command must say --------------------------------------------------------------------

interface Expected {
  name: string;
  expected: string;
  /** The digest of the bytes now there; absent for a symbolic link (never followed). */
  actual?: string;
  why?: RegExp;
}

function assertRefused(result: CliResult, e: Expected, label: string): void {
  const context = `${label}: exit ${result.code}\n${result.stderr}${result.stdout.slice(0, 300)}`;
  assert.equal(result.code, 2, context);
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, context);
  const line = lines[0] as string;
  assert.ok(line.startsWith(`waybill: ${e.name}`), `names ${e.name}: ${context}`);
  assert.ok(line.includes(`expected ${e.expected}`), `expected digest: ${context}`);
  if (e.actual) assert.ok(line.includes(`digest is ${e.actual}`), `actual digest: ${context}`);
  if (e.why) assert.match(line, e.why, context);
  assert.equal(result.stdout, '', context);
}

async function assertCaught(ref: string, e: Expected): Promise<void> {
  const [check, inspect, verify] = await Promise.all([
    waybill(['check', ref]),
    waybill(['inspect', ref]),
    waybillJson<VerifyReport>(['verify', ref, '--allow-unsigned']),
  ]);
  assertRefused(check, e, `check ${ref}`);
  assertRefused(inspect, e, `inspect ${ref}`);
  const context = `verify ${ref}: ${JSON.stringify(verify.json, null, 2)}\n${verify.stderr}`;
  assert.equal(verify.code, 1, context);
  assert.equal(verify.json.passed, false, context);
  const verdict = verify.json.statements.find((s) => s.kind === 'integrity');
  assert.equal(verdict?.passed, false, context);
  const reason = verdict?.reason ?? '';
  assert.ok(reason.startsWith(e.name), context);
  assert.ok(reason.includes(`expected ${e.expected}`), context);
  if (e.actual) assert.ok(reason.includes(`digest is ${e.actual}`), context);
  const failed = verify.json.integrity.find((c) => !c.passed);
  assert.equal(failed?.expected, e.expected, context);
  if (e.actual) assert.equal(failed?.actual, e.actual, context);
}

async function assertIntact(ref: string): Promise<void> {
  // The consumer trusts the release signer: check and verify re-verify the tag from the record.
  const trust = ['--allowed-signers', signer.allowedSignersFile];
  const [check, inspect, verify] = await Promise.all([
    waybill(['check', ref, ...trust]),
    waybillJson<InspectView>(['inspect', ref]),
    waybillJson<VerifyReport>(['verify', ref, '--allow-unsigned', ...trust]),
  ]);
  assert.equal(check.code, 0, `check ${ref}: ${check.stdout}${check.stderr}`);
  assert.equal(inspect.code, 0, inspect.stderr);
  assert.ok(inspect.json.integrity.length >= 2 && inspect.json.integrity.every((c) => c.passed));
  assert.equal(verify.code, 0, JSON.stringify(verify.json, null, 2));
  assert.equal(verify.json.statements.find((s) => s.kind === 'integrity')?.passed, true);
  const text = await waybill(['inspect', ref]);
  assert.match(text.stdout, /integrity +\d+ digests match \(.* hashed\)/);
}

/** Flips a byte of the SBOM next to `path`: caught against the digest the record pins. */
async function assertSidecarSbomCaught(ref: string, path: string): Promise<void> {
  const record = JSON.parse(readFileSync(`${path}.waybill.json`, 'utf8')) as {
    predicate: { manifest: { digest: { sha256: string } } };
  };
  const place = wholeFile(`${path}.cdx.json`);
  flipByte(place);
  await assertCaught(ref, {
    name: place.name,
    expected: `sha256:${record.predicate.manifest.digest.sha256}`,
    actual: sha256Digest(readPlace(place)),
  });
}

let copies = 0;
/** A copy in a directory of its own, under the same name: sidecars name each other by file name. */
function copyOf(path: string): string {
  copies += 1;
  const dir = join(tmp, `copy-${copies}`);
  mkdirSync(dir);
  const target = join(dir, basename(path));
  cpSync(path, target, { recursive: true });
  for (const suffix of ['.waybill.json', '.cdx.json']) {
    if (existsSync(`${path}${suffix}`)) cpSync(`${path}${suffix}`, `${target}${suffix}`);
  }
  return target;
}

// ---- the cases ---------------------------------------------------------------------------------------

describe('OCI layout (umoci)', { skip: missing }, () => {
  const ref = (dir: string) => `oci:${dir}:latest`;
  const blob = (dir: string, digest: string) => join(dir, 'blobs/sha256', hexOf(digest));
  const blobsOf = (dir: string) => layoutBlobs(async (name) => readFileSync(join(dir, name)));

  test('untouched: check, inspect and verify pass', async () => {
    await assertIntact(ref(copyOf(pristine.layout)));
  });

  for (const which of ['largest', 'config', 'manifest'] as const) {
    test(`one byte flipped in the ${which === 'largest' ? 'largest layer' : which} blob`, async () => {
      const dir = copyOf(pristine.layout);
      const digest = (await blobsOf(dir))[which];
      const place = wholeFile(blob(dir, digest));
      flipByte(place);
      await assertCaught(ref(dir), {
        name: place.name,
        expected: digest,
        actual: sha256Digest(readPlace(place)),
      });
    });
  }

  test('one byte flipped in the attached SBOM', async () => {
    const dir = copyOf(pristine.layout);
    const view = await waybillJson<InspectView>(['inspect', ref(dir)]);
    const attachment = view.json.manifest?.location.replace(/^oci:/, '') ?? '';
    const artifactManifest = JSON.parse(readFileSync(blob(dir, attachment), 'utf8')) as Manifest;
    const sbom = artifactManifest.layers[0]?.digest as string;
    const place = wholeFile(blob(dir, sbom));
    flipByte(place);
    await assertCaught(ref(dir), {
      name: place.name,
      expected: sbom,
      actual: sha256Digest(readPlace(place)),
    });
  });

  test('the largest layer truncated', async () => {
    const dir = copyOf(pristine.layout);
    const digest = (await blobsOf(dir)).largest;
    const path = blob(dir, digest);
    truncateSync(path, 1000);
    await assertCaught(ref(dir), {
      name: path,
      expected: digest,
      actual: sha256Digest(readFileSync(path)),
      why: /truncated: 1000 of \d+ bytes; digest is sha256:[0-9a-f]{64}, expected sha256:[0-9a-f]{64}/,
    });
  });

  test('the largest layer replaced by a symbolic link (even to the same bytes)', async () => {
    const dir = copyOf(pristine.layout);
    const digest = (await blobsOf(dir)).largest;
    const path = blob(dir, digest);
    const outside = join(tmp, `outside-${copies}`);
    cpSync(path, outside);
    rmSync(path);
    symlinkSync(outside, path);
    await assertCaught(ref(dir), { name: path, expected: digest, why: /symbolic link/ });
  });
});

describe('oci-archive (skopeo)', { skip: missing }, () => {
  const ref = (tar: string) => `oci-archive:${tar}:latest`;
  const blobsOf = async (tar: string) => layoutBlobs(async (name) => readPlace(await tarMember(tar, name)));

  test('untouched: check, inspect and verify pass', async () => {
    await assertIntact(ref(copyOf(pristine.ociArchive)));
  });

  for (const which of ['largest', 'config'] as const) {
    test(`one byte flipped in the ${which === 'largest' ? 'largest layer' : which} blob, in place`, async () => {
      const tar = copyOf(pristine.ociArchive);
      const digest = (await blobsOf(tar))[which];
      const place = await tarMember(tar, `blobs/sha256/${hexOf(digest)}`);
      flipByte(place);
      await assertCaught(ref(tar), {
        name: place.name,
        expected: digest,
        actual: sha256Digest(readPlace(place)),
      });
    });
  }

  test('one byte flipped in the attached SBOM', async () => {
    const tar = copyOf(pristine.ociArchive);
    const view = await waybillJson<InspectView>(['inspect', ref(tar)]);
    const attachment = view.json.manifest?.location.replace(/^oci:/, '') ?? '';
    const artifactManifest = JSON.parse(
      readPlace(await tarMember(tar, `blobs/sha256/${hexOf(attachment)}`)).toString(),
    ) as Manifest;
    const sbom = artifactManifest.layers[0]?.digest as string;
    const place = await tarMember(tar, `blobs/sha256/${hexOf(sbom)}`);
    flipByte(place);
    await assertCaught(ref(tar), {
      name: place.name,
      expected: sbom,
      actual: sha256Digest(readPlace(place)),
    });
  });
});

describe('docker-archive (skopeo)', { skip: missing }, () => {
  const ref = (tar: string) => `docker-archive:${tar}`;
  const saved = async (tar: string) => {
    const list = JSON.parse(readPlace(await tarMember(tar, 'manifest.json')).toString()) as Array<{
      Config: string;
      Layers: string[];
    }>;
    const entry = list[0] as { Config: string; Layers: string[] };
    const layers = await Promise.all(entry.Layers.map((name) => tarMember(tar, name)));
    return {
      config: await tarMember(tar, entry.Config),
      largest: layers.reduce((a, b) => (b.size > a.size ? b : a)),
    };
  };

  test('untouched: check, inspect and verify pass', async () => {
    await assertIntact(ref(copyOf(pristine.dockerArchive)));
  });

  test('one byte flipped in the largest (uncompressed) layer: checked against its diff_id', async () => {
    const tar = copyOf(pristine.dockerArchive);
    const { largest } = await saved(tar);
    const diffId = `sha256:${/([0-9a-f]{64})\.tar$/.exec(largest.name)?.[1]}`;
    flipByte(largest);
    await assertCaught(ref(tar), {
      name: largest.name,
      expected: diffId,
      actual: sha256Digest(readPlace(largest)),
    });
  });

  test('one byte flipped in the config: its file name is its digest', async () => {
    const tar = copyOf(pristine.dockerArchive);
    const { config } = await saved(tar);
    const named = `sha256:${/([0-9a-f]{64})\.json$/.exec(config.name)?.[1]}`;
    flipByte(config);
    await assertCaught(ref(tar), {
      name: config.name,
      expected: named,
      actual: sha256Digest(readPlace(config)),
    });
  });

  test('one byte flipped in the sidecar SBOM', async () => {
    const tar = copyOf(pristine.dockerArchive);
    await assertSidecarSbomCaught(ref(tar), tar);
  });
});

describe('a file artifact with sidecars', { skip: missing }, () => {
  const ref = (path: string) => `file:${path}`;

  test('untouched: check, inspect and verify pass', async () => {
    await assertIntact(ref(copyOf(pristine.tarball)));
  });

  test('one byte flipped in the file itself', async () => {
    const path = copyOf(pristine.tarball);
    const before = sha256Digest(readFileSync(path));
    const place = wholeFile(path);
    flipByte(place);
    await assertCaught(ref(path), { name: path, expected: before, actual: sha256Digest(readFileSync(path)) });
  });

  test('one byte flipped in the sidecar SBOM', async () => {
    const path = copyOf(pristine.tarball);
    await assertSidecarSbomCaught(ref(path), path);
  });
});
