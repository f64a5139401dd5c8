import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyFacts } from '../formats/facts.ts';
import type { Artifact } from '../sources/types.ts';
import { buildDate } from './dates.ts';

test('a native date RFC 3339 cannot write (a deb member dated past year 9999) is not the build date', async (t) => {
  // Found by fuzzing: `stamp` of a .deb whose ar member mtime was 999999999999 recorded built
  // '+033658-09-27T01:46:39Z', and failed on its own record's schema with a message naming no file.
  const saved = process.env.SOURCE_DATE_EPOCH;
  t.after(() => {
    if (saved === undefined) delete process.env.SOURCE_DATE_EPOCH;
    else process.env.SOURCE_DATE_EPOCH = saved;
  });
  delete process.env.SOURCE_DATE_EPOCH;
  const artifact = { kind: 'file', ref: 'a.deb', path: 'a.deb' } as Artifact;
  const native = emptyFacts('deb');
  const now = new Date('2025-01-02T03:04:05Z');
  native.created = {
    value: new Date(999999999999 * 1000).toISOString(),
    field: 'deb data.tar.gz member date',
  };
  assert.equal(await buildDate(artifact, native, undefined, null, now), '2025-01-02T03:04:05Z');
  native.created = { value: '2024-06-01T00:00:00.000Z', field: 'deb data.tar.gz member date' };
  assert.equal(await buildDate(artifact, native, undefined, null, now), '2024-06-01T00:00:00Z');
});
