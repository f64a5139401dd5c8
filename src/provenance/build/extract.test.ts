import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { expectError } from '../../../test/helpers/assertions.ts';
import { tarBuffer } from '../../archive/tar-writer.ts';
import { WaybillError } from '../../errors.ts';
import { buildTar } from '../../sources/testing.ts';
import { extractSourceArchive } from './extract.ts';

let tmp: string;
let n = 0;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'waybill-extract-'));
});
after(() => rm(tmp, { recursive: true, force: true }));

/** Writes `tar` and extracts it into a fresh directory; returns that directory. */
async function extract(tar: Buffer): Promise<string> {
  n++;
  const archive = join(tmp, `a${n}.tar`);
  const dir = join(tmp, `d${n}`);
  await writeFile(archive, tar);
  await mkdir(dir);
  await extractSourceArchive(archive, dir);
  return dir;
}

test('nothing is written through a symlink the archive made', async () => {
  const outside = join(tmp, 'outside');
  await mkdir(outside);
  const tar = buildTar({ evil: { symlink: outside }, 'evil/planted': 'x' });
  await expectError(extract(tar), 'UNSAFE_PATH', /lies under the symlink "evil"/);
  assert.equal(existsSync(join(outside, 'planted')), false);
});

test('escaping paths, .git, hard links and duplicates are refused', async () => {
  const raw = (name: string) => {
    // buildTar refuses nothing; write the name as is to test the reader's own checks.
    const t = buildTar({ placeholder: 'x' });
    t.write(`${name}\0`.padEnd(100, '\0'), 0, 100, 'latin1');
    t.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += t[i] as number;
    t.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
    return t;
  };
  await expectError(extract(raw('../escape')), 'UNSAFE_PATH');
  await expectError(extract(raw('/etc/passwd')), 'UNSAFE_PATH');
  await expectError(extract(buildTar({ '.git/hooks/post-checkout': 'x' })), 'UNSAFE_PATH', /\.git/);
  await expectError(extract(buildTar({ a: 'x', b: { hardlink: 'a' } })), 'UNSUPPORTED', /hard link/);
  const dup = await tarBuffer([
    { path: 'f', data: 'one' },
    { path: 'f', data: 'two' },
  ]);
  await expectError(extract(dup), 'MALFORMED', /collides/);
});

test('fast-check: random bytes as a source archive fail only with a WaybillError', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 2048 }), async (bytes) => {
      try {
        await extract(Buffer.from(bytes));
      } catch (e) {
        assert.ok(e instanceof WaybillError, String(e));
      }
    }),
    { numRuns: 100 },
  );
});
