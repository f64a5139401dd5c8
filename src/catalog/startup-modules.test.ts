/**
 * What start-up costs: every `sbom` run loads the catalogers and the artifact readers on the main
 * thread, and every walk worker loads the catalogers' filters (worker-filter.ts). A library needed
 * only for a rare input (`yaml` for pnpm and yarn berry lockfiles, `xz-decompress` for xz members of
 * .debs and rpms) is loaded when that input is read, so it is not paid at every start. Checked in a
 * fresh process, whose module cache holds only what the imports below pulled in.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { test } from 'node:test';

const CHILD = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const here = (path) => new URL(path, process.argv[1]).href;
const loaded = () => ['yaml', 'xz-decompress'].filter((name) =>
  Object.keys(require.cache).some((p) => p.includes('/node_modules/' + name + '/')));
await import(here('./worker-filter.ts'));
await import(here('../app/generate-sbom.ts'));
await import(here('../sources/open.ts'));
await import(here('../formats/deb/deb.ts'));
await import(here('../formats/rpm/rpm-package.ts'));
const before = loaded();
const { parseLockYaml } = await import(here('./npm-flat-lock.ts'));
parseLockYaml('lockfileVersion: "9.0"\\n', 'pnpm-lock.yaml');
const { decompressPackageBuffer } = await import(here('../archive/xz.ts'));
const text = await decompressPackageBuffer('xz', Buffer.from(process.argv[2], 'base64'), { input: 'x.xz' });
console.log(JSON.stringify({ before, after: loaded(), text: text.toString() }));
`;

test('the catalogers and readers load without yaml and xz-decompress; each is loaded when first needed', () => {
  const xz = execFileSync('xz', ['--format=xz', '--check=crc64', '-c'], { input: 'hello\n' });
  const result = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', CHILD, import.meta.url, xz.toString('base64')],
    { encoding: 'utf8', cwd: new URL('.', import.meta.url).pathname },
  );
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), {
    before: [],
    after: ['yaml', 'xz-decompress'],
    text: 'hello\n',
  });
});
