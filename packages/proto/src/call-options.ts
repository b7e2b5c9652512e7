import { type CallOptions as GrpcCallOptions, Metadata } from '@grpc/grpc-js';
import type { CallOptions } from '@midspec/core';

/**
 * grpc-js has no AbortSignal: this is the one place that maps `signal` to `call.cancel()` and
 * `timeoutMs` to a deadline. The returned function removes the abort listener; call it when the call
 * settles so long-lived signals do not collect listeners.
 */
export function bindCallOptions(
  call: { cancel(): void },
  signal: AbortSignal | undefined,
): () => void {
  if (!signal) return () => {};
  if (signal.aborted) {
    call.cancel();
    return () => {};
  }
  const onAbort = () => call.cancel();
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

export function grpcCallOptions(
  options: CallOptions | undefined,
  defaultTimeoutMs: number | undefined,
): Partial<GrpcCallOptions> {
  const timeoutMs = options?.timeoutMs ?? defaultTimeoutMs;
  return timeoutMs === undefined ? {} : { deadline: Date.now() + timeoutMs };
}

export function callMetadata(token: string | undefined): Metadata {
  const metadata = new Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}
