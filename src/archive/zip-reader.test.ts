import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { makeTmp, removeTmp, run } from '../../test/helpers/exec-fixtures.ts';
import { WaybillError } from '../errors.ts';
import { isZipHead, openZip } from './zip-reader.ts';

let tmp: string;
let plain: Buffer;
let zip64: Buffer;
let nested: Buffer;
let bomb: Buffer;
let dots: Buffer;
const HELLO = 'hello\n';
const NUMBERS = Array.from({ length: 1000 }, (_, i) => `${i + 1}\n`).join('');

/** Zips written by Python's zipfile and Info-ZIP `zip`: the readers everybody else uses. */
const PYTHON = `
import sys, zipfile, io
d = sys.argv[1]
with zipfile.ZipFile(d + '/plain.zip', 'w') as z:
    z.writestr('META-INF/', '')
    z.writestr(zipfile.ZipInfo('stored.txt'), 'hello\\n', compress_type=zipfile.ZIP_STORED)
    z.writestr('dir/numbers.txt', ''.join('%d\\n' % i for i in range(1, 1001)), compress_type=zipfile.ZIP_DEFLATED)
with zipfile.ZipFile(d + '/dots.zip', 'w') as z:
    z.writestr('ok.txt', 'ok')
    z.writestr('a/../../x', 'x')
def zbytes(entries):
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w', zipfile.ZIP_DEFLATED) as z:
        for n, v in entries: z.writestr(n, v)
    return b.getvalue()
inner = zbytes([('deep.txt', 'deep')])
middle = zbytes([('lib/inner.jar', inner)])
open(d + '/nested.zip', 'wb').write(zbytes([('WEB-INF/lib/middle.jar', middle), ('a.txt', 'a')]))
open(d + '/bomb.zip', 'wb').write(zbytes([('zeros', b'\\0' * (50 * 1024 * 1024))]))
`;

before(async () => {
  tmp = await makeTmp('waybill-zip-');
  await run('python3', ['-c', PYTHON, tmp]);
  await writeFile(join(tmp, 'a.txt'), HELLO);
  await writeFile(join(tmp, 'b.txt'), NUMBERS);
  await run('zip', ['-q', '-fz', 'z64.zip', 'a.txt', 'b.txt'], { cwd: tmp });
  plain = await readFile(join(tmp, 'plain.zip'));
  zip64 = await readFile(join(tmp, 'z64.zip'));
  nested = await readFile(join(tmp, 'nested.zip'));
  bomb = await readFile(join(tmp, 'bomb.zip'));
  dots = await readFile(join(tmp, 'dots.zip'));
});
after(() => removeTmp(tmp));

const code = (c: string) => (e: unknown) => e instanceof WaybillError && e.code === c;

describe('zip reader', () => {
  test('stored, deflated and directory entries (Python zipfile)', () => {
    assert.ok(isZipHead(plain));
    const z = openZip(plain, 'plain.zip');
    assert.deepEqual(
      z.entries.map((e) => [e.name, e.isDirectory, e.method]),
      [
        ['META-INF', true, 0],
        ['stored.txt', false, 0],
        ['dir/numbers.txt', false, 8],
      ],
    );
    assert.equal(z.read(z.find('stored.txt')!).toString(), HELLO);
    assert.equal(z.read(z.find('dir/numbers.txt')!).toString(), NUMBERS);
    assert.equal(z.find('META-INF'), undefined);
  });

  test('Zip64 records written by zip -fz, also behind a prepended launcher script', () => {
    for (const buf of [zip64, Buffer.concat([Buffer.from('#!/bin/sh\nexec java -jar "$0"\n'), zip64])]) {
      const z = openZip(buf, 'z64.zip');
      assert.equal(z.read(z.find('a.txt')!).toString(), HELLO);
      assert.equal(z.read(z.find('b.txt')!).toString(), NUMBERS);
    }
  });

  test('nested archives share the budget and stop at maxDepth', () => {
    const z = openZip(nested, 'app.war');
    const middle = z.openNested(z.find('WEB-INF/lib/middle.jar')!);
    assert.equal(middle.name, 'app.war!/WEB-INF/lib/middle.jar');
    const inner = middle.openNested(middle.find('lib/inner.jar')!);
    assert.equal(inner.read(inner.find('deep.txt')!).toString(), 'deep');
    const shallow = openZip(nested, 'app.war', { limits: { maxDepth: 1 } });
    const m = shallow.openNested(shallow.find('WEB-INF/lib/middle.jar')!);
    assert.throws(() => m.openNested(m.find('lib/inner.jar')!), code('LIMIT'));
  });

  test('limits: expansion ratio, total bytes, entry count', () => {
    const z = openZip(bomb, 'bomb.zip');
    assert.throws(() => z.read(z.entries[0]!), code('LIMIT'));
    const budget = openZip(plain, 'p', { limits: { maxTotalUncompressed: 100 } });
    assert.throws(() => budget.read(budget.find('dir/numbers.txt')!), code('LIMIT'));
    assert.throws(() => openZip(plain, 'p', { limits: { maxEntries: 2 } }), code('LIMIT'));
  });

  test('names escaping the root are UNSAFE_PATH', () => {
    assert.throws(() => openZip(dots, 'dots.zip'), code('UNSAFE_PATH'));
    for (const evil of ['/etc/x', 'C:/x', '..\\x']) {
      const b = Buffer.from(zip64);
      const pad = evil.padEnd(5, '/');
      // a.txt → the evil name (same length) in the central directory
      const at = b.lastIndexOf('a.txt');
      b.write(pad.slice(0, 5), at, 'latin1');
      assert.throws(() => openZip(b, 'evil'), code('UNSAFE_PATH'), evil);
    }
  });

  test('damaged data: CRC mismatch, size lies, garbage', () => {
    const b = Buffer.from(zip64);
    b[b.indexOf(HELLO)] = 0x48; // 'h' → 'H' in the stored entry
    const z = openZip(b, 'crc');
    assert.throws(() => z.read(z.find('a.txt')!), code('MALFORMED'));
    assert.throws(() => openZip(Buffer.from('PK\x03\x04 nothing else'), 'g'), code('MALFORMED'));
  });

  test('random and mutated archives never throw anything but WaybillError', () => {
    const readAll = (buf: Buffer) => {
      try {
        const z = openZip(buf, 'fuzz', { limits: { maxTotalUncompressed: 1 << 20 } });
        for (const e of z.entries) {
          try {
            z.read(e);
          } catch (err) {
            if (!(err instanceof WaybillError)) throw err;
          }
        }
      } catch (e) {
        if (!(e instanceof WaybillError)) throw e;
      }
    };
    fc.assert(
      fc.property(
        fc.constantFrom(zip64, nested),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 10 }),
        fc.uint8Array({ maxLength: 300 }),
        (base, muts, random) => {
          const b = Buffer.from(base);
          for (const [i, v] of muts) b[i % b.length] = v;
          readAll(b);
          readAll(Buffer.from(random));
          readAll(Buffer.concat([Buffer.from(random), Buffer.from('PK\x05\x06'), Buffer.alloc(18)]));
        },
      ),
      { numRuns: 1500 },
    );
  });
});
