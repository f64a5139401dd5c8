/**
 * End to end through the real CLI: signed-statement files an attacker wrote. A `.intoto.jsonl` may
 * hold any number of envelopes, one per line; 200 000 of them (10 MB) once overflowed the call stack
 * (`waybill: Maximum call stack size exceeded`, exit 2, no input named) in `verify --bundle` and, as
 * the record's signature sidecar, in `check`. Each must be judged like any other file: a verdict.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { waybill } from '../helpers/cli.ts';

let dir: string;
let artifact: string;
let manyLines: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'waybill-hostile-statements-'));
  artifact = join(dir, 'hello.txt');
  writeFileSync(artifact, 'hello\n');
  manyLines = '{"payloadType":"a","payload":"","signatures":[]}\n'.repeat(200_000);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('verify --bundle with 200 000 envelopes: a verdict on each, not a stack overflow', async () => {
  const bundle = join(dir, 'many.intoto.jsonl');
  writeFileSync(bundle, manyLines);
  const r = await waybill(['verify', artifact, '--allow-unsigned', '--bundle', bundle, '--format', 'json']);
  assert.equal(r.code, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /call stack/);
  const report = JSON.parse(r.stdout) as { statements: unknown[] };
  assert.ok(report.statements.length >= 200_000, `${report.statements.length} statements judged`);
});

test('check with a 200 000-line record signature sidecar: a verdict, not a stack overflow', async () => {
  // The signature sidecar is read only for a stamped file.
  const stamped = await waybill([
    'stamp',
    artifact,
    ...['--name', 'hello', '--version', '1.0.0', '--team', 'Example Team'],
    ...['--contact', 'team@example.org', '--bug-tracker', 'https://bugs.example.org/hello'],
    ...['--license', 'Apache-2.0', '-q'],
  ]);
  assert.ok(stamped.code === 0 || stamped.code === 1, stamped.stderr);
  writeFileSync(join(dir, 'hello.txt.record.sigstore.json'), manyLines);
  const r = await waybill(['check', artifact]);
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /call stack/);
});

test('statement files beside an artifact past 512 MiB together: one line, exit 2, none read', async () => {
  // Any number of NAME.<kind>.sigstore.json may sit beside a file, each up to 256 MiB and all held
  // in memory: six valid 200 MB envelopes took verify to 2.3 GB. Sparse files, cheap on disk.
  const sub = join(dir, 'many-sidecars');
  mkdirSync(sub);
  const file = join(sub, 'hello.txt');
  writeFileSync(file, 'hello\n');
  for (const kind of ['a', 'b', 'c']) {
    const sidecar = join(sub, `hello.txt.${kind}.sigstore.json`);
    writeFileSync(sidecar, '');
    truncateSync(sidecar, 200 * 1024 * 1024);
  }
  const r = await waybill(['verify', file, '--allow-unsigned']);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(
    r.stderr,
    /^waybill: \S+hello\.txt\.c\.sigstore\.json: the signed statement files read for one artifact add up to more than \d+ bytes$/m,
  );
});
