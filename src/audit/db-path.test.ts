import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultDatabasePath } from './db-path.ts';

test('default database path: $XDG_DATA_HOME when absolute, else ~/.local/share', () => {
  assert.equal(
    defaultDatabasePath({ XDG_DATA_HOME: '/data', HOME: '/home/u' }),
    '/data/waybill/advisories.db',
  );
  assert.equal(
    defaultDatabasePath({ XDG_DATA_HOME: 'relative', HOME: '/home/u' }),
    '/home/u/.local/share/waybill/advisories.db',
  );
  assert.equal(defaultDatabasePath({ HOME: '/home/u' }), '/home/u/.local/share/waybill/advisories.db');
});
