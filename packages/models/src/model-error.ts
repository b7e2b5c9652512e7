import { MidspecError } from '@midspec/spec';

export type ModelErrorCode =
  | 'models/api-key-missing'
  | 'models/call-failed'
  | 'models/unsupported'
  | 'models/bad-response'
  | 'models/batch'
  | 'models/config';

export interface ModelErrorOptions {
  code?: ModelErrorCode;
  /** `openai`, `anthropic`, `worker`, … */
  provider: string;
  message: string;
  /** 429, 5xx, timeouts and dropped connections are worth another attempt; a 400 is not. */
  retryable?: boolean;
  status?: number;
  /** The server's Retry-After (or retry-after-ms), when it sent one. */
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * Any failed model call, whatever the provider: one classification (retryable, rate-limited,
 * Retry-After) that docgen's engine and eval's limiter both act on.
 */
export class ModelError extends MidspecError {
  override readonly name = 'ModelError';
  readonly provider: string;
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  /** 429: callers lower their concurrency, not only wait. */
  readonly rateLimited: boolean;
  /** The provider cannot do this at all (e.g. log-probabilities on Anthropic). */
  readonly unsupported: boolean;

  constructor(options: ModelErrorOptions) {
    super({
      code: options.code ?? 'models/call-failed',
      message: `${options.provider}: ${options.message}`,
      cause: options.cause,
    });
    this.provider = options.provider;
    this.status = options.status;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
    this.rateLimited = options.status === 429;
    this.unsupported = options.code === 'models/unsupported';
  }

  static override isInstance(error: unknown): error is ModelError {
    return MidspecError.isInstance(error) && (error as { name?: string }).name === 'ModelError';
  }
}

/** 408, 409, 429 and 5xx (Anthropic's 529 overload among them) are worth retrying. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** Parses Retry-After (seconds or an HTTP date) or retry-after-ms, in milliseconds. */
export function parseRetryAfter(
  retryAfter: string | null | undefined,
  retryAfterMs?: string | null,
  now = Date.now(),
): number | undefined {
  if (retryAfterMs) {
    const ms = Number(retryAfterMs);
    if (Number.isFinite(ms) && ms >= 0) return ms;
  }
  if (!retryAfter) return undefined;
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
