import assert from 'node:assert/strict';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { buildHello } from '../../../test/fixtures/build-artifacts.ts';
import {
  buildGo,
  hasTool,
  makeElf,
  makeGoProject,
  makeTmp,
  removeTmp,
  run,
} from '../../../test/helpers/exec-fixtures.ts';
import { WaybillError } from '../../errors.ts';
import { encodePackageNote } from './elf-note.ts';
import { stampElf } from './elf-stamp.ts';
import { executableFacts, executableFormat } from './executable-facts.ts';

const isCode = (code: string) => (e: unknown) => e instanceof WaybillError && e.code === code;

/** The package note JSON as binutils' readelf prints it (the reference reader). */
async function readelfNote(path: string): Promise<Record<string, string> | undefined> {
  const out = await run('readelf', ['-n', path]);
  const m = /Packaging Metadata: (\{.*\})/.exec(out);
  return m ? JSON.parse(m[1] as string) : undefined;
}

test('gcc-built ELF: header architecture; stamp adds a note the binary runs with and readelf shows', async (t) => {
  const hello = await buildHello();
  if (!hello || !(await hasTool('objcopy')) || !(await hasTool('readelf')))
    return t.skip('gcc/binutils not available');
  const dir = await makeTmp();
  try {
    const bin = join(dir, 'hello');
    await copyFile(hello, bin);
    assert.ok(executableFormat.detect((await readFile(bin)).subarray(0, 512), bin));
    const machine = (await run('uname', ['-m'])).trim();
    const before = await executableFormat.readFacts(bin);
    assert.equal(before.format, 'elf');
    assert.equal(before.name, undefined);
    assert.deepEqual(before.architectures, [{ value: machine, field: 'ELF header e_machine' }]);

    const result = await executableFormat.stamp!(bin, {
      name: 'hello',
      version: '1.2.3',
      team: 'Platform Team',
    });
    assert.equal(result.changed, true);
    assert.equal(result.tool, 'objcopy');
    assert.equal((await run(bin, [])).trim(), 'hello', 'the stamped binary still runs');
    assert.deepEqual(await readelfNote(bin), {
      architecture: machine,
      maintainer: 'Platform Team',
      name: 'hello',
      type: 'generic',
      version: '1.2.3',
    });
    const after = await executableFormat.readFacts(bin);
    assert.deepEqual(after.name, { value: 'hello', field: 'ELF .note.package name' });
    assert.deepEqual(after.version, { value: '1.2.3', field: 'ELF .note.package version' });
    assert.equal(after.team?.value, 'Platform Team');
    assert.deepEqual(
      after.architectures,
      [{ value: machine, field: 'ELF header e_machine' }],
      'agreeing: one',
    );
    // The note section is 4-byte aligned and not allocated (see elf-stamp.ts).
    const sections = await run('readelf', ['-SW', bin]);
    const line = sections.split('\n').find((l) => l.includes('.note.package')) ?? '';
    assert.match(line, /NOTE\s+0+\s+[0-9a-f]+\s+[0-9a-f]+\s+00\s+0\s+0\s+4$/);

    // Same facts again: nothing to do. A wrong architecture: both are reported.
    assert.equal(
      (await stampElf(bin, { name: 'hello', version: '1.2.3', team: 'Platform Team' })).changed,
      false,
    );
    await stampElf(bin, { architecture: 'aarch64' });
    const wrong = await executableFormat.readFacts(bin);
    assert.deepEqual(
      wrong.architectures.map((a) => a.value),
      ['aarch64', machine],
    );
    assert.equal(wrong.name?.value, 'hello', 'keys not given are kept');
    assert.equal((await run(bin, [])).trim(), 'hello');
  } finally {
    await removeTmp(dir);
  }
});

test('a linker-made note (ld --package-metadata) stays allocated unless its identity changes; then its other keys are kept', async (t) => {
  if (!(await hasTool('gcc')) || !(await hasTool('objcopy'))) return t.skip('gcc/binutils not available');
  const dir = await makeTmp();
  try {
    await writeFile(join(dir, 'h.c'), '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n');
    const bin = join(dir, 'h');
    const linked = { type: 'deb', name: 'hi', version: '0.1', osCpe: 'cpe:/o:debian:debian_linux:12' };
    try {
      await run('gcc', [
        '-o',
        bin,
        join(dir, 'h.c'),
        '-Xlinker',
        `--package-metadata=${JSON.stringify(linked)}`,
      ]);
    } catch {
      return t.skip('this ld has no --package-metadata');
    }
    assert.deepEqual(await readelfNote(bin), linked);
    const facts = await executableFormat.readFacts(bin);
    assert.equal(facts.name?.value, 'hi');
    const allocated = async () =>
      /\.note\.package\s+NOTE\s+\S+\s+\S+\s+\S+\s+\S+\s+A\s/.test(await run('readelf', ['-SW', bin]));
    assert.ok(await allocated(), 'the linker puts it in memory (a PT_NOTE), so core dumps carry it');
    // The same identity and a team: nothing to write, the note stays where the linker put it.
    const same = await stampElf(bin, { name: 'hi', version: '0.1', team: 'Platform Team' });
    assert.equal(same.changed, false);
    assert.ok(await allocated());
    await stampElf(bin, { version: '0.2' });
    const note = await readelfNote(bin);
    assert.equal(note?.version, '0.2');
    assert.equal(note?.osCpe, linked.osCpe);
    assert.equal(note?.type, 'deb');
    assert.equal(note?.maintainer, undefined, 'nothing is added to a linker-made note');
    assert.equal((await run(bin, [])).trim(), 'hi');
  } finally {
    await removeTmp(dir);
  }
});

test('Go binary: main module path as `go version -m` prints it; PE and Mach-O are not stamped', async (t) => {
  if (!(await hasTool('go'))) return t.skip('go not available');
  const dir = await makeTmp();
  try {
    const project = await makeGoProject(dir);
    const linux = await buildGo(project, 'linux', 'arm64', join(dir, 'app-linux'));
    const win = await buildGo(project, 'windows', 'amd64', join(dir, 'app.exe'));
    const ref = await run('go', ['version', '-m', linux]);
    const mod = /^\tmod\t(\S+)\t(\S+)/m.exec(ref);
    assert.ok(mod, ref);
    const facts = await executableFormat.readFacts(linux);
    // Implied, not stated: a name given to stamp may replace it (app/identity.ts).
    assert.deepEqual(facts.name, { value: mod[1], field: 'Go build info main module path', inferred: true });
    if (mod[2] === '(devel)') assert.equal(facts.version, undefined);
    else assert.equal(facts.version?.value, mod[2]);
    assert.deepEqual(facts.architectures, [{ value: 'aarch64', field: 'ELF header e_machine' }]);
    const pe = await executableFormat.readFacts(win);
    assert.equal(pe.format, 'pe');
    assert.equal(pe.hasIdentityFields, false);
    assert.deepEqual(pe.architectures, [{ value: 'x86_64', field: 'PE header Machine' }]);
    const before = await readFile(win);
    assert.deepEqual(await executableFormat.stamp!(win, { name: 'x' }), { changed: false, fields: [] });
    assert.deepEqual(await readFile(win), before);
  } finally {
    await removeTmp(dir);
  }
});

test('hostile: a note whose length runs past its section is MALFORMED', () => {
  const note = encodePackageNote({ name: 'x', version: '1' });
  note.writeUInt32LE(0x7fffffff, 4); // descsz
  const elf = makeElf({
    is64: true,
    le: true,
    machine: 62,
    sections: [{ name: '.note.package', data: note, type: 7 }],
  });
  assert.throws(() => executableFacts(elf, 'overflow'), isCode('MALFORMED'));
  const ok = makeElf({
    is64: true,
    le: true,
    machine: 62,
    sections: [
      { name: '.note.package', data: encodePackageNote({ name: 'x', architecture: 'arm64' }), type: 7 },
    ],
  });
  assert.deepEqual(
    executableFacts(ok, 'ok').architectures.map((a) => `${a.value} ${a.field}`),
    ['arm64 ELF .note.package architecture', 'x86_64 ELF header e_machine'],
  );
});

test('random bytes never throw anything but WaybillError', () => {
  const base = makeElf({
    is64: true,
    le: true,
    machine: 62,
    sections: [{ name: '.note.package', data: encodePackageNote({ name: 'x' }), type: 7 }],
  });
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(base.length - 1), (bytes, at) => {
      const buf = Buffer.from(base);
      Buffer.from(bytes).copy(buf, at);
      try {
        executableFacts(buf, 'fuzz');
      } catch (e) {
        assert.ok(e instanceof WaybillError, String(e));
      }
    }),
    { numRuns: 500 },
  );
});
