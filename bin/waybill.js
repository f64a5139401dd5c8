#!/usr/bin/env node
// Entry point for the `waybill` executable. waybill is TypeScript run through Node's type stripping:
// on by default from Node 22.18 / 23.6; on Node 22.13–22.17 this shim re-runs itself with
// --experimental-strip-types; older Node gets one clear line and exit code 2.
import { spawnSync } from 'node:child_process';

const [major, minor] = process.versions.node.split('.').map(Number);
const supported = major > 22 || (major === 22 && minor >= 13);
if (!supported) {
  process.stderr.write(
    `waybill: needs Node.js >= 22.13 (24 LTS recommended); this is Node.js ${process.versions.node}\n`,
  );
  process.exit(2);
}
if (process.features.typescript) {
  await import('../src/cli/run.ts');
} else {
  const args = ['--experimental-strip-types', '--no-warnings=ExperimentalWarning', ...process.argv.slice(1)];
  const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
  process.exit(result.status ?? 2);
}
