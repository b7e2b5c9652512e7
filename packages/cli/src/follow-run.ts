import { setTimeout as sleep } from 'node:timers/promises';
import { type Run, type RunEvent, RunState, type WorkerClient, WorkerError } from '@midspec/proto';

export const FINAL_STATES = new Set<RunState>([
  RunState.RUN_STATE_SUCCEEDED,
  RunState.RUN_STATE_FAILED,
  RunState.RUN_STATE_CANCELLED,
]);

export interface FollowOptions {
  /** Replay events after this sequence number (0: from the start). */
  afterSeq?: number;
  onEvent: (event: RunEvent) => void;
  signal?: AbortSignal;
  /** Reconnect attempts after a retryable stream failure before giving up. */
  maxReconnects?: number;
}

/**
 * Follows a run's events to its end. A dropped stream is resumed from the last sequence number seen,
 * so the caller sees every event exactly once; heartbeats are passed through but never advance the
 * position. Resolves with the run in its final state.
 */
export async function followRun(
  client: WorkerClient,
  runId: string,
  options: FollowOptions,
): Promise<Run> {
  let lastSeq = options.afterSeq ?? 0;
  let reconnects = 0;
  for (;;) {
    try {
      for await (const event of client.watchRun(
        { runId, afterSeq: lastSeq },
        { signal: options.signal },
      )) {
        reconnects = 0;
        if (event.event?.$case === 'heartbeat') {
          options.onEvent(event);
          continue;
        }
        if (event.seq <= lastSeq) continue;
        lastSeq = event.seq;
        options.onEvent(event);
      }
      const run = await client.getRun({ runId }, { signal: options.signal });
      if (FINAL_STATES.has(run.state)) return run;
    } catch (error) {
      const retryable =
        WorkerError.isInstance(error) && error.isRetryable && !options.signal?.aborted;
      if (!retryable || reconnects >= (options.maxReconnects ?? 10)) throw error;
    }
    reconnects += 1;
    await sleep(Math.min(5000, 200 * 2 ** reconnects), undefined, { signal: options.signal });
  }
}
