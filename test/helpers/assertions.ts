/** Assertions shared by the parser tests. */
import assert from 'node:assert/strict';
import { WaybillError } from '../../src/errors.ts';

/**
 * The promise rejects with a WaybillError of `code` (and a message matching `pattern`); returns the
 * error for further checks.
 */
export async function expectError(
  promise: Promise<unknown>,
  code: string,
  pattern?: RegExp,
): Promise<WaybillError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof WaybillError, `expected WaybillError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    return e;
  }
  assert.fail('expected an error');
}
