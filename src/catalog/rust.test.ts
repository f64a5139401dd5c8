import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { AUDIT_JSON, addDepSection, buildC, makeTmp, removeTmp } from '../../test/helpers/exec-fixtures.ts';
import type { WalkedFile } from '../sources/types.ts';
import { rustCataloger } from './rust.ts';
import type { CatalogContext } from './types.ts';

function walked(path: string, data: Buffer): WalkedFile {
  return { entry: { path, type: 'file', size: data.length, mode: 0o755 }, data, earlier: [] };
}

let tmp: string;
let audited: Buffer;
let bomb: Buffer;

before(async () => {
  tmp = await makeTmp();
  const c = await buildC(tmp);
  audited = await readFile(await addDepSection(c, deflateSync(JSON.stringify(AUDIT_JSON)), 'mytool', tmp));
  bomb = await readFile(await addDepSection(c, deflateSync(Buffer.alloc(32 * 1024 * 1024)), 'bomb', tmp));
});
after(() => removeTmp(tmp));

describe('rust cataloger', () => {
  test('crates from .dep-v0; root is the application; a zlib bomb is a warning', async () => {
    const warnings: Array<{ path: string; reason: string }> = [];
    const ctx: CatalogContext = { warn: (path, reason) => warnings.push({ path, reason }) };
    const out = await rustCataloger.catalog(
      [walked('usr/bin/mytool', audited), walked('usr/bin/bomb', bomb)],
      ctx,
    );
    assert.deepEqual(
      out.map((c) => [c.purl, c.type, c.properties['waybill:cargo:kind'] ?? '']),
      [
        ['pkg:cargo/mytool@0.4.1', 'application', ''],
        ['pkg:cargo/serde@1.0.197', 'library', ''],
        ['pkg:cargo/cc@1.0.90', 'library', 'build'],
      ],
    );
    assert.equal(out[0]!.properties['waybill:cargo:source'], 'local');
    assert.deepEqual(out[1]!.foundAt, ['usr/bin/mytool']);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.path, 'usr/bin/bomb');
    assert.match(warnings[0]!.reason, /zlib bomb/);
    assert.equal(rustCataloger.sniff?.(walked('x', audited).entry, audited.subarray(0, 64)), true);
  });

  test('keep: only executables naming a .dep-v0 section; a plain C program is dropped', async () => {
    const entry = walked('x', audited).entry;
    assert.equal(rustCataloger.keep(entry, audited), true);
    assert.equal(rustCataloger.keep(entry, bomb), true, 'kept, so the bomb is still reported');
    const plain = await readFile(await buildC(tmp));
    assert.equal(rustCataloger.keep(entry, plain), false);
    const ctx: CatalogContext = { warn: () => assert.fail('no warning for a plain program') };
    assert.deepEqual(await rustCataloger.catalog([walked('plain', plain)], ctx), []);
  });
});
