import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WaybillError } from '../errors.ts';
import { catalogerNames, defaultCatalogers, defaultDistroReader, selectCatalogers } from './registry.ts';

test('the registry lists every cataloger once, OS databases first', () => {
  const names = catalogerNames();
  assert.equal(new Set(names).size, names.length);
  assert.ok(names.includes('npm'));
  assert.equal(defaultCatalogers().length, names.length);
  for (const c of defaultCatalogers()) assert.equal(typeof c.want, 'function', c.name);
});

test('selectCatalogers keeps registry order and rejects unknown names', () => {
  const names = catalogerNames();
  const picked = selectCatalogers([...names].reverse().slice(0, 2));
  assert.deepEqual(
    picked.map((c) => c.name),
    names.filter((n) => picked.some((c) => c.name === n)),
  );
  assert.throws(
    () => selectCatalogers(['npm', 'cobol']),
    (e: unknown) => e instanceof WaybillError && e.code === 'USAGE' && e.input === 'cobol',
  );
});

test('the default distro reader reads os-release', () => {
  assert.deepEqual(defaultDistroReader.read(Buffer.from('ID=debian\nVERSION_ID="12"\n'), 'etc/os-release'), {
    id: 'debian',
    versionId: '12',
  });
});
