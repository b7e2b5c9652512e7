import { describe, expect, it } from 'vitest';
import { parseRetryAfter, retryAfterFromHeaders } from './retry-after.js';

const now = Date.parse('2026-01-01T00:00:00Z');

describe('parseRetryAfter', () => {
  it('reads seconds, HTTP dates and retry-after-ms', () => {
    expect(parseRetryAfter('2', undefined, now)).toBe(2000);
    expect(parseRetryAfter('0.5', undefined, now)).toBe(500);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:07 GMT', undefined, now)).toBe(7000);
    expect(parseRetryAfter('2', '150', now)).toBe(150);
  });

  it('never returns a negative wait or a number from garbage', () => {
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', undefined, now)).toBe(0);
    expect(parseRetryAfter('-3', undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', '', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, 'x', now)).toBeUndefined();
    expect(parseRetryAfter(null, null, now)).toBeUndefined();
  });

  it('reads them from response headers', () => {
    expect(retryAfterFromHeaders(new Headers({ 'Retry-After': '3' }), now)).toBe(3000);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after-ms': '20' }), now)).toBe(20);
    expect(retryAfterFromHeaders(new Headers(), now)).toBeUndefined();
    expect(retryAfterFromHeaders(undefined, now)).toBeUndefined();
  });
});
