import assert from 'node:assert/strict';
import { TenureError, type ErrorCode } from '../../src/domain/errors.js';

/** Asserts the promise is refused with exactly this stable code (and, if given, this field). */
export const refusedWith = async (promise: Promise<unknown>, code: ErrorCode, field?: string): Promise<TenureError> => {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof TenureError, `expected a TenureError ${code}, got ${String(error)}`);
    assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
    if (field !== undefined) assert.equal(error.field, field);
    return error;
  }
  assert.fail(`expected refusal ${code}, but it succeeded`);
};
