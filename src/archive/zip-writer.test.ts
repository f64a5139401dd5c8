import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { WaybillError } from '../errors.ts';
import { openZip } from './zip-reader.ts';
import { dosDateTime, makeMember, rawMembers, writeZip } from './zip-writer.ts';

const segment = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,11}$/);
const memberName = fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => s.join('/'));

test('write → read round trip (fast-check)', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(
        fc.record({ name: memberName, data: fc.uint8Array({ maxLength: 2000 }), stored: fc.boolean() }),
        {
          selector: (m) => m.name,
          maxLength: 8,
        },
      ),
      (members) => {
        // A name cannot be both a file and a directory prefix of another file on extraction; the zip
        // format itself does not care, and neither does the reader.
        const zip = writeZip(
          members.map((m) => ({ name: m.name, data: Buffer.from(m.data), method: m.stored ? 0 : 8 })),
        );
        const back = openZip(zip, 'rt.zip');
        assert.deepEqual(
          back.entries.map((e) => [e.name, back.read(e).toString('hex')]),
          members.map((m) => [m.name, Buffer.from(m.data).toString('hex')]),
        );
        // Copying every member raw gives the same bytes again.
        assert.deepEqual(writeZip(rawMembers(zip, 'rt.zip').map((raw) => ({ raw }))), zip);
      },
    ),
    { numRuns: 100 },
  );
});

test('Python zipfile reads what we write, with modes and UTF-8 names', () => {
  const dir = mkdtempSync(join(tmpdir(), 'waybill-zipw-'));
  try {
    const { dosDate, dosTime } = dosDateTime(new Date('2023-11-14T22:13:20Z'));
    const zip = writeZip([
      { name: 'bin/run.sh', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755, dosDate, dosTime },
      { name: 'données/é.txt', data: Buffer.from('x'.repeat(5000)) },
      { name: 'empty', data: Buffer.alloc(0), method: 0 },
    ]);
    const file = join(dir, 'a.zip');
    writeFileSync(file, zip);
    const out = execFileSync(
      'python3',
      [
        '-c',
        'import sys,zipfile,json\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(json.dumps([[i.filename, oct(i.external_attr>>16), list(i.date_time), len(z.read(i))] for i in z.infolist()]))',
        file,
      ],
      { encoding: 'utf8' },
    );
    assert.deepEqual(JSON.parse(out), [
      ['bin/run.sh', '0o100755', [2023, 11, 14, 22, 13, 20], 18],
      ['données/é.txt', '0o100644', [1980, 1, 1, 0, 0, 0], 5000],
      ['empty', '0o100644', [1980, 1, 1, 0, 0, 0], 0],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rawMembers keeps compressed bytes, times and modes of a Python-written zip', () => {
  const dir = mkdtempSync(join(tmpdir(), 'waybill-zipw-'));
  try {
    const file = join(dir, 'py.zip');
    execFileSync('python3', [
      '-c',
      'import sys,zipfile\nz=zipfile.ZipFile(sys.argv[1],"w",zipfile.ZIP_DEFLATED)\ni=zipfile.ZipInfo("x/tool",(2020,5,6,7,8,10))\ni.external_attr=0o100755<<16\ni.compress_type=zipfile.ZIP_DEFLATED\nz.writestr(i,b"abc"*1000)\nz.writestr("d/",b"")\nz.close()',
      file,
    ]);
    const buf = execFileSync('cat', [file]);
    const raws = rawMembers(buf, 'py.zip');
    assert.deepEqual(
      raws.map((r) => [r.name, (r.externalAttr >>> 16).toString(8)]),
      [
        ['x/tool', '100755'],
        ['d/', '40775'],
      ],
    );
    const copy = writeZip(raws.map((raw) => ({ raw })));
    const back = openZip(copy, 'copy');
    assert.equal(back.read(back.find('x/tool')!).toString(), 'abc'.repeat(1000));
    assert.equal(raws[0]!.compressed.length < 100, true, 'deflated data copied, not re-stored');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('duplicate names are refused; a member compressed here is deterministic', () => {
  assert.throws(
    () =>
      writeZip([
        { name: 'a', data: Buffer.from('1') },
        { name: 'a', data: Buffer.from('2') },
      ]),
    (e: unknown) => e instanceof WaybillError && e.code === 'USAGE',
  );
  const a = makeMember({ name: 'm', data: Buffer.from('same') });
  const b = makeMember({ name: 'm', data: Buffer.from('same') });
  assert.deepEqual(writeZip([{ raw: a }]), writeZip([{ raw: b }]));
});

test('random bytes given to rawMembers throw only WaybillError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      try {
        rawMembers(Buffer.from(bytes), 'fuzz');
      } catch (e) {
        assert.ok(e instanceof WaybillError, String(e));
      }
    }),
    { numRuns: 300 },
  );
});
