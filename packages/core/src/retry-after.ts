/** Something with HTTP headers: fetch's `Headers`, or the SDKs' header objects. */
export interface HeaderSource {
  get(name: string): string | null | undefined;
}

/**
 * How long a server asked us to wait, in milliseconds: `retry-after-ms` (OpenAI, Anthropic) first,
 * then `Retry-After` as seconds or as an HTTP date (RFC 9110 §10.2.3). Undefined when neither is
 * present or parseable; never negative.
 */
export function parseRetryAfter(
  retryAfter: string | null | undefined,
  retryAfterMs?: string | null,
  now: number = Date.now(),
): number | undefined {
  if (retryAfterMs) {
    const ms = Number(retryAfterMs);
    if (retryAfterMs.trim() !== '' && Number.isFinite(ms) && ms >= 0) return ms;
  }
  if (!retryAfter || retryAfter.trim() === '') return undefined;
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** `parseRetryAfter` over a response's headers. */
export function retryAfterFromHeaders(
  headers: HeaderSource | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  return parseRetryAfter(headers.get('retry-after'), headers.get('retry-after-ms'), now);
}
