import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { openArtifact } from '../sources/open.ts';
import { buildTar } from '../sources/testing.ts';
import { architectureFromHead, machineArchitectures } from './machine-architecture.ts';

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386' };

test('a real executable of this machine gives its architecture', () => {
  const head = readFileSync('/usr/bin/true').subarray(0, 64);
  assert.equal(architectureFromHead(head), GOARCH[arch()] ?? arch());
});

test('random bytes give an architecture or nothing, never an exception', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const result = architectureFromHead(Buffer.from(bytes));
      assert.ok(result === undefined || typeof result === 'string');
    }),
  );
});

test('a tarball with an executable has its machine; one without any machine code is noarch', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'waybill-arch-'));
  try {
    const withBinary = join(dir, 'bin.tar');
    await writeFile(
      withBinary,
      buildTar({ 'app/bin/true': readFileSync('/usr/bin/true'), 'app/README': 'hi\n' }),
    );
    assert.deepEqual(await machineArchitectures(await openArtifact(`file:${withBinary}`)), [
      GOARCH[arch()] ?? arch(),
    ]);
    const scripts = join(dir, 'scripts.tar');
    await writeFile(scripts, buildTar({ 'app/bin/hello': '#!/bin/sh\necho hi\n' }));
    assert.deepEqual(await machineArchitectures(await openArtifact(`file:${scripts}`)), ['noarch']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
