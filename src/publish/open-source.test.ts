/**
 * Sources of a copy or publish: a layout that `build` made carries the rebuild kit next to it, and
 * that kit (only one listing the image) joins the graph; a directory and a docker-archive are refused
 * with a line saying what to do.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { tarBuffer } from '../archive/tar-writer.ts';
import { isWaybillError } from '../errors.ts';
import { writeKit } from '../provenance/build/kit.ts';
import { sampleKitManifest } from '../provenance/build/testing.ts';
import { BlobCache } from '../registry/blob-cache.ts';
import { buildOciLayout } from '../sources/testing.ts';
import { collectGraph } from './graph.ts';
import { openCopySource } from './open-source.ts';
import { REBUILD_KIT_ARTIFACT_TYPE } from './sidecars.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waybill-open-source-'));
});
after(async () => rm(dir, { recursive: true, force: true }));

test("a layout's rebuild kit next to it is attached to its image; another image's kit is not", async () => {
  const image = await buildOciLayout(join(dir, 'image'), [{ 'etc/hello': 'hi' }], { tag: 'latest' });
  const source = join(dir, 'source.tar.in');
  await writeFile(source, await tarBuffer([{ path: 'README', data: 'hello\n' }]));
  const bytes = await readFile(source);
  const kit = (published: string) =>
    sampleKitManifest(bytes, [
      { path: 'dist/image', name: 'image', kind: 'oci-layout', built: published, published },
    ]);
  const config = Buffer.from('version: 1\n');
  await writeKit(
    join(dir, 'hello-1.2.3.rebuild.tar'),
    kit(image.manifest.digest.slice(7)),
    config,
    source,
    0,
  );
  await writeKit(join(dir, 'other-1.0.rebuild.tar'), kit('ee'.repeat(32)), config, source, 0);
  const opened = await openCopySource(`oci:${join(dir, 'image')}:latest`, {
    cache: new BlobCache(join(dir, 'cache')),
  });
  const graph = await collectGraph(opened.source);
  assert.deepEqual(
    graph.referrers.map((r) => [r.subject.digest, r.descriptor.artifactType]),
    [[image.manifest.digest, REBUILD_KIT_ARTIFACT_TYPE]],
  );
});

test('a directory and a docker-archive have no OCI form: one line each', async () => {
  await mkdir(join(dir, 'tree'));
  await assert.rejects(
    openCopySource(`dir:${join(dir, 'tree')}`, { cache: new BlobCache(join(dir, 'cache')) }),
    (e) => {
      assert.ok(isWaybillError(e) && e.code === 'UNSUPPORTED');
      assert.match(e.reason, /pack it into a tarball/);
      return true;
    },
  );
});
