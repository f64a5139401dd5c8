/**
 * `npm run demo` is the README's quick start and a smoke test of the whole release flow: it must run
 * to the end with exit 0 (every waybill command gave its expected exit code and output), offline,
 * and print paths relative to its output folder. Its runner must stop the demo when a step does not
 * give the expected outcome, or the demo would "pass" whatever waybill does.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DemoRunner, UnexpectedOutcome } from '../../scripts/demo/runner.ts';
import { WAYBILL_BIN } from '../helpers/cli.ts';
import { withTempDir } from '../helpers/temp-dir.ts';

const DEMO = fileURLToPath(new URL('../../scripts/demo.ts', import.meta.url));

function runDemo(out: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DEMO, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

test('the demo runs every step with its expected outcome and exits 0', async () => {
  await withTempDir('demo', async (dir) => {
    const out = join(dir, 'out');
    const r = await runDemo(out);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    // What each act of the story must show (the demo checks these too; this pins that it still does).
    for (const shown of [
      /^\$ waybill build .*--key keys\/release\.key/m,
      /^ +wrote +hello\/1\.0\.0\/hello-1\.0\.0\.tar\.gz\.rebuild\.tar$/m,
      /^7 passed, 0 failed$/m,
      /^✔ publication \(/m,
      /^✔ record \(/m,
      /^✔ provenance \(/m,
      /^\$ waybill rebuild releases\/hello\/1\.0\.0\/hello-1\.0\.0\.tar\.gz .*\nreproduced +hello-1\.0\.0\.tar\.gz$/m,
      /^4 passed, 3 failed$/m,
      /x_DEMO-2026-0001 +@example\/greeting 1\.2\.0/,
      /^NOT reproduced +hello-1\.1\.0\.tar\.gz$/m,
      /^ +content +hello-1\.1\.0\.tar\.gz!\/hello-1\.1\.0\/BUILD_INFO: /m,
      /^✘ record \(.*\n +failed: .*edited after signing/m,
      /^✘ integrity — oci:tampered\/hello-image:1\.0\.0\n +failed: tampered\/hello-image\/blobs\/sha256\/[0-9a-f]{64} \(layer 1 of 1\)/m,
      /^== Every step gave the expected outcome$/m,
    ]) {
      assert.match(r.stdout, shown);
    }
    // The output folder is named once, at the start; everything else is relative to it.
    const mentions = r.stdout.split('\n').filter((line) => line.includes(out));
    assert.deepEqual(mentions, [`Output folder: ${out}  (paths below are relative to it)`]);
    assert.ok(existsSync(join(out, 'dist', 'hello-1.0.0.rebuild.tar')));
  });
});

test('the demo stops with exit 1 at the first step whose outcome is not the expected one', async () => {
  await withTempDir('demo-runner', async (out) => {
    let shown = '';
    const runner = new DemoRunner(out, WAYBILL_BIN, 0, (text) => {
      shown += text;
    });
    assert.equal(runner.waybill(['--version'], { exit: 0, shows: [/^\d+\.\d+\.\d+$/m] }).code, 0);
    assert.throws(() => runner.waybill(['--version'], { exit: 1 }), UnexpectedOutcome);
    assert.throws(
      () => runner.waybill(['--version'], { exit: 0, shows: [/never printed/] }),
      (e: Error) => e instanceof UnexpectedOutcome && /did not show \/never printed\//.test(e.message),
    );
    assert.throws(() => runner.waybill(['check', 'missing.tar'], { exit: 1 }), /exited 2, expected 1/);
    assert.deepEqual(runner.checked, ['waybill --version  → exit 0']);
    // Each command is shown with what it printed and how it ended, the failing ones too.
    assert.match(shown, /^\$ waybill check missing\.tar\nwaybill: missing\.tar: .*\n\(exit 2\)$/m);
  });
});
