import { describe, expect, it } from 'vitest';
import { hasErrorMarker, MidspecError, markError } from './midspec-error.js';

const QUOTA_MARKER = 'midspec.test.quota-error';

class QuotaError extends MidspecError {
  override readonly name = 'QuotaError';
  constructor(message: string) {
    super({ code: 'test/quota', message });
    markError(this, QUOTA_MARKER);
  }
  static override isInstance(error: unknown): error is QuotaError {
    return hasErrorMarker(error, QUOTA_MARKER);
  }
}

describe('MidspecError', () => {
  it('keeps code, message, cause and a constant name', () => {
    const cause = new Error('disk full');
    const error = new MidspecError({ code: 'test/io', message: 'cannot write', cause });
    expect(error.code).toBe('test/io');
    expect(error.message).toBe('cannot write');
    expect(error.cause).toBe(cause);
    expect(error.name).toBe('MidspecError');
    expect(error).toBeInstanceOf(Error);
  });

  it('recognises errors from another copy of the class (duplicate installs)', () => {
    // A second copy of the package has its own class but the same registered symbol.
    const foreign = Object.assign(new Error('x'), { code: 'other/x' });
    Object.defineProperty(foreign, Symbol.for('midspec.error'), { value: true });
    expect(foreign instanceof MidspecError).toBe(false);
    expect(MidspecError.isInstance(foreign)).toBe(true);
    expect(MidspecError.isInstance(new Error('plain'))).toBe(false);
    expect(MidspecError.isInstance(null)).toBe(false);
    expect(MidspecError.isInstance('error')).toBe(false);
  });

  it("a subclass's isInstance is true for that subclass only", () => {
    const quota = new QuotaError('over quota');
    const other = new MidspecError({ code: 'test/other', message: 'other' });
    expect(QuotaError.isInstance(quota)).toBe(true);
    expect(MidspecError.isInstance(quota)).toBe(true);
    expect(QuotaError.isInstance(other)).toBe(false);
    expect(quota.name).toBe('QuotaError');
  });
});
