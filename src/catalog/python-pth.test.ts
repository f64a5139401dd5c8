import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { FileEntry, WalkedFile } from '../sources/types.ts';
import { pthFolders, wantPth } from './python-pth.ts';

const entry = (path: string, size = 10): FileEntry => ({ path, type: 'file', size, mode: 0o644 });
const pth = (path: string, text: string): WalkedFile => ({
  entry: entry(path, text.length),
  data: Buffer.from(text),
  earlier: [],
});

test('want: *.pth directly in a site-packages or dist-packages folder, small', () => {
  for (const p of [
    'opt/venv/lib/python3.11/site-packages/easy-install.pth',
    'usr/local/lib/python3.11/dist-packages/__editable__.J6.Eta-0.7.0.pth',
  ])
    assert.equal(wantPth(entry(p)), true, p);
  for (const p of [
    'opt/venv/lib/python3.11/site-packages/pkg/x.pth',
    'opt/venv/lib/python3.11/easy-install.pth',
    'site-packages.pth',
    'opt/venv/lib/python3.11/site-packages/easy-install.pth.bak',
  ])
    assert.equal(wantPth(entry(p)), false, p);
  assert.equal(wantPth(entry('usr/lib/python3/dist-packages/big.pth', 1 << 20)), false);
});

test('the lines setuptools, pip and distutils-precedence write: folders, relative or absolute; comments and import lines are not', () => {
  const site = 'opt/venv1/lib/python3.11/site-packages';
  const folders = pthFolders([
    // pip install -e (setup.py develop) and easy_install
    pth(`${site}/easy-install.pth`, '/srv/py/gamma\n./j6_zeta-0.4-py3.11.egg\n'),
    // setuptools' PEP 660 lenient mode
    pth(`${site}/__editable__.J6.Eta-0.7.0.post1.pth`, '/srv/py/eta/src\n'),
    // setuptools' own hook: code, not a folder
    pth(`${site}/distutils-precedence.pth`, "import os; var = 'SETUPTOOLS_USE_DISTUTILS'\n"),
    pth(
      'usr/lib/python3/dist-packages/x.pth',
      '# a comment\n\n../../../../srv/py/gamma\n/srv/../../etc\n.\n',
    ),
  ]);
  assert.deepEqual(Object.fromEntries(folders), {
    'srv/py/gamma': ['opt/venv1/lib/python3.11/site-packages', 'usr/lib/python3/dist-packages'],
    [`${site}/j6_zeta-0.4-py3.11.egg`]: [site],
    'srv/py/eta/src': [site],
  });
});

test('fast-check: any text gives folders with no leading slash, no . or .. segment, never the site itself', () => {
  const site = 'usr/lib/python3/dist-packages';
  fc.assert(
    fc.property(fc.array(fc.stringMatching(/^[./a-z#\t ]{0,16}$/), { maxLength: 8 }), (lines) => {
      const folders = pthFolders([pth(`${site}/t.pth`, lines.join('\n'))]);
      for (const [folder, sites] of folders) {
        assert.ok(!folder.startsWith('/') && folder !== site, folder);
        assert.ok(!folder.split('/').some((s) => s === '.' || s === '..' || s === ''), folder);
        assert.deepEqual(sites, [site]);
      }
    }),
  );
});

test('fast-check: the sites naming a folder are each listed once, sorted, whatever the order of the .pth files', () => {
  // Found by fuzzing: 20 000 site folders naming one folder took over 20 s (each added site
  // re-sorted the list); the sites are now gathered in a set and sorted once.
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 30 }), (order) => {
      const files = order.map((k) => pth(`v${k}/lib/python3.11/site-packages/a.pth`, '/srv/e\n'));
      const expected = [...new Set(order)].map((k) => `v${k}/lib/python3.11/site-packages`).sort();
      assert.deepEqual(Object.fromEntries(pthFolders(files)), order.length ? { 'srv/e': expected } : {});
    }),
  );
});
