/**
 * `waybill sbom --workers N` through the real CLI in a child process: same stdout bytes whatever N,
 * the same error for a corrupt layer, and the process exits promptly (no worker thread left behind).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { blobName } from '../../sources/blob-store.ts';
import { buildOciLayout } from '../../sources/testing.ts';

const WAYBILL = fileURLToPath(new URL('../../../bin/waybill.js', import.meta.url));

function sbom(ref: string, ...args: string[]) {
  const started = Date.now();
  const r = spawnSync(process.execPath, [WAYBILL, 'sbom', ref, '--quiet', ...args], {
    encoding: 'buffer',
    timeout: 20_000,
    env: { ...process.env, WAYBILL_WORKERS: '' },
  });
  return {
    status: r.status,
    signal: r.signal,
    stdout: r.stdout,
    stderr: r.stderr.toString(),
    ms: Date.now() - started,
  };
}

test('sbom --workers: same bytes with 1 and 2; a corrupt layer, same error and a prompt exit', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'waybill-cli-workers-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const pkg = (name: string, version: string) => JSON.stringify({ name, version });
  const built = await buildOciLayout(dir, [
    {
      'etc/os-release': 'ID=alpine\nVERSION_ID=3.20.0\n',
      'app/node_modules/a/package.json': pkg('a', '1.0.0'),
    },
    { 'app/node_modules/b/package.json': pkg('b', '2.0.0'), 'opt/bulk': Buffer.alloc(1024 * 1024, 7) },
    { 'app/node_modules/a/package.json': pkg('a', '1.1.0') },
  ]);
  const one = sbom(`oci:${dir}`, '--workers', '1');
  const two = sbom(`oci:${dir}`, '--workers', '2');
  assert.equal(one.status, 0, one.stderr);
  assert.equal(two.status, 0, two.stderr);
  assert.ok(one.stdout.includes('pkg:npm/a@1.1.0'));
  assert.ok(two.stdout.equals(one.stdout), 'byte-identical SBOM');

  const blob = join(dir, blobName(built.layers[1]?.digest as string));
  const bytes = await readFile(blob);
  bytes[bytes.length - 9] = (bytes[bytes.length - 9] as number) ^ 0xff;
  await writeFile(blob, bytes);
  const brokenOne = sbom(`oci:${dir}`, '--workers', '1');
  const brokenTwo = sbom(`oci:${dir}`, '--workers', '2');
  assert.equal(brokenOne.status, 2, brokenOne.stderr);
  assert.match(brokenOne.stderr, /layer 2 of 3/);
  assert.equal(brokenTwo.signal, null, 'exited by itself, not killed by the timeout');
  assert.equal(brokenTwo.status, brokenOne.status);
  assert.equal(brokenTwo.stderr, brokenOne.stderr);
  assert.ok(brokenTwo.ms < 10_000, `exited in ${brokenTwo.ms} ms`);

  const bad = sbom(`oci:${dir}`, '--workers', 'lots');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--workers/);
});
