/**
 * The blob hashing module: hashLocation against node:crypto over the same bytes (ranges, sizes across
 * the read size, truncated files), and hashBlobs / verifyImageBlobs on real layouts and archives:
 * every blob passes untouched; one changed, truncated, missing or linked blob fails alone, named,
 * with both digests; blobs a walk verified are not read again; a docker-archive layer bound only by
 * its diff_id is decompressed to check it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { sha256Digest } from '../util/digest.ts';
import { hashLocation, verifyImageBlobs } from './integrity.ts';
import { openArtifact } from './open.ts';
import { buildMultiPlatformLayout, buildOciLayout, buildTar } from './testing.ts';
import type { Artifact, IntegrityCheck } from './types.ts';

const work = mkdtempSync(join(tmpdir(), 'waybill-integrity-'));
after(() => rmSync(work, { recursive: true, force: true }));

let counter = 0;
function fresh(name: string): string {
  counter += 1;
  return join(work, `${counter}-${name}`);
}

function blobPath(layout: string, digest: string): string {
  return join(layout, 'blobs/sha256', digest.slice('sha256:'.length));
}

function flipByte(path: string, at?: number): void {
  const bytes = readFileSync(path);
  const i = at ?? Math.floor(bytes.length / 2);
  bytes[i] = (bytes[i] as number) ^ 0x01;
  writeFileSync(path, bytes);
}

async function verify(
  artifact: Artifact,
  verified?: ReadonlySet<string>,
  onProgress?: (done: number, total: number) => void,
): Promise<IntegrityCheck[]> {
  assert.ok(artifact.verifyBlobs, `${artifact.kind} artifacts verify their blobs`);
  return artifact.verifyBlobs({ ...(verified ? { verified } : {}), ...(onProgress ? { onProgress } : {}) });
}

const failures = (checks: IntegrityCheck[]) => checks.filter((c) => !c.passed);

/** Three layers of distinct sizes (the largest incompressible), so each is told apart. */
async function threeLayerImage(dir: string) {
  const noise = createHash('sha512');
  const big: Buffer[] = [];
  for (let i = 0; i < 6000; i++) big.push(noise.update(String(i)).copy().digest());
  return buildOciLayout(dir, [
    { 'etc/os-release': 'ID=test\n' },
    { 'usr/share/big.bin': Buffer.concat(big) },
    { 'app/hello.txt': 'hello\n' },
  ]);
}

test('hashLocation equals sha256 of the same byte range, across the read size and for short files', async () => {
  const path = fresh('ranges.bin');
  // 9 MiB + 3 bytes: more than two 4 MiB reads, the last one partial.
  const data = Buffer.alloc(9 * 1024 * 1024 + 3);
  for (let i = 0; i < data.length; i += 4096) data[i] = i % 251;
  writeFileSync(path, data);
  const whole = await hashLocation({ file: path, start: 0, size: data.length, name: path });
  assert.deepEqual(whole, { digest: sha256Digest(data), size: data.length });
  const middle = await hashLocation({ file: path, start: 1234, size: 5 * 1024 * 1024, name: path });
  assert.deepEqual(middle, {
    digest: sha256Digest(data.subarray(1234, 1234 + 5 * 1024 * 1024)),
    size: 5 * 1024 * 1024,
  });
  const empty = await hashLocation({ file: path, start: 10, size: 0, name: path });
  assert.deepEqual(empty, { digest: sha256Digest(''), size: 0 });
  // A location past the end of the file (truncated since it was located): what is there, and its size.
  const past = await hashLocation({ file: path, start: data.length - 10, size: 100, name: path });
  assert.deepEqual(past, { digest: sha256Digest(data.subarray(data.length - 10)), size: 10 });
});

test('property: hashLocation of any range of any bytes is sha256 of that slice', async () => {
  const path = fresh('property.bin');
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), fc.nat(), fc.nat(), async (bytes, a, b) => {
      writeFileSync(path, bytes);
      const start = bytes.length === 0 ? 0 : a % bytes.length;
      const size = b % (bytes.length - start + 1);
      const got = await hashLocation({ file: path, start, size, name: path });
      assert.deepEqual(got, {
        digest: sha256Digest(Buffer.from(bytes.subarray(start, start + size))),
        size,
      });
    }),
    { numRuns: 200 },
  );
});

test('an untouched image: every manifest, config and layer passes, hashed', async () => {
  const dir = fresh('intact');
  const built = await threeLayerImage(dir);
  const checks = await verify(await openArtifact(`oci:${dir}:latest`));
  assert.deepEqual(
    checks.map((c) => [c.what, c.expected, c.passed, c.checkedBy]),
    [
      ['image manifest', built.manifest.digest, true, 'hash'],
      ['image config', built.config.digest, true, 'hash'],
      ...built.layers.map((l, i) => [`layer ${i + 1} of 3`, l.digest, true, 'hash']),
    ],
  );
  for (const c of checks) assert.equal(c.actual, c.expected);
  assert.equal(checks[3]?.actualSize, built.layers[1]?.size);
});

test('one flipped byte in the largest layer fails that layer alone, with both digests', async () => {
  const dir = fresh('flipped');
  const built = await threeLayerImage(dir);
  const largest = built.layers.reduce((a, b) => (b.size > a.size ? b : a));
  const path = blobPath(dir, largest.digest);
  flipByte(path);
  const failed = failures(await verify(await openArtifact(`oci:${dir}:latest`)));
  assert.equal(failed.length, 1);
  const f = failed[0] as IntegrityCheck;
  assert.equal(f.what, 'layer 2 of 3');
  assert.equal(f.name, path);
  assert.equal(f.expected, largest.digest);
  assert.equal(f.actual, sha256Digest(readFileSync(path)));
  assert.equal(f.problem, `digest is ${f.actual}, expected ${largest.digest}`);
});

test('a truncated layer names both sizes; a missing one and a symlinked one say why', async () => {
  const dir = fresh('damaged');
  const built = await threeLayerImage(dir);
  const [first, second, third] = built.layers.map((l) => blobPath(dir, l.digest)) as [string, string, string];
  truncateSync(second, 100);
  rmSync(third);
  const outside = fresh('outside.bin');
  writeFileSync(outside, readFileSync(first));
  rmSync(first);
  // Even a link to the right bytes is refused: a layout holds its blobs itself.
  symlinkSync(outside, first);
  const checks = await verify(await openArtifact(`oci:${dir}:latest`));
  const byWhat = Object.fromEntries(failures(checks).map((c) => [c.what, c]));
  assert.deepEqual(Object.keys(byWhat).sort(), ['layer 1 of 3', 'layer 2 of 3', 'layer 3 of 3']);
  const truncated = byWhat['layer 2 of 3'] as IntegrityCheck;
  assert.equal(truncated.actualSize, 100);
  assert.equal(truncated.expectedSize, built.layers[1]?.size);
  assert.equal(truncated.actual, sha256Digest(readFileSync(second)));
  assert.equal(
    truncated.problem,
    `truncated: 100 of ${built.layers[1]?.size} bytes; digest is ${truncated.actual}, expected ${built.layers[1]?.digest}`,
  );
  assert.match(
    byWhat['layer 3 of 3']?.problem ?? '',
    new RegExp(`missing.*expected ${built.layers[2]?.digest}`),
  );
  assert.match(byWhat['layer 1 of 3']?.problem ?? '', /symbolic link/);
  assert.equal(byWhat['layer 1 of 3']?.actual, undefined);
});

test('blobs a walk verified are not read again; the others still are', async () => {
  const dir = fresh('walked');
  const built = await threeLayerImage(dir);
  const artifact = await openArtifact(`oci:${dir}:latest`);
  // Changed after the (pretend) walk: not re-read, so it passes as walked. Proves no second read.
  flipByte(blobPath(dir, built.layers[1]?.digest as string));
  const checks = await verify(artifact, new Set(built.layers.map((l) => l.digest)));
  assert.deepEqual(
    checks.map((c) => [c.what, c.passed, c.checkedBy]),
    [
      ['image manifest', true, 'hash'],
      ['image config', true, 'hash'],
      ['layer 1 of 3', true, 'walk'],
      ['layer 2 of 3', true, 'walk'],
      ['layer 3 of 3', true, 'walk'],
    ],
  );
});

test('a layer listed twice is hashed once and reported for both positions', async () => {
  const dir = fresh('twice');
  const built = await buildOciLayout(dir, [{ a: 'same' }, { a: 'same' }]);
  assert.equal(built.layers[0]?.digest, built.layers[1]?.digest);
  const artifact = await openArtifact(`oci:${dir}:latest`);
  let hashed = 0;
  const checks = await verify(artifact, undefined, (done) => {
    hashed = done;
  });
  assert.deepEqual(
    checks.map((c) => [c.what, c.passed]),
    [
      ['image manifest', true],
      ['image config', true],
      ['layer 1 of 2', true],
      ['layer 2 of 2', true],
    ],
  );
  assert.equal(hashed, built.manifest.size + built.config.size + (built.layers[0]?.size as number));
});

test('a store that cannot find a blob gives failed checks naming it, never an exception', async () => {
  const dir = fresh('nothing-found');
  await buildOciLayout(dir, [{ a: 'a' }]);
  const artifact = await openArtifact(`oci:${dir}:latest`);
  const checks = await verifyImageBlobs({ root: dir, locateFile: async () => undefined }, artifact.image!);
  assert.equal(checks.length, 3);
  for (const c of checks) {
    assert.equal(c.passed, false);
    assert.match(c.problem ?? '', new RegExp(`blob ${c.expected} is missing; expected ${c.expected}`));
  }
});

test('property: flipping any one byte of any blob fails exactly that blob, with its actual digest', async () => {
  const dir = fresh('prop-flip');
  const built = await buildOciLayout(dir, [{ a: 'x'.repeat(300) }, { b: 'y'.repeat(900) }]);
  const blobs = [built.manifest, built.config, ...built.layers];
  const labels = ['image manifest', 'image config', 'layer 1 of 2', 'layer 2 of 2'];
  await fc.assert(
    fc.asyncProperty(
      fc.nat(blobs.length - 1),
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      async (which, at, xor) => {
        const descriptor = blobs[which]!;
        const path = blobPath(dir, descriptor.digest);
        const original = readFileSync(path);
        const changed = Buffer.from(original);
        const i = at % changed.length;
        changed[i] = (changed[i] as number) ^ xor;
        const artifact = await openArtifact(`oci:${dir}:latest`);
        writeFileSync(path, changed);
        try {
          const failed = failures(await verify(artifact));
          assert.deepEqual(
            failed.map((c) => [c.what, c.expected, c.actual]),
            [[labels[which], descriptor.digest, sha256Digest(changed)]],
          );
        } finally {
          writeFileSync(path, original);
        }
      },
    ),
    { numRuns: 60 },
  );
});

test('oci-archive: blobs are hashed in place by byte range; a flipped layer byte is found', async () => {
  const dir = fresh('layout-for-archive');
  const built = await threeLayerImage(dir);
  const files: Record<string, Buffer> = {
    'oci-layout': readFileSync(join(dir, 'oci-layout')),
    'index.json': readFileSync(join(dir, 'index.json')),
  };
  for (const d of [built.manifest, built.config, ...built.layers])
    files[`blobs/sha256/${d.digest.slice(7)}`] = readFileSync(blobPath(dir, d.digest));
  const archive = fresh('image.oci.tar');
  const tar = buildTar(files);
  writeFileSync(archive, tar);
  const intact = await verify(await openArtifact(`oci-archive:${archive}`));
  assert.deepEqual(failures(intact), []);
  assert.equal(intact.length, 5);

  const layer = files[`blobs/sha256/${built.layers[1]?.digest.slice(7)}`] as Buffer;
  const offset = tar.indexOf(layer);
  flipByte(archive, offset + 1000);
  const failed = failures(await verify(await openArtifact(`oci-archive:${archive}`)));
  assert.equal(failed.length, 1);
  assert.equal(failed[0]?.what, 'layer 2 of 3');
  assert.equal(failed[0]?.name, `${archive}:blobs/sha256/${built.layers[1]?.digest.slice(7)}`);
  assert.equal(failed[0]?.expected, built.layers[1]?.digest);
});

/** A docker save archive: config named by its digest, layers by path (one uncompressed, one gzip). */
function dockerArchive(path: string, layers: { tar: Buffer; gzip: boolean }[]): { config: string } {
  const diffIds = layers.map((l) => sha256Digest(l.tar));
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } }),
  );
  const configName = `${sha256Digest(config).slice(7)}.json`;
  const files: Record<string, Buffer | string> = { [configName]: config };
  const names = layers.map((l, i) => {
    const name = `layer${i}/layer.tar`;
    files[name] = l.gzip ? zlib.gzipSync(l.tar) : l.tar;
    return name;
  });
  files['manifest.json'] = JSON.stringify([{ Config: configName, RepoTags: ['t:1'], Layers: names }]);
  writeFileSync(path, buildTar(files));
  return { config: sha256Digest(config) };
}

test('docker-archive: uncompressed layers are checked against their diff_id, compressed ones decompressed', async () => {
  const plain = buildTar({ 'etc/os-release': 'ID=test\n', 'a.txt': 'a'.repeat(5000) });
  const packed = buildTar({ 'b.txt': 'b'.repeat(7000) });
  const archive = fresh('docker.tar');
  const { config } = dockerArchive(archive, [
    { tar: plain, gzip: false },
    { tar: packed, gzip: true },
  ]);
  const intact = await verify(await openArtifact(`docker-archive:${archive}`));
  assert.deepEqual(
    intact.map((c) => [c.what, c.passed]),
    [
      ['image config', true],
      ['layer 1 of 2', true],
      ['layer 2 of 2', true],
    ],
  );
  assert.equal(intact[0]?.expected, config);
  assert.equal(intact[1]?.expected, sha256Digest(plain));

  // One content byte of the uncompressed layer.
  const bytes = readFileSync(archive);
  const at = bytes.indexOf('a'.repeat(5000));
  flipByte(archive, at + 10);
  const failed = failures(await verify(await openArtifact(`docker-archive:${archive}`)));
  assert.deepEqual(
    failed.map((c) => [c.what, c.expected]),
    [['layer 1 of 2', sha256Digest(plain)]],
  );
  assert.equal(failed[0]?.name, `${archive}:layer0/layer.tar`);
  flipByte(archive, at + 10);

  // One byte of the gzip layer: its digest is computed at open, so only the diff_id can tell.
  const gz = zlib.gzipSync(packed);
  flipByte(archive, readFileSync(archive).indexOf(gz) + Math.floor(gz.length / 2));
  const broken = failures(await verify(await openArtifact(`docker-archive:${archive}`)));
  assert.equal(broken.length, 1);
  assert.equal(broken[0]?.what, 'layer 2 of 2');
  assert.match(broken[0]?.problem ?? '', /diff_id/);
});

test('a multi-platform index: the index and every platform unless one is chosen', async () => {
  const dir = fresh('multi');
  const { arm } = await buildMultiPlatformLayout(dir, 'multi');
  const whole = await verify(await openArtifact(`oci:${dir}:multi`));
  assert.deepEqual(
    whole.map((c) => [c.what, c.passed]),
    [
      ['image index', true],
      ['image manifest (linux/amd64)', true],
      ['image config (linux/amd64)', true],
      ['layer 1 of 1 (linux/amd64)', true],
      ['image manifest (linux/arm64/v8)', true],
      ['image config (linux/arm64/v8)', true],
      ['layer 1 of 1 (linux/arm64/v8)', true],
    ],
  );
  flipByte(blobPath(dir, arm.layers[0]?.digest as string));
  const one = await verify(await openArtifact(`oci:${dir}:multi`, { platform: 'linux/amd64' }));
  assert.deepEqual(
    one.map((c) => [c.what, c.passed]),
    [
      ['image index', true],
      ['image manifest', true],
      ['image config', true],
      ['layer 1 of 1', true],
    ],
  );
  const all = failures(await verify(await openArtifact(`oci:${dir}:multi`)));
  assert.deepEqual(
    all.map((c) => c.what),
    ['layer 1 of 1 (linux/arm64/v8)'],
  );
});
