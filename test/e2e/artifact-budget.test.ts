/**
 * Decompression budgets per artifact, through the real CLI. The attack from the security review:
 * an OCI image that lists one 1 MiB gzip layer (a tar of 1 GiB of zeros) ten thousand times, a few
 * MB on disk that took hours to walk. Now: refused for its layer count at once; with the layer limit
 * raised, the layer is inflated once and the artifact's byte budget (which counts each position the
 * image applies the layer at) stops it. A layer of many small entries repeated stops on the entry
 * budget. Every case: one line naming the image, LIMIT wording, exit 2, nothing written by stamp.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import { BLOCK_SIZE } from '../../src/archive/tar-reader.ts';
import { MEDIA_TYPE, OCI_ANNOTATION } from '../../src/oci/types.ts';
import { buildOciLayout, buildTar, writeBlob, writeLayoutIndex } from '../../src/sources/testing.ts';
import { type CliResult, waybill } from '../helpers/cli.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'waybill-budget-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

/**
 * A gzip tar holding one file of `size` zero bytes, without holding it in memory: gzip members may
 * be concatenated (RFC 1952 §2.2), and 1 MiB of zeros deflates to about 1 KiB, so the same member
 * is repeated. Returns the blob and the tar's sha256 (the diff_id).
 */
function zeroLayer(size: number): { blob: Buffer; diffId: string } {
  const header = buildTar({ zeros: '' }).subarray(0, BLOCK_SIZE);
  // Patch the size field (octal, 11 digits) and the checksum of the one header.
  header.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  const chunk = Buffer.alloc(MiB);
  const zeroMember = zlib.gzipSync(chunk, { level: 9 });
  const hash = createHash('sha256').update(header);
  const members: Buffer[] = [zlib.gzipSync(header)];
  for (let done = 0; done < size; done += MiB) {
    hash.update(chunk);
    members.push(zeroMember);
  }
  const trailer = Buffer.alloc(2 * BLOCK_SIZE); // size is a multiple of 512: no padding, end blocks
  hash.update(trailer);
  members.push(zlib.gzipSync(trailer));
  return { blob: Buffer.concat(members), diffId: `sha256:${hash.digest('hex')}` };
}

/** An OCI layout whose one manifest lists `layer` `times` times. */
async function repeatedLayerImage(dir: string, layer: { blob: Buffer; diffId: string }, times: number) {
  const descriptor = await writeBlob(dir, layer.blob, MEDIA_TYPE.ociLayerGzip);
  const config = {
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: Array.from({ length: times }, () => layer.diffId) },
  };
  const configDescriptor = await writeBlob(dir, Buffer.from(JSON.stringify(config)), MEDIA_TYPE.ociConfig);
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociManifest,
    config: configDescriptor,
    layers: Array.from({ length: times }, () => descriptor),
  };
  const manifestDescriptor = await writeBlob(
    dir,
    Buffer.from(JSON.stringify(manifest)),
    MEDIA_TYPE.ociManifest,
  );
  await writeLayoutIndex(dir, [
    { ...manifestDescriptor, annotations: { [OCI_ANNOTATION.refName]: 'latest' } },
  ]);
}

function assertLimit(r: CliResult, label: string, why: RegExp): void {
  const context = `${label}: exit ${r.code}\n${r.stderr}${r.stdout.slice(0, 300)}`;
  assert.equal(r.code, 2, context);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, context);
  assert.match(lines[0] as string, /^waybill: /, context);
  assert.match(lines[0] as string, why, context);
  assert.equal(r.stdout, '', context);
}

const STAMP = [
  '--name',
  'bomb',
  '--version',
  '1',
  '--team',
  'T',
  '--bug-tracker',
  'https://b.example/',
  '--quiet',
];

describe('per-artifact budgets stop hostile images that are small on disk', { concurrency: false }, () => {
  test('one 1 MiB gzip layer of 1 GiB of zeros, listed 10 000 times', async (t) => {
    const layer = zeroLayer(GiB);
    assert.ok(layer.blob.length < 2 * MiB, `${layer.blob.length} bytes`);
    const dir = join(root, 'ten-thousand');
    await repeatedLayerImage(dir, layer, 10_000);

    const refused = await waybill(['sbom', `oci:${dir}:latest`, '--quiet']);
    assertLimit(refused, 'sbom, default limits', /10000 layers, more than 1000 \(WAYBILL_MAX_LAYERS\)/);

    // With the layer limit out of the way, the byte budget: the layer is inflated once (1 GiB),
    // then each further copy costs its 1 GiB without being read; the 32 GiB default is passed at
    // the 33rd copy.
    const env = { WAYBILL_MAX_LAYERS: '10000', WAYBILL_WORKERS: '0' };
    const started = Date.now();
    const budget = await waybill(['sbom', `oci:${dir}:latest`, '--quiet'], { env });
    assertLimit(
      budget,
      'sbom, byte budget',
      /expand past 34359738368 bytes in all \(WAYBILL_MAX_ARTIFACT_BYTES\)/,
    );
    assert.match(budget.stderr, new RegExp(`waybill: oci:${dir}:latest: `));
    const seconds = (Date.now() - started) / 1000;
    // A hang guard, not a speed goal (npm run bench measures speed): before, this ran for hours.
    assert.ok(seconds < 120, `${seconds} s`);
    t.diagnostic(`refused by the byte budget after ${seconds.toFixed(1)} s`);
  });

  test('many small entries in a layer listed a few hundred times: the entry budget', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 20_000; i++) files[`d/${i}`] = '';
    const dir = join(root, 'entries');
    // 20 000 entries × 300 positions = 6 000 000, past the default 5 000 000; 300 < 1000 layers.
    await buildOciLayout(dir, [files], { layerOrder: Array.from({ length: 300 }, () => 0) });
    const r = await waybill(['sbom', `oci:${dir}:latest`, '--quiet']);
    assertLimit(r, 'sbom, entries', /more than 5000000 entries in all \(WAYBILL_MAX_ENTRIES\)/);
  });

  test('distinct layers add up: each within the per-stream cap, together past the artifact cap', async () => {
    const dir = join(root, 'distinct');
    const big = (n: number) => ({ [`f${n}`]: Buffer.alloc(8 * MiB, n) });
    await buildOciLayout(dir, [big(1), big(2), big(3)]);
    const env = {
      WAYBILL_MAX_ARTIFACT_BYTES: String(20 * MiB),
      WAYBILL_MAX_UNCOMPRESSED_BYTES: String(10 * MiB),
    };
    const r = await waybill(['sbom', `oci:${dir}:latest`, '--quiet'], { env });
    assertLimit(r, 'sbom, distinct layers', /expand past 20971520 bytes in all/);
    const before = readdirSync(dir, { recursive: true }).sort();
    const stamped = await waybill(['stamp', `oci:${dir}:latest`, ...STAMP], { env });
    assertLimit(stamped, 'stamp', /WAYBILL_MAX_ARTIFACT_BYTES/);
    assert.deepEqual(readdirSync(dir, { recursive: true }).sort(), before, 'stamp wrote nothing');
    const ok = await waybill(['sbom', `oci:${dir}:latest`, '--quiet'], {
      env: { ...env, WAYBILL_MAX_ARTIFACT_BYTES: String(30 * MiB) },
    });
    assert.equal(ok.code, 0, ok.stderr);
    const bad = await waybill(['sbom', `oci:${dir}:latest`, '--quiet'], {
      env: { WAYBILL_MAX_ENTRIES: '-3' },
    });
    assertLimit(bad, 'bad env', /WAYBILL_MAX_ENTRIES: not a positive whole number/);
  });
});
