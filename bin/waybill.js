#!/usr/bin/env node
// Entry point for the `waybill` executable. The published package runs the JavaScript compiled into
// dist/ by `npm pack` (Node refuses to strip types from files under node_modules). A source checkout
// runs src/ through Node's type stripping: on by default from Node 22.18 / 23.6; on 22.15–22.17 this
// shim re-runs itself with --experimental-strip-types. Older Node gets one clear line and exit code 2.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import module from 'node:module';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import v8 from 'node:v8';

const [major, minor] = process.versions.node.split('.').map(Number);
// zlib decodes zstd (zstd layers and packages) from 22.15 and 23.8; node:sqlite (rpm databases)
// needs no flag from 22.13 and 23.4.
const supported = major > 23 || (major === 23 && minor >= 8) || (major === 22 && minor >= 15);
if (!supported) {
  process.stderr.write(
    `waybill: needs Node.js 22.15+ or 23.8+ (24 LTS recommended); this is Node.js ${process.versions.node}\n`,
  );
  process.exit(2);
}
// V8's code cache for waybill's own modules cuts start-up CPU by more than half (0.6 s → 0.25 s on
// the development machine). It lives in the user's own cache directory, never a shared /tmp one that
// another user could fill first; NODE_COMPILE_CACHE, when set, is the user's choice and wins.
// Worker threads (layer scans, tree listing) do not inherit enableCompileCache(), but each reads
// NODE_COMPILE_CACHE from the environment when it starts: set there too, a worker loads its modules
// from the cache instead of type-stripping and compiling them again (~30 MiB and ~0.1 s CPU each).
if (typeof module.enableCompileCache === 'function' && !process.env.NODE_COMPILE_CACHE) {
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache');
  const dir = join(base, 'waybill', 'compile-cache');
  module.enableCompileCache(dir);
  process.env.NODE_COMPILE_CACHE = dir;
}
// A young generation that stays at its initial size (1 MiB semi-spaces, V8's default start): V8
// otherwise doubles it up to 16 MiB semi-spaces (48 MiB with the large-object space) as soon as a
// walk or a cataloger keeps objects alive across collections, and that space stays resident for
// the rest of the command. waybill's short-lived garbage is collected as cheaply in the small one
// (large image: 238 -> 174 MiB peak, CPU unchanged). The growth factor is read each time V8 would
// grow the space, so setting it here, before any work, takes effect (a V8 flag such as
// --max-semi-space-size is only read when the heap is set up, before this file runs).
v8.setFlagsFromString('--semi-space-growth-factor=1');
// No TurboFan, V8's top tier: a command lives for seconds, and TurboFan's compiles (run on background
// threads, competing with waybill's own two on a 2-core machine) cost more than its faster code gives
// back in that time; Maglev, the tier below it, still optimizes the hot loops (tar headers, the
// walks). Profiled on `sbom` of the large root filesystem, TurboFan's compiles were 16 % of all CPU
// samples. CPU, interleaved runs: large `dir:` 2.04 -> 1.83 s, small zstd image 1.04 -> 0.98 s,
// medium docker-archive 1.73 -> 1.66 s, large zstd image 7.8 -> 7.7 s (docs/bench.md, seventh
// round). V8 reads it each time it would tier a function up, so setting it here, before any work,
// takes effect, in worker threads too (V8's flags are per process).
v8.setFlagsFromString('--no-opt');
if (!existsSync(new URL('../src/cli/run.ts', import.meta.url))) {
  await import('../dist/cli/run.js');
} else if (process.features.typescript) {
  await import('../src/cli/run.ts');
} else {
  const args = ['--experimental-strip-types', '--no-warnings=ExperimentalWarning', ...process.argv.slice(1)];
  const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
  process.exit(result.status ?? 2);
}
