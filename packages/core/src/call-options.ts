/** Options every call that may wait takes (worker RPCs, model calls, pipelines). */
export interface CallOptions {
  /** Aborting cancels the call (the stream, for streaming calls). */
  signal?: AbortSignal;
  /** Deadline for the whole call, in milliseconds from now. */
  timeoutMs?: number;
}

export interface CallSignal {
  /** Aborts when the caller's signal does, or after `timeoutMs` with a `TimeoutError` reason. */
  signal: AbortSignal;
  /** Removes the listener and clears the timer; call it when the call settles. */
  dispose(): void;
}

/**
 * The one place that joins a caller's `signal` and `timeoutMs` into one AbortSignal. Long-lived
 * caller signals collect no listeners as long as `dispose` is called when the call settles.
 */
export function callSignal(options: CallOptions | undefined): CallSignal {
  const outer = options?.signal;
  const timeoutMs = options?.timeoutMs;
  if (timeoutMs === undefined) {
    return { signal: outer ?? new AbortController().signal, dispose: () => {} };
  }
  const controller = new AbortController();
  const onAbort = () => controller.abort(outer?.reason);
  if (outer?.aborted) controller.abort(outer.reason);
  else outer?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(
    () => controller.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError')),
    timeoutMs,
  );
  // A deadline alone never keeps the process alive: if nothing else is pending, the call is over.
  timer.unref?.();
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    },
  };
}
