/**
 * What loading the catalogers costs: every `sbom` run loads them on the main thread, and every walk
 * worker loads their filters (worker-filter.ts). A library needed only for a rare file is loaded when
 * that file is read, so it is not paid at every start-up. Checked in a fresh process, whose module
 * cache holds only what the imports below pulled in.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const CHILD = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const loaded = (name) => Object.keys(require.cache).some((p) => p.includes('/node_modules/' + name + '/'));
await import(new URL('./worker-filter.ts', process.argv[1]).href);
await import(new URL('../app/generate-sbom.ts', process.argv[1]).href);
const before = loaded('yaml');
const { parseLockYaml } = await import(new URL('./npm-flat-lock.ts', process.argv[1]).href);
parseLockYaml('lockfileVersion: "9.0"\\n', 'pnpm-lock.yaml');
console.log(JSON.stringify({ before, after: loaded('yaml') }));
`;

test('the catalogers and the SBOM writer load without yaml; the first YAML lockfile read loads it', () => {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, import.meta.url], {
    encoding: 'utf8',
    cwd: new URL('.', import.meta.url).pathname,
  });
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), { before: false, after: true });
});
