import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildProgram, namesImageToRead } from './main.ts';

test('namesImageToRead: a layer-reading command with an image reference, unless turned off', () => {
  const argv = (...args: string[]) => ['node', 'waybill', ...args];
  assert.equal(namesImageToRead(argv('sbom', 'oci:dir'), {}), true);
  assert.equal(namesImageToRead(argv('audit', '--format', 'json', 'docker-archive:img.tar'), {}), true);
  assert.equal(namesImageToRead(argv('check', 'oci:dir'), {}), false);
  assert.equal(namesImageToRead(argv('stamp', 'image.tar'), {}), true);
  assert.equal(namesImageToRead(argv('sbom', 'pkg.deb'), {}), false);
  assert.equal(namesImageToRead(argv('sbom', 'dir:rootfs'), {}), false);
  assert.equal(namesImageToRead(argv('keygen', 'oci:dir'), {}), false);
  assert.equal(namesImageToRead(argv(), {}), false);
  assert.equal(namesImageToRead(argv('sbom', 'oci:dir'), { WAYBILL_HASH_THREAD: '0' }), false);
});

test('--version loads no command; a command loads only itself; --help lists them all', async () => {
  const noop = () => {};
  const names = async (only?: string) => (await buildProgram(noop, only)).commands.map((c) => c.name());
  assert.deepEqual(await names('--version'), []);
  assert.deepEqual(await names('-V'), []);
  assert.deepEqual(await names('check'), ['check']);
  const all = await names('--help');
  assert.ok(all.length >= 13 && all.includes('sbom') && all.includes('rebuild'), all.join());
});
