import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { siblingModule } from './sibling-module.ts';

test('siblingModule keeps the caller extension: .ts from source, .js from the compiled package', () => {
  assert.equal(
    siblingModule('file:///p/src/sources/layer-walk.ts', 'layer-worker').href,
    'file:///p/src/sources/layer-worker.ts',
  );
  assert.equal(
    siblingModule('file:///p/node_modules/waybill/dist/sources/layer-walk.js', 'layer-worker').href,
    'file:///p/node_modules/waybill/dist/sources/layer-worker.js',
  );
  // Run from source, the module it names is there.
  assert.ok(existsSync(siblingModule(import.meta.url, 'atomic-write')));
});
