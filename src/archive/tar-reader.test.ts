import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { link, mkdir, mkdtemp, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { isWaybillError, WaybillError } from '../errors.ts';
import { indexTarFile, openIndexedEntry, readTar, resolveSymlink, type TarHeader } from './tar-reader.ts';
import { tarBuffer } from './tar-writer.ts';

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

let work = '';
const LONG_DIR = 'd'.repeat(120);
const LONG_FILE = `${LONG_DIR}/${'f'.repeat(110)}`;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'waybill-tar-'));
  const src = join(work, 'src');
  await mkdir(join(src, 'a', LONG_DIR), { recursive: true });
  await writeFile(join(src, 'a', 'f.txt'), 'hello\n');
  await writeFile(join(src, 'a', 'big.bin'), Buffer.alloc(70_000, 7));
  await symlink('../../outside', join(src, 'a', 'sym'));
  await link(join(src, 'a', 'f.txt'), join(src, 'a', 'hard'));
  await writeFile(join(src, 'a', LONG_FILE), 'long\n');
  for (const format of ['gnu', 'pax', 'ustar', 'v7']) {
    if (format === 'ustar' || format === 'v7') {
      // ustar/v7 cannot hold the 231-character name: archive only the short entries.
      execFileSync('tar', [
        `--format=${format}`,
        '-cf',
        join(work, `${format}.tar`),
        '-C',
        src,
        './a/f.txt',
        './a/big.bin',
        './a/sym',
        './a/hard',
      ]);
    } else {
      execFileSync('tar', [`--format=${format}`, '-cf', join(work, `${format}.tar`), '-C', src, '.']);
    }
  }
});

after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function entries(
  source: Readable | Buffer,
  input = 'test.tar',
): Promise<Array<TarHeader & { data: string }>> {
  const out: Array<TarHeader & { data: string }> = [];
  const stream = Buffer.isBuffer(source) ? Readable.from([source]) : source;
  for await (const entry of readTar(stream, { input })) {
    const data = entry.header.path.endsWith('big.bin') ? '' : (await entry.readAll()).toString();
    out.push({ ...entry.header, data });
  }
  return out;
}

/** A tar made by Python's tarfile, which happily writes names GNU tar would refuse. */
function pythonTar(script: string): Buffer {
  const program = `import tarfile, io, sys\nbuf = io.BytesIO()\nt = tarfile.open(fileobj=buf, mode='w', format=tarfile.GNU_FORMAT)\ndef add(name, data=b'', type=tarfile.REGTYPE, link=''):\n    i = tarfile.TarInfo(name); i.size = len(data); i.type = type; i.linkname = link\n    t.addfile(i, io.BytesIO(data))\n${script}\nt.close()\nsys.stdout.buffer.write(buf.getvalue())\n`;
  return execFileSync('python3', ['-c', program]);
}

for (const format of ['gnu', 'pax', 'ustar', 'v7']) {
  test(`reads a GNU tar --format=${format} archive: files, links, long names`, async () => {
    const list = await entries(createReadStream(join(work, `${format}.tar`)));
    const byPath = new Map(list.map((e) => [e.path, e]));
    assert.equal(byPath.get('a/f.txt')?.data, 'hello\n');
    assert.equal(byPath.get('a/f.txt')?.type, 'file');
    assert.equal(byPath.get('a/big.bin')?.size, 70_000);
    assert.equal(byPath.get('a/sym')?.type, 'symlink');
    assert.equal(byPath.get('a/sym')?.linkTarget, '../../outside');
    const hard = byPath.get('a/hard') ?? byPath.get('a/f.txt');
    assert.ok(
      list.some((e) => e.type === 'hardlink' && (e.linkTarget === 'a/f.txt' || e.linkTarget === 'a/hard')),
      JSON.stringify(hard),
    );
    if (format === 'gnu' || format === 'pax') {
      assert.equal(byPath.get(`a/${LONG_FILE}`)?.data, 'long\n');
      assert.ok(!list.some((e) => e.path === '' || e.path.startsWith('./')));
    }
  });
}

test('bodies left unread are skipped; peek does not consume', async () => {
  const list: string[] = [];
  for await (const entry of readTar(createReadStream(join(work, 'pax.tar')), { input: 'pax.tar' })) {
    if (entry.header.path === 'a/f.txt') {
      assert.equal((await entry.peek(3)).toString(), 'hel');
      assert.equal((await entry.readAll()).toString(), 'hello\n');
    }
    list.push(entry.header.path);
  }
  assert.ok(list.includes(`a/${LONG_FILE}`));
});

test('readInto fills a caller buffer (reused across entries) and refuses one too small', async () => {
  const tar = await tarBuffer([
    { path: 'one', data: 'first file' },
    { path: 'two', data: 'second' },
    { path: 'big', data: Buffer.alloc(100, 1) },
  ]);
  const scratch = Buffer.alloc(64, 0x2e);
  const seen: string[] = [];
  for await (const entry of readTar(Readable.from([tar]), { input: 'mem' })) {
    if (entry.header.path === 'big') {
      await assert.rejects(entry.readInto(scratch), RangeError);
      continue;
    }
    const view = await entry.readInto(scratch);
    assert.equal(view.buffer, scratch.buffer);
    seen.push(view.toString());
  }
  assert.deepEqual(seen, ['first file', 'second']);
  assert.equal(scratch.toString('latin1', 0, 11), 'secondfile.', 'written in place, nothing past the entry');
});

test('indexTarFile gives offsets for random access without reading content', async () => {
  const path = join(work, 'pax.tar');
  const index = await indexTarFile(path);
  const f = index.get('a/f.txt');
  assert.ok(f);
  const chunks: Buffer[] = [];
  for await (const c of openIndexedEntry(path, f)) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), 'hello\n');
  const long = index.get(`a/${LONG_FILE}`);
  assert.ok(long);
  assert.equal((await readFile(path)).subarray(long.offset, long.offset + long.size).toString(), 'long\n');
  // The hard link points at its target's content.
  const hard = [...index.values()].find((e) => e.type === 'hardlink');
  assert.equal(hard?.size, 6);
});

test('hostile: ../ paths, absolute paths and escaping hard links are UNSAFE_PATH', async () => {
  await assert.rejects(entries(pythonTar("add('../etc/passwd', b'root')")), { code: 'UNSAFE_PATH' });
  await assert.rejects(entries(pythonTar("add('a/../../etc/passwd', b'root')")), { code: 'UNSAFE_PATH' });
  await assert.rejects(entries(pythonTar("add('/etc/passwd', b'root')")), /absolute path/);
  await assert.rejects(
    entries(pythonTar("add('ok', b'x')\nadd('evil', type=tarfile.LNKTYPE, link='../../etc/shadow')")),
    { code: 'UNSAFE_PATH' },
  );
  await assert.rejects(entries(pythonTar("add('evil', type=tarfile.LNKTYPE, link='/etc/shadow')")), {
    code: 'UNSAFE_PATH',
  });
  // A symlink pointing out is a valid entry; resolving it is clamped to the root.
  const list = await entries(pythonTar("add('bin/sh', type=tarfile.SYMTYPE, link='../../../etc/passwd')"));
  assert.equal(list[0]?.linkTarget, '../../../etc/passwd');
  assert.equal(resolveSymlink('bin/sh', '../../../etc/passwd'), 'etc/passwd');
  assert.equal(resolveSymlink('usr/bin/x', '/lib/y'), 'lib/y');
});

test('hostile: a non-UTF-8 name is MALFORMED and shown escaped', async () => {
  const dir = join(work, 'latin1');
  await mkdir(dir, { recursive: true });
  execFileSync('python3', ['-c', `open(b'${dir}/caf\\xe9', 'w').write('x')`]);
  const tarPath = join(work, 'latin1.tar');
  execFileSync('tar', ['-cf', tarPath, '-C', dir, '.']);
  await assert.rejects(entries(createReadStream(tarPath)), (e: unknown) => {
    assert.ok(e instanceof WaybillError);
    assert.equal(e.code, 'MALFORMED');
    assert.match(e.message, /caf\\xe9/);
    return true;
  });
});

test('hostile: truncated archive and bad checksum are MALFORMED', async () => {
  const whole = await readFile(join(work, 'gnu.tar'));
  const bigAt = whole.indexOf('big.bin');
  await assert.rejects(entries(whole.subarray(0, bigAt + 512 + 1000)), /truncated tar archive/);
  await assert.rejects(entries(whole.subarray(0, 700)), { code: 'MALFORMED' });
  const flipped = Buffer.from(whole);
  flipped[3] = (flipped[3] as number) ^ 0x20;
  await assert.rejects(entries(flipped), /checksum mismatch/);
  // Truncating the file on disk: the random-access indexer notices too.
  const cut = join(work, 'cut.tar');
  await writeFile(cut, whole);
  await truncate(cut, bigAt + 512 + 1000);
  await assert.rejects(indexTarFile(cut), { code: 'MALFORMED' });
});

test('GNU sparse files are UNSUPPORTED', async () => {
  const dir = join(work, 'sparse');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 's'), 'x');
  await truncate(join(dir, 's'), 4 * 1024 * 1024);
  for (const format of ['gnu', 'pax']) {
    const path = join(work, `sparse-${format}.tar`);
    execFileSync('tar', [`--format=${format}`, '-S', '-cf', path, '-C', dir, 's']);
    await assert.rejects(entries(createReadStream(path)), { code: 'UNSUPPORTED' });
  }
});

test('a layer without end-of-archive blocks (as umoci writes) is accepted', async () => {
  const whole = pythonTar("add('a', b'abc')");
  const list = await entries(whole.subarray(0, 512 + 3));
  assert.equal(list[0]?.data, 'abc');
});

test("a tar cut inside an entry's padding is truncated, not an archive that ends there", async () => {
  // Two entries; the cut keeps 'abc' and part of its padding and drops 'b' (found by fuzzing: the
  // entries after such a cut went missing without a word).
  const whole = await tarBuffer([
    { path: 'a', data: 'abc' },
    { path: 'b', data: 'def' },
  ]);
  for (const cut of [512 + 4, 512 + 300, 1023]) {
    await assert.rejects(entries(Buffer.from(whole.subarray(0, cut))), (e: unknown) => {
      assert.ok(isWaybillError(e) && e.code === 'MALFORMED', String(e));
      assert.match(e.message, /^test\.tar: truncated tar archive: .*padding after "a"/);
      return true;
    });
  }
  // No padding at all after the last content byte is still accepted (umoci's layers, above).
  assert.deepEqual(
    (await entries(Buffer.from(whole.subarray(0, 512 + 3)))).map((e) => e.path),
    ['a'],
  );
});

test('property: a tar cut anywhere is read up to a clean boundary or refused as truncated', async () => {
  // Clean: between entries, right after an entry's content (no padding: umoci), or inside the end
  // marker after its first zero block. Anywhere else — a header, content, padding — is a cut file.
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 0, max: 1500 }), { minLength: 1, maxLength: 5 }),
      fc.nat(),
      async (sizes, cutAt) => {
        const files = sizes.map((size, i) => ({ path: `f${i}`, data: Buffer.alloc(size, 0x61 + i) }));
        const whole = await tarBuffer(files);
        const clean = new Set<number>();
        let at = 0;
        for (const f of files) {
          clean.add(at);
          clean.add(at + 512 + f.data.length);
          at += 512 + Math.ceil(f.data.length / 512) * 512;
        }
        clean.add(at);
        clean.add(at + 512);
        const cut = cutAt % whole.length;
        const read = await entries(Buffer.from(whole.subarray(0, cut))).then(
          (list) => list.length,
          (e: unknown) => {
            if (!isWaybillError(e) || e.code !== 'MALFORMED' || !/truncated/.test(e.message)) throw e;
            return 'truncated';
          },
        );
        assert.equal(read === 'truncated', !clean.has(cut), `cut at ${cut} of ${whole.length}: ${read}`);
      },
    ),
    { numRuns: 300 },
  );
});

test('property: random bytes and mutated tars never throw anything but WaybillError', async () => {
  const valid = await readFile(join(work, 'pax.tar'));
  const base = valid.subarray(0, 8192);
  const recomputeChecksums = (buf: Buffer) => {
    for (let at = 0; at + 512 <= buf.length; at += 512) {
      buf.fill(0x20, at + 148, at + 156);
      let sum = 0;
      for (let i = at; i < at + 512; i++) sum += buf[i] as number;
      buf.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 'latin1');
    }
  };
  const inputs = fc.oneof(
    fc.uint8Array({ maxLength: 2048 }),
    fc
      .tuple(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 12 }),
        fc.boolean(),
        fc.nat(),
      )
      .map(([edits, fix, cut]) => {
        const copy = Buffer.from(base);
        for (const [at, value] of edits) copy[at % copy.length] = value;
        if (fix) recomputeChecksums(copy);
        return copy.subarray(0, cut % 3 === 0 ? cut % copy.length : copy.length);
      }),
  );
  await fc.assert(
    fc.asyncProperty(inputs, async (bytes) => {
      try {
        for await (const entry of readTar(Readable.from([Buffer.from(bytes)]), { input: 'fuzz' }))
          await entry.readAll();
      } catch (e) {
        if (!(e instanceof WaybillError)) throw e;
      }
    }),
    { numRuns: 400 },
  );
});

// Moved from src/oci (its own tar indexer was merged into this one).
test('indexTarFile agrees with GNU tar on a GNU-written archive (long names, pax, dirs, links)', async () => {
  const tmp = { dir: await mkdtemp(join(work, 'index-')) };
  const src = join(tmp.dir, 'src');
  const long = `${'a'.repeat(90)}/${'b'.repeat(90)}/${'c'.repeat(90)}`;
  run('mkdir', ['-p', join(src, long)]);
  writeFileSync(join(src, long, 'file.txt'), 'deep');
  writeFileSync(join(src, 'small'), 'x'.repeat(700));
  run('ln', ['-s', 'small', join(src, 'link')]);
  let checked = 0;
  for (const format of ['gnu', 'posix', 'ustar']) {
    const tarFile = join(tmp.dir, `${format}.tar`);
    const r = (() => {
      try {
        run('tar', [`--format=${format}`, '-cf', tarFile, '-C', src, '.']);
        return true;
      } catch {
        return false; // ustar cannot hold a 273-byte path
      }
    })();
    if (!r) continue;
    const entries = [...(await indexTarFile(tarFile)).values()];
    const bytes = readFileSync(tarFile);
    const file = entries.find((e) => e.path === `${long}/file.txt`)!;
    assert.ok(file, `${format}: long path found`);
    assert.equal(bytes.subarray(file.offset, file.offset + file.size).toString(), 'deep');
    const small = entries.find((e) => e.path === 'small')!;
    assert.equal(bytes.subarray(small.offset, small.offset + small.size).toString(), 'x'.repeat(700));
    assert.deepEqual(
      entries.find((e) => e.path === 'link'),
      {
        path: 'link',
        type: 'symlink',
        size: 0,
        offset: entries.find((e) => e.path === 'link')!.offset,
        linkTarget: 'small',
      },
    );
    assert.ok(entries.some((e) => e.path === long.split('/')[0] && e.type === 'dir'));
    checked++;
  }
  assert.ok(checked >= 2, 'gnu and posix formats were checked');
});

test('property: indexTarFile (windowed reads) and readTar agree, headers across 64 KiB windows included', async () => {
  // indexTarFile reads its file 64 KiB at a time (20 000 entries in one read each took 50 s on a
  // loaded machine): entries of these sizes put headers, long-name bodies and cuts on every side
  // of a window's edge.
  const path = join(work, 'windowed.tar');
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          size: fc.oneof(fc.integer({ min: 0, max: 700 }), fc.integer({ min: 65_000, max: 66_100 })),
          long: fc.boolean(),
        }),
        { minLength: 1, maxLength: 6 },
      ),
      fc.option(fc.nat(), { nil: undefined }),
      async (specs, cutAt) => {
        const files = specs.map(({ size, long }, i) => ({
          path: long ? `${'d'.repeat(120)}/${'n'.repeat(110)}${i}` : `f${i}`,
          data: Buffer.alloc(size, 0x61 + i),
        }));
        let bytes = await tarBuffer(files);
        if (cutAt !== undefined) bytes = bytes.subarray(0, cutAt % bytes.length);
        writeFileSync(path, bytes);
        const fromIndex = await indexTarFile(path).then(
          (index) => [...index.values()].map((e) => `${e.path} ${e.size}`),
          (e: unknown) => (isWaybillError(e) ? e.code : String(e)),
        );
        const fromStream = await entries(Buffer.from(bytes)).then(
          (list) => list.map((e) => `${e.path} ${e.size}`),
          (e: unknown) => (isWaybillError(e) ? e.code : String(e)),
        );
        // A cut inside the last entry's content or padding: the stream reads what is there
        // (umoci's layers end without padding), the file index refuses a cut file.
        if (fromIndex === 'MALFORMED' && Array.isArray(fromStream)) return;
        assert.deepEqual(fromIndex, fromStream);
      },
    ),
    { numRuns: 150 },
  );
});

test('indexTarFile: unsafe paths, gzip, truncation are WaybillErrors', async () => {
  const tmp = { dir: await mkdtemp(join(work, 'index-')) };
  const file = join(tmp.dir, 't.tar');
  const good = await tarBuffer([{ path: 'a', data: 'abc' }]);
  const evil = Buffer.from(good);
  evil.write('../a\0', 0, 'latin1');
  // Fix the checksum so only the path is wrong.
  evil.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += evil[i]!;
  evil.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  for (const [bytes, code] of [
    [evil, 'UNSAFE_PATH'],
    [Buffer.from([0x1f, 0x8b, 8, 0]), 'UNSUPPORTED'],
    [good.subarray(0, 600), 'MALFORMED'],
    [Buffer.concat([good.subarray(0, 100), Buffer.from('x'), good.subarray(101)]), 'MALFORMED'],
  ] as const) {
    writeFileSync(file, bytes);
    await assert.rejects(indexTarFile(file), (e) => isWaybillError(e) && e.code === code, code);
  }
});

test('an upstream error while skipping unread content passes through, not as a truncated entry', async () => {
  // A decompression limit or digest mismatch that fires inside a skipped entry must keep its own code
  // and message: rewording it as "truncated" hid decompression bombs as cut files.
  const tar = await tarBuffer([{ path: 'big.bin', type: 'file', data: Buffer.alloc(4096, 1) }]);
  async function* source() {
    yield tar.subarray(0, 1024);
    throw new WaybillError('LIMIT', 'layer.tar.gz', 'decompressed size passes the limit of 1024 bytes');
  }
  await assert.rejects(
    async () => {
      for await (const _entry of readTar(source(), { input: 'layer.tar.gz' })) {
        // leave the content unread: readTar skips it
      }
    },
    (e: unknown) => isWaybillError(e) && e.code === 'LIMIT' && /limit of 1024/.test(e.message),
  );
});
