import assert from 'node:assert/strict';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { buildPythonProject, pipVenv, WHEEL_PROJECT } from '../../../test/fixtures/build-artifacts.ts';
import { makeTmp, removeTmp, run } from '../../../test/helpers/exec-fixtures.ts';
import { openZip } from '../../archive/zip-reader.ts';
import { type NewZipMember, rawMembers, writeZip } from '../../archive/zip-writer.ts';
import { WaybillError } from '../../errors.ts';
import { openWheel, parseWheelFilename, recordHash, wheelArchitecture } from './wheel.ts';
import { wheelFormat } from './wheel-format.ts';
import { stampWheel } from './wheel-stamp.ts';

const isCode = (code: string, text?: RegExp) => (e: unknown) =>
  e instanceof WaybillError && e.code === code && (text === undefined || text.test(e.message));

/** A wheel built by hand, with a correct RECORD unless `tamper` changes a file after hashing. */
function handWheel(
  files: Record<string, string>,
  opts: { tamper?: string; extra?: NewZipMember[] } = {},
): Buffer {
  const di = 'demo-1.0.dist-info';
  const all: Record<string, string> = {
    'demo.py': 'print(1)\n',
    [`${di}/METADATA`]: 'Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n',
    [`${di}/WHEEL`]: 'Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
    ...files,
  };
  const record = `${Object.entries(all)
    .map(([n, d]) => `${n},${recordHash(Buffer.from(d))},${Buffer.byteLength(d)}`)
    .join('\n')}\n${di}/RECORD,,\n`;
  if (opts.tamper) all[opts.tamper] = `${all[opts.tamper]}# changed\n`;
  return writeZip([
    ...Object.entries(all).map(([name, d]) => ({ name, data: Buffer.from(d) })),
    { name: `${di}/RECORD`, data: Buffer.from(record) },
    ...(opts.extra ?? []),
  ]);
}

test('wheel file names and platform tags (PEP 427)', () => {
  assert.deepEqual(
    parseWheelFilename('numpy-2.0.0-1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl'),
    {
      distribution: 'numpy',
      version: '2.0.0',
      build: '1',
      pythonTags: ['cp312'],
      abiTags: ['cp312'],
      platformTags: ['manylinux_2_17_x86_64', 'manylinux2014_x86_64'],
    },
  );
  assert.equal(parseWheelFilename('a-1-x-py3-none-any.whl'), undefined, 'build tag must start with a digit');
  assert.equal(parseWheelFilename('a-1.tar.gz'), undefined);
  const cases: Array<[string, string]> = [
    ['any', 'noarch'],
    ['manylinux_2_17_x86_64', 'x86_64'],
    ['manylinux2014_aarch64', 'aarch64'],
    ['musllinux_1_1_x86_64', 'x86_64'],
    ['macosx_11_0_arm64', 'arm64'],
    ['macosx_10_9_universal2', 'universal2'],
    ['win_amd64', 'amd64'],
    ['linux_armv7l', 'armv7l'],
    ['win32', 'win32'],
  ];
  for (const [tag, arch] of cases) assert.equal(wheelArchitecture(tag), arch, tag);
});

test('facts of a setuptools-built wheel equal what email.parser and pip read', async (t) => {
  const built = await buildPythonProject();
  if (!built) return t.skip('setuptools/wheel not available');
  const head = (await readFile(built.wheel)).subarray(0, 512);
  assert.ok(wheelFormat.detect(head, built.wheel));
  assert.ok(!wheelFormat.detect(head, 'x.zip'));
  const facts = await wheelFormat.readFacts(built.wheel);
  assert.equal(facts.format, 'wheel');
  assert.equal(facts.name?.value, WHEEL_PROJECT.name);
  assert.equal(facts.version?.value, WHEEL_PROJECT.version);
  assert.deepEqual(facts.architectures, [{ value: 'noarch', field: 'wheel platform tag' }]);
  assert.deepEqual(facts.bugTracker, {
    value: 'https://example.org/bugs',
    field: 'wheel METADATA Project-URL (Bug Tracker)',
  });
  assert.equal(facts.docs?.value, 'https://example.org/');
  assert.equal(facts.license?.value, 'MIT');
  assert.equal(facts.team?.value, WHEEL_PROJECT.author);
  // The reference reader: Python's email.parser on the same METADATA.
  const zip = openZip(await readFile(built.wheel), 'w');
  const meta = zip.read(zip.find('waybill_demo-1.2.3.dist-info/METADATA')!);
  const ref = JSON.parse(
    await run('python3', [
      '-c',
      'import sys,json,email.parser\nm=email.parser.Parser().parsestr(open(sys.argv[1]).read())\nprint(json.dumps({k: m[k] for k in ("Name","Version","License","Author","Summary")}))',
      await writeTemp(meta),
    ]),
  );
  assert.deepEqual(ref, {
    Name: facts.name?.value,
    Version: facts.version?.value,
    License: facts.license?.value,
    Author: facts.team?.value,
    Summary: facts.texts.find((x) => x.field.endsWith('Summary'))?.value,
  });
});

let tmpCounter = 0;
async function writeTemp(data: Buffer): Promise<string> {
  const dir = await makeTmp();
  const p = join(dir, `m${tmpCounter++}`);
  await writeFile(p, data);
  setTimeout(() => removeTmp(dir), 5000).unref();
  return p;
}

test('stamped wheel installs with pip and says what was stamped', async (t) => {
  const built = await buildPythonProject();
  const venv = await pipVenv();
  if (!built || !venv) return t.skip('setuptools/wheel or venv not available');
  const dir = await makeTmp();
  try {
    const a = join(dir, 'a', 'waybill_demo-1.2.3-py3-none-any.whl');
    const b = join(dir, 'b', 'waybill_demo-1.2.3-py3-none-any.whl');
    await run('mkdir', ['-p', join(dir, 'a'), join(dir, 'b')]);
    await copyFile(built.wheel, a);
    await copyFile(built.wheel, b);
    const facts = {
      team: 'Platform Team',
      contact: 'platform@example.org',
      bugTracker: 'https://example.org/issues',
      docs: 'https://docs.example.org/',
      source: 'https://git.example.org/demo',
      license: 'MIT OR Apache-2.0',
    };
    const result = await stampWheel(a, facts);
    assert.equal(result.changed, true);
    assert.ok(result.fields.includes('wheel METADATA License-Expression'));
    await stampWheel(b, facts);
    assert.deepEqual(await readFile(a), await readFile(b), 'same input, same bytes');

    // Every member but METADATA and RECORD keeps its compressed bytes.
    const before = rawMembers(await readFile(built.wheel), 'before');
    const after = rawMembers(await readFile(a), 'after');
    assert.deepEqual(
      after.map((m) => m.name),
      before.map((m) => m.name),
    );
    for (const [i, m] of after.entries()) {
      if (/METADATA$|RECORD$/.test(m.name)) continue;
      assert.deepEqual(m.compressed, before[i]!.compressed, m.name);
      assert.equal(m.externalAttr, before[i]!.externalAttr, m.name);
    }

    const target = join(dir, 'site');
    const python = join(venv, 'bin', 'python');
    await run(python, ['-m', 'pip', 'install', '-q', '--no-index', '--no-deps', '--target', target, a]);
    const show = await run(python, ['-m', 'pip', 'show', '-v', WHEEL_PROJECT.name], {
      env: { PYTHONPATH: target },
    });
    assert.match(show, /Metadata-Version: 2\.4/);
    assert.match(
      show,
      /Project-URLs:\n\s+Issues, https:\/\/example\.org\/issues\n\s+Documentation, https:\/\/docs\.example\.org\/\n\s+Source, https:\/\/git\.example\.org\/demo/,
    );
    // pip >= 25.1 prints License-Expression; importlib.metadata (the stdlib reader) has every field.
    const fields = JSON.parse(
      await run(
        python,
        [
          '-c',
          'import json,importlib.metadata as m\nd=m.metadata("waybill-demo")\nprint(json.dumps({k: d[k] for k in ("Maintainer","Maintainer-email","License-Expression")}))',
        ],
        { env: { PYTHONPATH: target } },
      ),
    );
    assert.deepEqual(fields, {
      Maintainer: 'Platform Team',
      'Maintainer-email': 'Platform Team <platform@example.org>',
      'License-Expression': 'MIT OR Apache-2.0',
    });
    // The console script still works.
    assert.equal(
      (await run(python, [join(target, 'bin', 'waybill-demo')], { env: { PYTHONPATH: target } })).trim(),
      'hello from waybill-demo',
    );

    // And waybill reads back what it wrote.
    const back = await wheelFormat.readFacts(a);
    assert.equal(back.bugTracker?.value, facts.bugTracker);
    assert.equal(back.docs?.value, facts.docs);
    assert.equal(back.sourceRepository?.value, facts.source);
    assert.equal(back.license?.value, facts.license);
    assert.equal(back.team?.value, 'Platform Team');
  } finally {
    await removeTmp(dir);
  }
});

test('hostile wheels: path escape, RECORD mismatch, zip bomb', () => {
  assert.throws(() => openWheel(handWheel({ '../x': 'evil' }), 'evil.whl'), isCode('UNSAFE_PATH'));
  assert.throws(
    () => openWheel(handWheel({}, { tamper: 'demo.py' }), 'tampered.whl'),
    isCode('MALFORMED', /demo\.py.*RECORD hash/),
  );
  // 32 MiB of zeros deflates to ~32 KiB: past the expansion ratio limit.
  const zeros = Buffer.alloc(32 * 1024 * 1024);
  const bomb = deflateRawSync(zeros, { level: 9 });
  const di = 'demo-1.0.dist-info';
  const members = [
    { name: 'bomb.bin', data: Buffer.alloc(0) },
    { name: `${di}/METADATA`, data: Buffer.from('Name: demo\nVersion: 1.0\n') },
    { name: `${di}/WHEEL`, data: Buffer.from('Tag: py3-none-any\n') },
    { name: `${di}/RECORD`, data: Buffer.from(`bomb.bin,sha256=x,${zeros.length}\n`) },
  ];
  const raws = rawMembers(writeZip(members), 'x').map((raw) =>
    raw.name === 'bomb.bin'
      ? {
          raw: {
            ...raw,
            compressed: bomb,
            compressedSize: bomb.length,
            uncompressedSize: zeros.length,
            crc32: 0,
          },
        }
      : { raw },
  );
  assert.throws(() => openWheel(writeZip(raws), 'bomb.whl'), isCode('LIMIT'));
  assert.doesNotThrow(() => openWheel(handWheel({}), 'x.whl'), 'a good wheel opens');
});

test('random bytes never throw anything but WaybillError', () => {
  const good = handWheel({});
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 300 }),
      fc.nat(good.length - 1),
      fc.boolean(),
      (bytes, at, mutate) => {
        const input = mutate ? Buffer.from(good) : Buffer.from(bytes);
        if (mutate) Buffer.from(bytes).copy(input, at);
        try {
          openWheel(input, 'fuzz.whl');
        } catch (e) {
          assert.ok(e instanceof WaybillError, String(e));
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('stamping a wheel keeps the upstream trail: every field it replaces, with its value', async () => {
  const di = 'demo-1.0.dist-info';
  const metadata = [
    'Metadata-Version: 2.4',
    'Name: demo',
    'Version: 1.0',
    'Maintainer: Upstream Team',
    'Maintainer-email: Upstream Team <up@example.com>',
    'License-Expression: MIT',
    'Project-URL: Bug Tracker, https://up.example.com/issues',
    'Project-URL: Homepage, https://up.example.com/',
    '',
  ].join('\n');
  const path = await writeTemp(handWheel({ [`${di}/METADATA`]: metadata }));
  const facts = {
    team: 'Release Team',
    contact: 'release@example.org',
    bugTracker: 'https://example.org/issues',
    docs: 'https://up.example.com/docs',
    license: 'Apache-2.0',
  };
  const result = await stampWheel(path, facts);
  assert.deepEqual(result.replaced, [
    { field: 'wheel METADATA Project-URL (Bug Tracker)', value: 'https://up.example.com/issues' },
    { field: 'wheel METADATA License-Expression', value: 'MIT' },
    { field: 'wheel METADATA Maintainer', value: 'Upstream Team' },
    { field: 'wheel METADATA Maintainer-email', value: 'Upstream Team <up@example.com>' },
  ]);
  // Stamped again with the same facts: nothing of the upstream's is left to replace.
  const again = await stampWheel(path, facts);
  assert.equal(again.replaced, undefined);
});

test('stamping a wheel that says only the legacy License keeps a one-line one in the trail, never a license text', async () => {
  const di = 'demo-1.0.dist-info';
  const stamped = async (license: string) => {
    const metadata = `Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nLicense: ${license}\n\n`;
    const path = await writeTemp(handWheel({ [`${di}/METADATA`]: metadata }));
    return (await stampWheel(path, { license: 'Apache-2.0' })).replaced;
  };
  // License-Expression supersedes License (PEP 639): the name the package went by is the trail.
  assert.deepEqual(await stamped('MIT'), [{ field: 'wheel METADATA License', value: 'MIT' }]);
  // A whole license text (continuation lines) is no name to record.
  assert.equal(await stamped('Copyright (c) 2024 Someone\n        Permission is hereby granted'), undefined);
});
