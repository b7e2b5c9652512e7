import { hasErrorMarker, MidspecError, markError, type RetryAdvice } from '@midspec/core';

const MODEL_ERROR_MARKER = 'midspec.model-error';

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
    markError(this, MODEL_ERROR_MARKER);
  }

  static override isInstance(error: unknown): error is ModelError {
    return hasErrorMarker(error, MODEL_ERROR_MARKER);
  }
}

/** 408, 409, 429 and 5xx (Anthropic's 529 overload among them) are worth retrying. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** How @midspec/core's AdaptiveLimiter retries model calls: the one retry policy for ModelErrors. */
export function modelRetryAdvice(error: unknown): RetryAdvice | undefined {
  if (!ModelError.isInstance(error)) return undefined;
  return {
    retryable: error.retryable,
    rateLimited: error.rateLimited,
    ...(error.retryAfterMs !== undefined && { retryAfterMs: error.retryAfterMs }),
  };
}
