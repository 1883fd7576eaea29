import { AssertionError } from 'node:assert';

/**
 * The value a test expects to be there: returns it narrowed to non-null, or fails the test with an
 * assertion naming `what` (the expression that came back empty) instead of a TypeError further on.
 */
export function must<T>(value: T, what: string): NonNullable<T> {
  if (value === undefined || value === null) {
    throw new AssertionError({ message: `expected a value for ${what}, got ${String(value)}`, actual: value });
  }
  return value;
}
