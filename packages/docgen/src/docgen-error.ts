import { hasErrorMarker, MidspecError, markError } from '@midspec/core';

export type DocgenErrorCode =
  | 'docgen/config'
  | 'docgen/api-key-missing'
  | 'docgen/provider'
  | 'docgen/loop-guard'
  | 'docgen/output-dir'
  | 'docgen/tokenizer'
  | 'docgen/batch';

const DOCGEN_ERROR_MARKER = 'midspec.docgen-error';
const PROVIDER_ERROR_MARKER = 'midspec.provider-error';

/** Anything docgen itself refuses: bad options, a missing key, a stage that makes no progress. */
export class DocgenError extends MidspecError {
  override readonly name = 'DocgenError';
  constructor(options: { code: DocgenErrorCode; message: string; cause?: unknown }) {
    super(options);
    markError(this, DOCGEN_ERROR_MARKER);
  }

  static override isInstance(error: unknown): error is DocgenError {
    return hasErrorMarker(error, DOCGEN_ERROR_MARKER);
  }
}

/**
 * A failed model call. `retryable` covers 429, 5xx, timeouts and dropped connections; `retryAfterMs`
 * is the server's retry-after, when it sent one.
 */
export class ProviderError extends MidspecError {
  override readonly name = 'ProviderError';
  readonly provider: string;
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  /** 429: the engine lowers its concurrency, not only waits. */
  readonly rateLimited: boolean;

  constructor(options: {
    provider: string;
    message: string;
    status?: number;
    retryable: boolean;
    retryAfterMs?: number;
    cause?: unknown;
  }) {
    super({
      code: 'docgen/provider',
      message: `${options.provider}: ${options.message}`,
      cause: options.cause,
    });
    this.provider = options.provider;
    this.status = options.status;
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
    this.rateLimited = options.status === 429;
    markError(this, PROVIDER_ERROR_MARKER);
  }

  static override isInstance(error: unknown): error is ProviderError {
    return hasErrorMarker(error, PROVIDER_ERROR_MARKER);
  }
}
