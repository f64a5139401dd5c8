import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import {
  AUDIT_JSON,
  addDepSection,
  buildC,
  makeTmp,
  removeTmp,
} from '../../../test/helpers/exec-fixtures.ts';
import { WaybillError } from '../../errors.ts';
import { decodeAuditData, readCargoAudit } from './cargo-auditable.ts';
import { parseExecutable } from './executable.ts';

let tmp: string;
let cProgram: string;

before(async () => {
  tmp = await makeTmp();
  cProgram = await buildC(tmp);
});
after(() => removeTmp(tmp));

describe('cargo-auditable .dep-v0', () => {
  test('read from an ELF built by gcc with the section added by objcopy', async () => {
    const file = await addDepSection(cProgram, deflateSync(JSON.stringify(AUDIT_JSON)), 'audited', tmp);
    const buf = await readFile(file);
    const pkgs = readCargoAudit(parseExecutable(buf, file), file);
    assert.deepEqual(pkgs, [
      {
        name: 'mytool',
        version: '0.4.1',
        source: 'local',
        kind: 'runtime',
        dependencies: [1, 2],
        root: true,
      },
      {
        name: 'serde',
        version: '1.0.197',
        source: 'crates.io',
        kind: 'runtime',
        dependencies: [],
        root: false,
      },
      { name: 'cc', version: '1.0.90', source: 'crates.io', kind: 'build', dependencies: [], root: false },
    ]);
    assert.equal(readCargoAudit(parseExecutable(await readFile(cProgram), 'c'), 'c'), undefined);
  });

  test('a zlib bomb stops at the cap with LIMIT', () => {
    const bomb = deflateSync(Buffer.alloc(64 * 1024 * 1024, 0x20), { level: 9 });
    assert.ok(bomb.length < 100_000);
    assert.throws(
      () => decodeAuditData(bomb, 'bomb'),
      (e) => e instanceof WaybillError && e.code === 'LIMIT',
    );
  });

  test('broken zlib, broken JSON and missing fields are MALFORMED', () => {
    const isMalformed = (e: unknown) => e instanceof WaybillError && e.code === 'MALFORMED';
    assert.throws(() => decodeAuditData(Buffer.from('not zlib'), 'x'), isMalformed);
    assert.throws(() => decodeAuditData(deflateSync('{'), 'x'), isMalformed);
    assert.throws(() => decodeAuditData(deflateSync('{"packages":{}}'), 'x'), isMalformed);
    assert.throws(() => decodeAuditData(deflateSync('{"packages":[{"version":"1"}]}'), 'x'), isMalformed);
  });

  test('random bytes and random JSON never throw anything but WaybillError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u)),
          fc.json().map((j) => deflateSync(j)),
        ),
        (b) => {
          try {
            decodeAuditData(b, 'fuzz');
          } catch (e) {
            if (!(e instanceof WaybillError)) throw e;
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
