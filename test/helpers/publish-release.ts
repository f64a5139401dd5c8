/**
 * Runs `publishToReleaseDirectory` in a process of its own, so crash tests can kill it at a named
 * point (WAYBILL_TEST_CRASH_AT) the way `waybill publish` will be killed (until that command
 * exists). Usage: node publish-release.ts ROOT BUNDLE.json [--force]; BUNDLE.json is a ReleaseBundle
 * with each sidecar's bytes in base64. Prints the outcome as JSON; a WaybillError exits 2 with its
 * one line on stderr.
 */
import { readFileSync } from 'node:fs';
import { describeError, isWaybillError } from '../../src/errors.ts';
import { publishToReleaseDirectory, type ReleaseBundle } from '../../src/publish/release-dir.ts';

type StoredBundle = Omit<ReleaseBundle, 'files'> & {
  files: Array<{ fileName: string; bytes: string; kind: string }>;
};

/** A bundle as JSON for this script. */
export function bundleJson(bundle: ReleaseBundle): string {
  return JSON.stringify({
    ...bundle,
    files: bundle.files.map((f) => ({ ...f, bytes: f.bytes.toString('base64') })),
  });
}

if (import.meta.main) {
  const [root, file, flag] = process.argv.slice(2) as [string, string, string | undefined];
  const stored = JSON.parse(readFileSync(file, 'utf8')) as StoredBundle;
  const bundle: ReleaseBundle = {
    ...stored,
    files: stored.files.map((f) => ({ ...f, bytes: Buffer.from(f.bytes, 'base64') })),
  };
  try {
    const outcome = await publishToReleaseDirectory(root, bundle, { force: flag === '--force' });
    process.stdout.write(`${JSON.stringify(outcome)}\n`);
  } catch (e) {
    process.stderr.write(`${describeError(e)}\n`);
    process.exitCode = isWaybillError(e) ? 2 : 3;
  }
}
