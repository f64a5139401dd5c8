/**
 * Destination references: every transport and its pieces, and every malformed one refused with one
 * USAGE line naming it (property: no input crashes the parser or reaches a write).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { isWaybillError } from '../errors.ts';
import { canonicalRegistryRef, parseDestination } from './destination.ts';

test('destinations: registry, layouts with and without a tag, release directories', async () => {
  assert.deepEqual(await parseDestination('docker://127.0.0.1:5000/team/app'), {
    kind: 'registry',
    ref: 'docker://127.0.0.1:5000/team/app',
    explicit: false,
  });
  assert.equal((await parseDestination('docker://127.0.0.1:5000/team/app:1.0')).kind, 'registry');
  assert.equal(
    ((await parseDestination('docker://127.0.0.1:5000/team/app:1.0')) as { explicit: boolean }).explicit,
    true,
  );
  assert.deepEqual(await parseDestination('oci:/tmp/out:1.0'), {
    kind: 'oci',
    ref: 'oci:/tmp/out:1.0',
    path: '/tmp/out',
    tag: '1.0',
  });
  assert.deepEqual(await parseDestination('oci-archive:out.tar'), {
    kind: 'oci-archive',
    ref: 'oci-archive:out.tar',
    path: 'out.tar',
  });
  assert.deepEqual(await parseDestination('dir:/srv/releases'), {
    kind: 'release-dir',
    ref: 'dir:/srv/releases',
    root: '/srv/releases',
  });
  assert.deepEqual(await parseDestination('dir:releases'), {
    kind: 'release-dir',
    ref: 'dir:releases',
    root: join(process.cwd(), 'releases'),
  });
  assert.deepEqual(await parseDestination('file:///srv/rel%20eases'), {
    kind: 'release-dir',
    ref: 'file:///srv/rel%20eases',
    root: '/srv/rel eases',
  });
  assert.equal(canonicalRegistryRef('docker://alpine'), 'docker://docker.io/library/alpine:latest');
});

test('a path that exists with a colon in its name is the whole path (as skopeo does)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'waybill-dest-'));
  try {
    const odd = join(dir, 'a:b');
    await mkdir(odd);
    assert.deepEqual(await parseDestination(`oci:${odd}`), { kind: 'oci', ref: `oci:${odd}`, path: odd });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('malformed destinations: one USAGE line naming the reference', async () => {
  for (const [ref, reason] of [
    ['docker://127.0.0.1:5000/Bad/Name:1', /"B" at position 1/],
    ['docker://host.example/app:bad\ttag', /not allowed/],
    ['oci:/tmp/out:bad\u001btag', /not a valid tag/],
    ['oci::1', /names no path/],
    ['dir:', /names no directory/],
    ['file://remote.example/x', /not a local file URL/],
    ['file:///srv/releases?x=1', /no \?query/],
    ['ftp://x/y', /unknown destination/],
    ['/plain/path', /unknown destination/],
  ] as const) {
    await assert.rejects(parseDestination(ref), (e: unknown) => {
      assert.ok(isWaybillError(e), String(e));
      assert.equal(e.code, 'USAGE', ref);
      assert.match(e.reason, reason, ref);
      return true;
    });
  }
});

test('property: any text parses to a destination or one WaybillError (exit 2), never a crash', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.string(),
        fc.string().map((s) => `docker://${s}`),
        fc.string().map((s) => `oci:${s}`),
        fc.string().map((s) => `oci-archive:/nonexistent/${s}`),
        fc.string().map((s) => `file://${s}`),
      ),
      async (ref) => {
        try {
          const d = await parseDestination(ref);
          if (d.kind === 'oci' && d.tag !== undefined) assert.match(d.tag, /^[A-Za-z0-9_][A-Za-z0-9._-]*$/);
        } catch (e) {
          assert.ok(isWaybillError(e), `${JSON.stringify(ref)}: ${String(e)}`);
        }
      },
    ),
    { numRuns: 300 },
  );
});
