import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { WalkedFile } from '../sources/types.ts';
import { folderSees, venvRoots, wantPyvenvCfg } from './python-venv.ts';

const cfg = (path: string, text: string | Uint8Array): WalkedFile => {
  const data = Buffer.from(text);
  return { entry: { path, type: 'file', size: data.length, mode: 0o644 }, data, earlier: [] };
};

test('pyvenv.cfg: the key read as site.py reads it; roots nest; the system never sees a venv', () => {
  const roots = venvRoots([
    cfg('opt/a/pyvenv.cfg', 'home = /usr/bin\nInclude-System-Site-Packages =  True \nversion = 3.11.2\n'),
    cfg('opt/b/pyvenv.cfg', 'include-system-site-packages = false\r\n'),
    cfg('opt/b/inner/pyvenv.cfg', 'home = /usr/bin\n'),
  ]);
  assert.deepEqual(
    [...roots],
    [
      ['opt/a', true],
      ['opt/b', false],
      ['opt/b/inner', false],
    ],
  );
  const sys = 'usr/lib/python3/dist-packages';
  assert.equal(folderSees(roots, 'opt/a/lib/python3.11/site-packages', sys), true);
  assert.equal(folderSees(roots, 'opt/b/lib/python3.11/site-packages', sys), false);
  assert.equal(folderSees(roots, sys, 'opt/a/lib/python3.11/site-packages'), false);
  assert.equal(
    folderSees(roots, 'opt/a/lib/python3.11/site-packages', 'opt/b/lib/python3.11/site-packages'),
    false,
  );
  assert.equal(folderSees(roots, 'opt/b/inner/lib/x', 'opt/b/lib/python3.11/site-packages'), false);
  assert.equal(folderSees(roots, sys, 'usr/local/lib/python3.11/dist-packages'), true);
  assert.equal(wantPyvenvCfg({ path: 'pyvenv.cfg', type: 'file', size: 10, mode: 0o644 }), true);
  assert.equal(wantPyvenvCfg({ path: 'opt/a/pyvenv.cfg', type: 'symlink', size: 0, mode: 0o777 }), false);
  assert.equal(wantPyvenvCfg({ path: 'opt/a/not-pyvenv.cfg', type: 'file', size: 10, mode: 0o644 }), false);
});

test('property: any bytes in pyvenv.cfg give a boolean, never a throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
      const roots = venvRoots([cfg('v/pyvenv.cfg', bytes)]);
      assert.equal(typeof roots.get('v'), 'boolean');
    }),
  );
});
