import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { WaybillError } from '../errors.ts';
import {
  createDigestVerifier,
  DigestCheck,
  parseSha256Digest,
  sha256Digest,
  sha256File,
  verifyBlob,
} from './digest.ts';

// Known answer: FIPS 180-2 test vector "abc".
const ABC = 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

async function run(chunks: Buffer[], expected: string, size?: number): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(chunks),
    createDigestVerifier(expected, { input: 'blob', size }),
    async (source) => {
      for await (const chunk of source) out.push(chunk as Buffer);
    },
  );
  return Buffer.concat(out);
}

test('sha256Digest matches the FIPS 180-2 vector', () => {
  assert.equal(sha256Digest('abc'), ABC);
});

test('verifier passes bytes through and accepts the right digest', async () => {
  const out = await run([Buffer.from('a'), Buffer.from('bc')], ABC, 3);
  assert.equal(out.toString(), 'abc');
});

test('verifier rejects a wrong digest, a short blob and a long blob', async () => {
  const wrong = sha256Digest('abd');
  await assert.rejects(
    run([Buffer.from('abc')], wrong),
    (e: unknown) => e instanceof WaybillError && e.code === 'DIGEST_MISMATCH',
  );
  await assert.rejects(run([Buffer.from('ab')], ABC, 3), {
    message: `blob: truncated: 2 of 3 bytes; digest is ${sha256Digest('ab')}, expected ${ABC}`,
  });
  await assert.rejects(run([Buffer.from('abcd')], ABC, 3), /more than the declared 3 bytes/);
});

test('digest strings: sha512 is UNSUPPORTED, garbage is MALFORMED', () => {
  assert.throws(() => parseSha256Digest(`sha512:${'a'.repeat(128)}`, 'x'), { code: 'UNSUPPORTED' });
  assert.throws(() => parseSha256Digest('sha256:XYZ', 'x'), { code: 'MALFORMED' });
  assert.throws(() => parseSha256Digest(42, 'x'), {
    code: 'MALFORMED',
    message: 'x: digest is not a valid sha256 digest: a number',
  });
  // A descriptor with no digest says so, not "…: undefined" (found by fuzzing).
  assert.throws(() => parseSha256Digest(undefined, 'index.json', 'manifests[0].digest'), {
    code: 'MALFORMED',
    message: 'index.json: manifests[0].digest is missing',
  });
  assert.throws(() => verifyBlob(Buffer.from('abc'), ABC, { input: 'x', size: 4 }), {
    code: 'DIGEST_MISMATCH',
  });
  verifyBlob(Buffer.from('abc'), ABC, { input: 'x', size: 3 });
});

test('sha256File hashes a whole file and a byte range', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'waybill-digest-'));
  try {
    const path = join(dir, 'f');
    await writeFile(path, 'xxabcxx');
    assert.equal(await sha256File(path, { start: 2, end: 4 }), ABC);
    assert.equal(await sha256File(path), sha256Digest('xxabcxx'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('DigestCheck: incremental, same verdicts as the verifier stream', () => {
  const ok = new DigestCheck(ABC, { input: 'x', size: 3 });
  ok.update(Buffer.from('a'));
  ok.update(Buffer.from('bc'));
  assert.deepEqual(ok.finish(), { digest: ABC, size: 3 });
  const long = new DigestCheck(ABC, { input: 'x', size: 3 });
  assert.throws(() => long.update(Buffer.from('abcd')), /more than the declared 3 bytes/);
  const wrong = new DigestCheck(sha256Digest('abd'), { input: 'x' });
  wrong.update(Buffer.from('abc'));
  assert.throws(
    () => wrong.finish(),
    (e: unknown) => e instanceof WaybillError && e.code === 'DIGEST_MISMATCH',
  );
  assert.throws(() => new DigestCheck('md5:abc', { input: 'x' }), /only sha256 digests are supported/);
});
