import { MidspecError } from '@midspec/core';
import { describe, expect, it } from 'vitest';
import { BackendError, backendRetryAdvice } from './backend.js';
import { EvaluationError } from './evaluation-error.js';

describe('BackendError', () => {
  const backendError = new BackendError({
    backend: 'openai:m',
    message: 'rate limited',
    retryable: true,
    rateLimited: true,
    retryAfterMs: 1500,
  });

  it('isInstance is true for backend errors only, not for any midspec error', () => {
    expect(BackendError.isInstance(backendError)).toBe(true);
    expect(EvaluationError.isInstance(backendError)).toBe(true);
    expect(MidspecError.isInstance(backendError)).toBe(true);
    const suiteError = new EvaluationError({ code: 'eval/invalid-suite', message: 'bad suite' });
    expect(BackendError.isInstance(suiteError)).toBe(false);
    expect(BackendError.isInstance(new MidspecError({ code: 'x/y', message: 'other' }))).toBe(
      false,
    );
  });

  it('tells the limiter how to retry it', () => {
    expect(backendRetryAdvice(backendError)).toEqual({
      retryable: true,
      rateLimited: true,
      retryAfterMs: 1500,
    });
    expect(backendRetryAdvice(new Error('plain'))).toBeUndefined();
  });
});
