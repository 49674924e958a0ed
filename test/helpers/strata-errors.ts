/** Catching and checking the StrataErrors the engine throws. */
import { isStrataError, type StrataError } from '../../shared/errors.js';

/** The StrataError `action` throws; any other error is thrown on, and `expected` is thrown when it throws nothing. */
export function refusal(action: () => unknown, expected = 'expected a refusal'): StrataError {
  try {
    action();
  } catch (error) {
    if (isStrataError(error)) return error;
    throw error;
  }
  throw new Error(expected);
}

/** Expects `action` to throw a StrataError with code ECORRUPT. */
export function expectCorrupt(action: () => unknown): void {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(isStrataError(thrown) ? thrown.code : thrown).toBe('ECORRUPT');
}
