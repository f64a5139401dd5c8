import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { WaybillError } from '../errors.ts';
import { writeCycloneDx } from '../sbom/cyclonedx.ts';
import type { FileEntry, WalkedFile } from '../sources/types.ts';
import { normalizePythonName, parsePythonMetadata, pythonCataloger, wantPython } from './python.ts';
import { requirementName, requiresTxt } from './python-requires.ts';
import type { CatalogContext, Component } from './types.ts';

const PY = new URL('../../../shared/fixtures/vectors/python/', import.meta.url).pathname;
const entry = (path: string, type: FileEntry['type'] = 'file'): FileEntry => ({
  path,
  type,
  size: 0,
  mode: 0o644,
});

/** Every wanted file under a directory, as the walker would hand them over (paths relative to `base`). */
function walkDir(dir: string, base: string): WalkedFile[] {
  const out: WalkedFile[] = [];
  const visit = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) {
        if (name !== '__pycache__') visit(p);
        continue;
      }
      const e = entry(relative(base, p));
      if (wantPython(e) === true) out.push({ entry: e, data: readFileSync(p), earlier: [] });
    }
  };
  visit(dir);
  return out;
}

/** Every file under `root` the cataloger wants, as a layer walk hands them over (symlinks not followed). */
function wantedFiles(root: string): WalkedFile[] {
  const files: WalkedFile[] = [];
  const visit = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) visit(p);
      else if (st.isFile()) {
        const e = entry(relative(root, p));
        if (pythonCataloger.want(e) === true) files.push({ entry: e, data: readFileSync(p), earlier: [] });
      }
    }
  };
  visit(root);
  return files;
}

async function run(files: WalkedFile[]) {
  const warnings: string[] = [];
  const ctx: CatalogContext = { warn: (p, r) => warnings.push(`${p}: ${r}`) };
  const components = (await pythonCataloger.catalog(files, ctx)) as Component[];
  return { components, warnings };
}

test('want: dist-info METADATA, egg-info PKG-INFO (dir, EGG-INFO, single file), wheels; nothing else', () => {
  const yes = [
    'usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA',
    'site-packages/foo-1.0.egg-info/PKG-INFO',
    'site-packages/foo-1.0-py3.11.egg/EGG-INFO/PKG-INFO',
    'usr/lib/python3/dist-packages/perf-0.1.egg-info',
    'app/wheels/foo-1.0-py3-none-any.whl',
  ];
  const no = [
    'site-packages/foo-1.0.dist-info/RECORD',
    'site-packages/foo/METADATA',
    'site-packages/foo-1.0.egg-info/PKG-INFO-INVALID',
    'sdist/foo-1.0/PKG-INFO',
    'site-packages/foo-1.0.dist-info/METADATA.bak',
  ];
  for (const p of yes) assert.equal(wantPython(entry(p)), true, p);
  for (const p of no) assert.equal(wantPython(entry(p)), false, p);
  assert.equal(wantPython(entry('site-packages/foo-1.0.egg-info', 'dir')), false);
  assert.equal(normalizePythonName('Foo.Bar__baz--Qux'), 'foo-bar-baz-qux');
});

test('wheel files inside a Python installation are its data, not distributions: ensurepip, seed wheels, test data', () => {
  // What a CPython built from source (pyenv, the python images' /usr/local) and virtualenv carry:
  // importlib.metadata lists none of these, and pip installs none of them.
  const carried = [
    'usr/local/lib/python3.12/ensurepip/_bundled/pip-24.0-py3-none-any.whl',
    'root/.pyenv/versions/3.11.7/lib/python3.11/test/test_importlib/data/example-21.12-py3-none-any.whl',
    'opt/venv/lib/python3.11/site-packages/virtualenv/seed/wheels/embed/setuptools-69.0.2-py3-none-any.whl',
    'usr/lib/python3/dist-packages/virtualenv/seed/wheels/embed/wheel-0.42.0-py3-none-any.whl',
    'usr/lib64/python3.9/ensurepip/_bundled/pip-21.2.3-py3-none-any.whl',
  ];
  for (const p of carried) assert.equal(wantPython(entry(p)), false, p);
  // Wheels a release or a package ships as files of their own are still read.
  const shipped = [
    'dist/judge_lib-0.4.0-py3-none-any.whl',
    'usr/share/python-wheels/pip-23.0.1-py3-none-any.whl',
    'srv/app/lib/wheels/app-1.0-py3-none-any.whl',
  ];
  for (const p of shipped) assert.equal(wantPython(entry(p)), true, p);
});

test('trivy metadata samples: name, version, licence precedence, supplier', (t) => {
  const dir = `${PY}metadata-trivy/`;
  if (!existsSync(dir)) return t.skip(`fixtures absent: ${dir}`);
  const read = (n: string) => parsePythonMetadata(readFileSync(dir + n), n);
  // License-Expression wins over classifiers.
  assert.deepEqual(read('iniconfig-2.0.0.METADATA').licenses, ['MIT']);
  // License free text.
  assert.deepEqual(read('distlib-0.3.1-py3.9.egg-info').licenses, ['Python license']);
  // No License field: classifiers, the unambiguous ones mapped to SPDX.
  assert.deepEqual(read('pyphen-0.14.0.METADATA').licenses, [
    'GPL-2.0-or-later',
    'LGPL-2.0-or-later',
    'Mozilla Public License 1.1 (MPL 1.1)',
  ]);
  // setuptools' Description has unindented blank lines, which end the headers for Python's email
  // parser too (importlib.metadata sees no Classifier there): License UNKNOWN leaves nothing.
  const st = read('setuptools-51.3.3-py3.8.egg-info.PKG-INFO');
  assert.deepEqual([st.name, st.version, st.licenses], ['setuptools', '51.3.3', []]);
  const u = read('unidecode-egg-info.PKG-INFO');
  assert.deepEqual([u.name, u.version], ['Unidecode', '0.4.1']);
  assert.equal(read('networkx-3.0.METADATA').supplier, 'Aric Hagberg <hagberg@lanl.gov>');
  assert.equal(read('simple-0.1.0.METADATA').name, 'simple', 'trailing space trimmed');
  assert.throws(
    () => read('invalid.json'),
    (e: unknown) => e instanceof WaybillError && e.code === 'MALFORMED',
  );
});

test('syft site-packages tree: components, dedupe by purl, malformed ones are warnings', async (t) => {
  const dir = `${PY}site-packages-syft/`;
  if (!existsSync(dir)) return t.skip('fixtures absent');
  const { components, warnings } = await run(walkDir(dir, dir));
  const got = components.map((c) => `${c.purl} ${c.licenses.join('|')}`);
  assert.ok(got.includes('pkg:pypi/pygments@2.6.1 BSD License'), got.join('\n'));
  assert.ok(components.every((c) => c.purl.startsWith('pkg:pypi/') && c.foundAt.length >= 1));
  assert.ok(
    warnings.some((w) => w.includes('no-version') && /no Version/.test(w)),
    warnings.join('\n'),
  );
  const names = new Set(components.map((c) => c.name));
  assert.ok(!names.has('no-version'));
});

test('wheel inside the artifact: its top-level .dist-info/METADATA (zip written by Python zipfile)', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'waybill-whl-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const whl = join(tmp, 'Demo_Pkg-1.0-py3-none-any.whl');
  const bad = join(tmp, 'broken-1.0-py3-none-any.whl');
  const script = [
    'import sys, zipfile',
    'with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:',
    '    z.writestr("demo_pkg/__init__.py", "")',
    '    z.writestr("Demo_Pkg-1.0.dist-info/METADATA", "Metadata-Version: 2.4\\nName: Demo_Pkg\\nVersion: 1.0\\nLicense-Expression: Apache-2.0 OR MIT\\nAuthor-email: Jane <jane@example.org>\\n\\nbody\\n")',
    '    z.writestr("demo_pkg/_vendor/x-2.0.dist-info/METADATA", "Name: x\\nVersion: 2.0\\n")',
    'with zipfile.ZipFile(sys.argv[2], "w") as z:',
    '    z.writestr("broken/__init__.py", "")',
  ].join('\n');
  try {
    execFileSync('python3', ['-c', script, whl, bad], { stdio: 'ignore' });
  } catch {
    return t.skip('python3 not usable');
  }
  const files: WalkedFile[] = [
    { entry: entry('opt/wheels/Demo_Pkg-1.0-py3-none-any.whl'), data: readFileSync(whl), earlier: [] },
    { entry: entry('opt/wheels/broken-1.0-py3-none-any.whl'), data: readFileSync(bad), earlier: [] },
    { entry: entry('opt/wheels/garbage.whl'), data: Buffer.from('not a zip'), earlier: [] },
  ];
  const { components, warnings } = await run(files);
  assert.deepEqual(
    components.map((c) => [c.purl, c.licenses, c.supplier, c.foundAt, c.presence]),
    [
      [
        'pkg:pypi/demo-pkg@1.0',
        ['Apache-2.0 OR MIT'],
        'Jane <jane@example.org>',
        ['opt/wheels/Demo_Pkg-1.0-py3-none-any.whl'],
        'packaged',
      ],
    ],
    'a wheel lying in the artifact is packaged: no installer unpacked it, importlib does not list it',
  );
  assert.equal(warnings.length, 2);
  const input = {
    subject: { digest: `sha256:${'0'.repeat(64)}`, kind: 'dir' as const, name: 'wheelhouse' },
    components,
    toolVersion: '0.1.0',
    sourceDateEpoch: '0',
  };
  const cdx = JSON.parse(writeCycloneDx(input)).components[0];
  assert.equal(cdx.scope, 'optional');
  assert.ok(
    cdx.properties.some(
      (p: { name: string; value: string }) => p.name === 'waybill:presence' && p.value === 'packaged',
    ),
  );

  // The same distribution installed as well: installed, whichever the walk met first.
  const installedToo = {
    entry: entry('usr/lib/python3/dist-packages/Demo_Pkg-1.0.dist-info/METADATA'),
    data: Buffer.from('Metadata-Version: 2.1\nName: Demo_Pkg\nVersion: 1.0\n'),
    earlier: [],
  };
  for (const order of [
    [files[0]!, installedToo],
    [installedToo, files[0]!],
  ]) {
    const both = await run(order);
    assert.deepEqual(
      both.components.map((c) => [c.purl, c.presence, c.foundAt.length]),
      [['pkg:pypi/demo-pkg@1.0', undefined, 2]],
    );
  }
});

test('zipped eggs installed in a site folder are distributions (EGG-INFO/PKG-INFO, requires.txt); elsewhere build output', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'waybill-egg-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const egg = join(tmp, 'a.egg');
  const bad = join(tmp, 'b.egg');
  // The members setuptools' bdist_egg writes (EGG-INFO/PKG-INFO, requires.txt, top_level.txt, zip-safe).
  const script = [
    'import sys, zipfile',
    'with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:',
    '    z.writestr("j6_eps/__init__.py", "")',
    '    z.writestr("EGG-INFO/PKG-INFO", "Metadata-Version: 2.1\\nName: j6-epsilon\\nVersion: 0.3\\nLicense: MIT\\n")',
    '    z.writestr("EGG-INFO/requires.txt", "helper>=1\\n\\n[extra]\\nnever\\n")',
    '    z.writestr("EGG-INFO/top_level.txt", "j6_eps\\n")',
    '    z.writestr("EGG-INFO/zip-safe", "\\n")',
    'with zipfile.ZipFile(sys.argv[2], "w") as z:',
    '    z.writestr("j6_b/__init__.py", "")',
  ].join('\n');
  try {
    execFileSync('python3', ['-c', script, egg, bad], { stdio: 'ignore' });
  } catch {
    return t.skip('python3 not usable');
  }
  const site = 'usr/local/lib/python3.11/dist-packages';
  const text = (path: string, body: string): WalkedFile => ({
    entry: entry(path),
    data: Buffer.from(body),
    earlier: [],
  });
  const candidates: WalkedFile[] = [
    { entry: entry(`${site}/j6_epsilon-0.3-py3.11.egg`), data: readFileSync(egg), earlier: [] },
    { entry: entry(`${site}/broken-1.0-py3.11.egg`), data: readFileSync(bad), earlier: [] },
    { entry: entry('srv/proj/dist/j6_epsilon-0.3-py3.11.egg'), data: readFileSync(egg), earlier: [] },
    // An unzipped egg beside it, requiring the zipped one: same site folder, so an edge.
    text(`${site}/j6_zeta-0.4-py3.11.egg/EGG-INFO/PKG-INFO`, 'Name: j6-zeta\nVersion: 0.4\n'),
    text(`${site}/j6_zeta-0.4-py3.11.egg/EGG-INFO/requires.txt`, 'j6-epsilon\n'),
    text(`${site}/helper-1.0.dist-info/METADATA`, 'Name: helper\nVersion: 1.0\n'),
    // setuptools' own test data (pkg_resources/tests/data/…/my_test_package-1.0-py3.7.egg): no component.
    text(`${site}/setuptools-66.1.1.dist-info/METADATA`, 'Name: setuptools\nVersion: 66.1.1\n'),
    text(`${site}/setuptools-66.1.1.dist-info/top_level.txt`, 'pkg_resources\nsetuptools\n'),
    {
      entry: entry(`${site}/pkg_resources/tests/data/my-test-package-zip/my_test_package-1.0-py3.7.egg`),
      data: readFileSync(egg),
      earlier: [],
    },
  ];
  const files = candidates.filter((f) => wantPython(f.entry));
  assert.deepEqual(
    candidates.filter((f) => !wantPython(f.entry)).map((f) => f.entry.path),
    ['srv/proj/dist/j6_epsilon-0.3-py3.11.egg'],
  );
  const { components, warnings } = await run(files);
  assert.deepEqual(warnings, [`${site}/broken-1.0-py3.11.egg: egg has no EGG-INFO/PKG-INFO`]);
  assert.deepEqual(
    components.map((c) => [c.purl, c.licenses, c.foundAt, c.dependsOn ?? []]),
    [
      ['pkg:pypi/helper@1.0', [], [`${site}/helper-1.0.dist-info/METADATA`], []],
      ['pkg:pypi/j6-epsilon@0.3', ['MIT'], [`${site}/j6_epsilon-0.3-py3.11.egg`], ['pkg:pypi/helper@1.0']],
      [
        'pkg:pypi/j6-zeta@0.4',
        [],
        [`${site}/j6_zeta-0.4-py3.11.egg/EGG-INFO/PKG-INFO`],
        ['pkg:pypi/j6-epsilon@0.3'],
      ],
      ['pkg:pypi/setuptools@66.1.1', [], [`${site}/setuptools-66.1.1.dist-info/METADATA`], []],
    ],
  );
});

test('malformed metadata: no Name, no Version, binary garbage → warnings, never throws', async () => {
  const files: WalkedFile[] = [
    { entry: entry('a-1.dist-info/METADATA'), data: Buffer.from('Version: 1\n'), earlier: [] },
    { entry: entry('b-1.dist-info/METADATA'), data: Buffer.from('Name: b\n'), earlier: [] },
    {
      entry: entry('c-1.dist-info/METADATA'),
      data: Buffer.from([0xff, 0xfe, 0, 1, 2, 10, 32, 10]),
      earlier: [],
    },
    { entry: entry('d-1.dist-info/METADATA'), data: Buffer.from('Name: d\nVersion: 1\n'), earlier: [] },
  ];
  const { components, warnings } = await run(files);
  assert.deepEqual(
    components.map((c) => c.purl),
    ['pkg:pypi/d@1'],
  );
  assert.equal(warnings.length, 3);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (a) => {
      try {
        parsePythonMetadata(Buffer.from(a), 'fuzz');
      } catch (e) {
        if (!(e instanceof WaybillError)) throw e;
      }
    }),
    { numRuns: 300 },
  );
});

test("this machine's Debian dist-packages: the same (name, version) set as importlib.metadata", async (t) => {
  const root = '/usr/lib/python3/dist-packages';
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  if (!existsSync(root)) return t.skip(`${root} absent`);
  let reference: string[];
  try {
    const out = execFileSync(python, [
      '-c',
      'import sys, importlib.metadata as m\nfor d in m.distributions(path=[sys.argv[1]]):\n    print(d.metadata["Name"], d.version)',
      root,
    ]).toString();
    reference = [
      ...new Set(
        out
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => {
            const [name, version] = l.split(' ');
            return `${normalizePythonName(name!)} ${version}`;
          }),
      ),
    ].sort();
  } catch {
    return t.skip('python3 importlib.metadata not usable');
  }
  const { components, warnings } = await run(walkDir(root, '/'));
  assert.deepEqual(warnings, []);
  assert.deepEqual(components.map((c) => `${normalizePythonName(c.name)} ${c.version}`).sort(), reference);
  assert.ok(reference.length > 5, `${reference.length} distributions`);

  // Edges: importlib.metadata's requires() (Requires-Dist, or an egg-info's requires.txt), without
  // the requirements that need an extra, resolved to what is installed in the same folder.
  const script = [
    'import sys, re, importlib.metadata as m',
    'ds = list(m.distributions(path=[sys.argv[1]]))',
    'norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()',
    'names = {norm(d.metadata["Name"]) for d in ds}',
    'for d in ds:',
    '    for r in d.requires or []:',
    '        spec, _, marker = r.partition(";")',
    '        if re.search(r"\\bextra\\b", marker): continue',
    '        dep = norm(re.match(r"\\s*([A-Za-z0-9._-]+)", spec).group(1))',
    '        if dep in names and dep != norm(d.metadata["Name"]): print(norm(d.metadata["Name"]), dep)',
  ].join('\n');
  const edges = [
    ...new Set(execFileSync(python, ['-c', script, root]).toString().trim().split('\n').filter(Boolean)),
  ].sort();
  const nameOf = new Map(components.map((c) => [c.purl, normalizePythonName(c.name)]));
  const ours = components
    .flatMap((c) => (c.dependsOn ?? []).map((d) => `${normalizePythonName(c.name)} ${nameOf.get(d)}`))
    .sort();
  assert.deepEqual([...new Set(ours)].sort(), edges);
});

test('Requires-Dist and requires.txt: extras left out, other markers kept, resolved in the same folder first', async () => {
  const meta = (name: string, requires: string[]) =>
    Buffer.from(
      `Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0\n${requires.map((r) => `Requires-Dist: ${r}\n`).join('')}`,
    );
  const files: WalkedFile[] = [
    {
      entry: entry('venv/site-packages/app-1.0.dist-info/METADATA'),
      data: meta('app', [
        'Requests[socks] (>=2)',
        'pytest; extra == "test"',
        'tomli; python_version < "3.11"',
        'absent',
      ]),
      earlier: [],
    },
    {
      entry: entry('venv/site-packages/requests-1.0.dist-info/METADATA'),
      data: meta('requests', []),
      earlier: [],
    },
    {
      entry: entry('venv/site-packages/pytest-1.0.dist-info/METADATA'),
      data: meta('pytest', []),
      earlier: [],
    },
    { entry: entry('venv/site-packages/tomli-1.0.dist-info/METADATA'), data: meta('tomli', []), earlier: [] },
    {
      entry: entry('usr/lib/python3/dist-packages/requests-1.0.dist-info/METADATA'),
      data: meta('requests', []),
      earlier: [],
    },
    {
      entry: entry('usr/lib/python3/dist-packages/old.egg-info/PKG-INFO'),
      data: Buffer.from('Name: old\nVersion: 2\n'),
      earlier: [],
    },
    {
      entry: entry('usr/lib/python3/dist-packages/old.egg-info/requires.txt'),
      data: Buffer.from('tomli\n\n[:sys_platform == "win32"]\nrequests\n\n[test]\npytest\n'),
      earlier: [],
    },
  ];
  const { components, warnings } = await run(files);
  assert.deepEqual(warnings, []);
  const deps = Object.fromEntries(components.map((c) => [c.name, c.dependsOn ?? []]));
  assert.deepEqual(deps.app, ['pkg:pypi/requests@1.0', 'pkg:pypi/tomli@1.0']);
  assert.deepEqual(deps.old, ['pkg:pypi/requests@1.0', 'pkg:pypi/tomli@1.0']);
  assert.equal(requirementName('foo ; extra=="x"'), undefined);
  assert.equal(requirementName('Foo.Bar>=1; os_name=="nt"'), 'foo-bar');
  assert.deepEqual(requiresTxt('a\n[x:python_version<"3"]\nb\n[:os_name=="nt"]\nc\n'), ['a', 'c']);
});

test('a virtual environment (pyvenv.cfg, made by `python3 -m venv`) sees only its own site-packages, unless it includes the system ones', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'waybill-venv-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  try {
    execFileSync('python3', ['-m', 'venv', '--without-pip', join(root, 'opt/isolated')]);
    execFileSync('python3', [
      '-m',
      'venv',
      '--without-pip',
      '--system-site-packages',
      join(root, 'opt/shared'),
    ]);
  } catch (e) {
    t.skip(`python3 -m venv failed: ${(e as Error).message.split('\n')[0]}`);
    return;
  }
  const meta = (name: string, requires: string[]) =>
    `Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0\n${requires.map((r) => `Requires-Dist: ${r}\n`).join('')}`;
  const sitePackages = (venv: string) => {
    const lib = join(root, venv, 'lib');
    return join(lib, readdirSync(lib).find((d) => d.startsWith('python'))!, 'site-packages');
  };
  const write = (dir: string, name: string, requires: string[]) => {
    const info = join(dir, `${name}-1.0.dist-info`);
    execFileSync('mkdir', ['-p', info]);
    writeFileSync(join(info, 'METADATA'), meta(name, requires));
  };
  write(sitePackages('opt/isolated'), 'app', ['requests', 'helper']);
  write(sitePackages('opt/isolated'), 'helper', []);
  write(sitePackages('opt/shared'), 'tool', ['requests']);
  write(join(root, 'usr/lib/python3/dist-packages'), 'requests', ['venvonly']);
  write(sitePackages('opt/isolated'), 'venvonly', []);
  const { components, warnings } = await run(wantedFiles(root));
  assert.deepEqual(warnings, []);
  const deps = Object.fromEntries(components.map((c) => [c.name, c.dependsOn ?? []]));
  // The isolated venv's python cannot import the system's requests: no edge. Its own helper: an edge.
  assert.deepEqual(deps.app, ['pkg:pypi/helper@1.0']);
  // include-system-site-packages = true: the system's requests is on its path.
  assert.deepEqual(deps.tool, ['pkg:pypi/requests@1.0']);
  // The system python never sees a venv's packages.
  assert.deepEqual(deps.requests, []);
});

test('an editable install (a .pth naming a source tree) is seen by the interpreter whose site folder names it', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'waybill-pth-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  try {
    execFileSync('python3', [
      '-m',
      'venv',
      '--without-pip',
      '--system-site-packages',
      join(root, 'opt/venv'),
    ]);
  } catch (e) {
    t.skip(`python3 -m venv failed: ${(e as Error).message.split('\n')[0]}`);
    return;
  }
  const lib = join(root, 'opt/venv/lib');
  const site = join(lib, readdirSync(lib).find((d) => d.startsWith('python'))!, 'site-packages');
  const put = (path: string, text: string) => {
    execFileSync('mkdir', ['-p', join(path, '..')]);
    writeFileSync(path, text);
  };
  const meta = (name: string) => `Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0\n`;
  put(join(site, 'alpha-1.0.dist-info/METADATA'), meta('alpha'));
  // `pip install -e` of a setup.py project (setup.py develop): the metadata stays in the source
  // tree, which easy-install.pth puts on the venv's path (absolute, as pip writes it).
  put(join(root, 'srv/gamma/gamma.egg-info/PKG-INFO'), meta('gamma'));
  put(join(root, 'srv/gamma/gamma.egg-info/requires.txt'), 'alpha\n');
  put(join(site, 'easy-install.pth'), '/srv/gamma\n');
  put(join(site, 'distutils-precedence.pth'), 'import os\n');
  // The same kind of tree that no .pth names: no interpreter sees it, nor what it needs.
  put(join(root, 'srv/orphan/orphan.egg-info/PKG-INFO'), meta('orphan'));
  put(join(root, 'srv/orphan/orphan.egg-info/requires.txt'), 'alpha\n');
  const { components, warnings } = await run(wantedFiles(root));
  assert.deepEqual(warnings, []);
  const deps = Object.fromEntries(components.map((c) => [c.name, c.dependsOn ?? []]));
  assert.deepEqual(deps.gamma, ['pkg:pypi/alpha@1.0']);
  assert.deepEqual(deps.orphan, []);
});

test('distributions inside another one’s package folder are copies it carries; its test data is none', async () => {
  const meta = (name: string, version: string, requires: string[] = []) =>
    Buffer.from(
      `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n${requires.map((r) => `Requires-Dist: ${r}\n`).join('')}`,
    );
  const site = 'usr/lib/python3/dist-packages';
  const file = (path: string, data: Buffer | string): WalkedFile => ({
    entry: entry(path),
    data: Buffer.from(data),
    earlier: [],
  });
  // As Debian's python3-setuptools 78 installs it (egg-info with top_level.txt) and a pip-installed
  // one (dist-info named like its package); a --target folder above a venv carries nothing.
  const files = [
    file(`${site}/setuptools-78.1.1.egg-info/PKG-INFO`, meta('setuptools', '78.1.1')),
    file(`${site}/setuptools-78.1.1.egg-info/top_level.txt`, '_distutils_hack\npkg_resources\nsetuptools\n'),
    file(`${site}/setuptools/_vendor/packaging-24.2.dist-info/METADATA`, meta('packaging', '24.2')),
    file(
      `${site}/setuptools/_vendor/wheel-0.45.1.dist-info/METADATA`,
      meta('wheel', '0.45.1', ['packaging']),
    ),
    file(`${site}/setuptools/_vendor/zipp-3.19.2.dist-info/METADATA`, meta('zipp', '3.19.2')),
    file(`${site}/zipp-3.19.2.dist-info/METADATA`, meta('zipp', '3.19.2')),
    file(`${site}/packaging-25.0.dist-info/METADATA`, meta('packaging', '25.0')),
    file(`${site}/build-1.2.2.dist-info/METADATA`, meta('build', '1.2.2', ['packaging'])),
    file(
      `${site}/pkg_resources/tests/data/my-test-package_unpacked-egg/my_test_package-1.0-py3.7.egg/EGG-INFO/PKG-INFO`,
      meta('my-test-package', '1.0'),
    ),
    file('app/lib-1.0.dist-info/METADATA', meta('lib', '1.0')),
    file('app/.venv/lib/python3.13/site-packages/tool-2.0.dist-info/METADATA', meta('tool', '2.0')),
  ];
  assert.ok(files.every((f) => wantPython(f.entry)));
  const { components, warnings } = await run(files);
  assert.deepEqual(warnings, []);
  const setuptools = 'pkg:pypi/setuptools@78.1.1';
  const view = components.map(
    (c) => `${c.purl} in ${c.vendoredIn ?? '-'} -> ${(c.dependsOn ?? []).join(',')}`,
  );
  assert.deepEqual(view, [
    'pkg:pypi/build@1.2.2 in - -> pkg:pypi/packaging@25.0',
    'pkg:pypi/lib@1.0 in - -> ',
    'pkg:pypi/packaging@25.0 in - -> ',
    'pkg:pypi/setuptools@78.1.1 in - -> ',
    `pkg:pypi/packaging@24.2 in ${setuptools} -> `,
    `pkg:pypi/wheel@0.45.1 in ${setuptools} -> ${setuptools}|pkg:pypi/packaging@24.2`,
    `pkg:pypi/zipp@3.19.2 in ${setuptools} -> `,
    'pkg:pypi/tool@2.0 in - -> ',
    'pkg:pypi/zipp@3.19.2 in - -> ',
  ]);
});

test('one distribution found in many folders: one component listing each place once, sorted (merged in linear time)', async () => {
  // Found by fuzzing: one METADATA hard-linked into 20 000 dist-info folders took 34 s (each merge
  // re-sorted every path).
  const meta = Buffer.from('Metadata-Version: 2.1\nName: dup\nVersion: 1.0\n');
  const at = (k: number) => `usr/lib/python3/dist-packages/p${k}-1.0.dist-info/METADATA`;
  const files = [3, 1, 2, 1].map((k) => ({ entry: entry(at(k)), data: meta, earlier: [] }));
  const { components } = await run(files);
  assert.deepEqual(
    components.map((c) => [c.name, c.foundAt]),
    [['dup', [1, 2, 3].map(at)]],
  );
});
