import { retryAfterFromHeaders } from '@midspec/core';
import { isRetryableStatus, ModelError } from './model-error.js';

/** The parts of an `openai` or `@anthropic-ai/sdk` APIError this layer reads (both SDKs share them). */
interface SdkApiError {
  status?: number;
  headers?: { get(name: string): string | null } | undefined;
  message: string;
  name?: string;
}

/**
 * Maps an error thrown by either official SDK to a ModelError. A caller's own abort is returned as
 * it is (it is not a failure of the model), everything else is classified once here.
 */
export function fromSdkError(
  error: unknown,
  provider: string,
  outer: AbortSignal | undefined,
): unknown {
  if (outer?.aborted) return outer.reason ?? error;
  if (ModelError.isInstance(error)) return error;
  const api = error as SdkApiError;
  if (typeof api?.status === 'number') {
    return new ModelError({
      provider,
      status: api.status,
      message: `HTTP ${api.status}: ${api.message}`,
      retryable: isRetryableStatus(api.status),
      retryAfterMs: retryAfterFromHeaders(api.headers),
      cause: error,
    });
  }
  // Timeouts, refused or dropped connections, bodies that are not JSON: another attempt may work.
  const cause = (error as { cause?: unknown })?.cause;
  const detail = cause instanceof Error ? `: ${cause.message}` : '';
  return new ModelError({
    provider,
    message: `request failed: ${error instanceof Error ? error.message : String(error)}${detail}`,
    retryable: true,
    cause: error,
  });
}

/** The SDKs' per-request options from our call options. */
export function requestOptions(
  options: { signal?: AbortSignal; timeoutMs?: number } | undefined,
  maxRetries?: number,
) {
  return {
    ...(options?.signal ? { signal: options.signal } : {}),
    ...(options?.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
    ...(maxRetries !== undefined ? { maxRetries } : {}),
  };
}

/**
 * Runs one SDK call of a batch client, its errors classified by fromSdkError and named by what was
 * being done (`create batch`, `poll batch_…`) under the `models/batch` code.
 */
export function batchCall(id: string) {
  return async <T>(what: string, run: () => Promise<T>, options?: { signal?: AbortSignal }) => {
    try {
      return await run();
    } catch (error) {
      const mapped = fromSdkError(error, id, options?.signal);
      if (ModelError.isInstance(mapped))
        throw new ModelError({
          code: 'models/batch',
          provider: id,
          message: `${what}: ${mapped.message.replace(`${id}: `, '')}`,
          retryable: mapped.retryable,
          status: mapped.status,
          retryAfterMs: mapped.retryAfterMs,
          cause: error,
        });
      throw mapped;
    }
  };
}
