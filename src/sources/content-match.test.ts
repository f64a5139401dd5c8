import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { containsAnyBytes, containsBytes } from './content-match.ts';

const GO_MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');

test('containsBytes: finds long patterns at the start, the end, after near misses; not a cut-off one', () => {
  const pattern = Buffer.from('.note.package');
  assert.equal(containsBytes(Buffer.from('.note.package'), pattern), true);
  assert.equal(containsBytes(Buffer.from('xx.note.packag'), pattern), false, 'cut off at the end');
  assert.equal(containsBytes(Buffer.from('.note.pac.note.p.note.package!'), pattern), true);
  assert.equal(containsBytes(Buffer.alloc(0), pattern), false);
  assert.equal(containsBytes(Buffer.from('abc'), Buffer.from('b')), true);
  // Anchored inside the pattern: a hit of the anchor too close to the start cannot be a match.
  assert.equal(containsBytes(Buffer.from(' Go buildinf:', 'latin1'), GO_MAGIC, 2), false);
  assert.equal(containsBytes(Buffer.from('Go buildinf:Go buildinf:', 'latin1'), GO_MAGIC, 2), false);
  const inside = Buffer.concat([Buffer.alloc(100, 0xff), GO_MAGIC, Buffer.alloc(3)]);
  assert.equal(containsBytes(inside, GO_MAGIC, 2), true);
  assert.equal(containsBytes(inside, GO_MAGIC, 99), true, 'anchorAt past the end is clamped');
  assert.equal(containsAnyBytes(Buffer.from('..dep-v0'), [pattern, Buffer.from('.dep-v0')]), true);
  assert.equal(containsAnyBytes(Buffer.from('nothing'), [pattern, Buffer.from('.dep-v0')]), false);
});

test('containsBytes agrees with Buffer.includes on random data with planted and partial patterns', () => {
  const alphabet = fc.constantFrom(0x2e, 0x6e, 0x6f, 0x74, 0x65, 0xff, 0x00, 0x47);
  const bytes = (max: number) => fc.array(alphabet, { maxLength: max }).map((a) => Buffer.from(a));
  fc.assert(
    fc.property(
      bytes(200),
      bytes(20).filter((p) => p.length > 0),
      fc.nat(200),
      fc.nat(30),
      fc.nat(20),
      (data, pattern, at, cut, anchorAt) => {
        // Plant a whole or truncated copy of the pattern so matches and near misses both occur.
        const planted = Buffer.concat([
          data.subarray(0, at),
          pattern.subarray(0, Math.max(0, pattern.length - (cut % 3))),
          data.subarray(at),
        ]);
        assert.equal(containsBytes(planted, pattern, anchorAt), planted.includes(pattern));
      },
    ),
    { numRuns: 3000 },
  );
});
