import { setTimeout as sleep } from 'node:timers/promises';
import { type Run, type RunEvent, type WorkerClient, WorkerError } from '@midspec/proto';
import { FINAL_STATES, type TrainerRunEvent, toTrainerEvent } from './run-events.js';

export interface WatchRunOptions {
  /** Replay events after this sequence number (0: from the start). */
  afterSeq?: number;
  signal?: AbortSignal;
  /** Reconnects in a row without receiving an event before giving up (default: no count limit). */
  maxReconnects?: number;
  /**
   * How long to keep reconnecting without receiving an event before giving up (default 5 min):
   * long enough to ride out worker restarts (the run resumes from the worker's data dir), bounded so
   * that a worker that never comes back ends the watch with its error.
   */
  reconnectWindowMs?: number;
  /** Delay before the first reconnect, doubled each time up to 5 s (default 200 ms). */
  reconnectDelayMs?: number;
  /** Pass heartbeats through (default false: they carry no news). */
  heartbeats?: boolean;
  /** Called before each reconnect. */
  onReconnect?: (info: { attempt: number; afterSeq: number; error: unknown }) => void;
}

/** Default of `WatchRunOptions.reconnectWindowMs`. */
export const DEFAULT_RECONNECT_WINDOW_MS = 5 * 60_000;

/**
 * A run's events as an AsyncIterable, to its final state. A stream that drops (or ends while the
 * run is still going, or the worker restarts) is reopened with backoff from the last sequence number
 * seen, so each event arrives exactly once and in order; it gives up after `reconnectWindowMs`
 * without an event. Breaking out of the loop stops watching, never the run.
 */
export async function* watchRun(
  client: WorkerClient,
  runId: string,
  options: WatchRunOptions = {},
): AsyncGenerator<TrainerRunEvent, void, undefined> {
  for await (const raw of watchRunEvents(client, runId, options)) {
    const event = toTrainerEvent(raw);
    if (event) yield event;
  }
}

/** Like `watchRun`, yielding the wire messages. */
export async function* watchRunEvents(
  client: WorkerClient,
  runId: string,
  options: WatchRunOptions = {},
): AsyncGenerator<RunEvent, void, undefined> {
  let lastSeq = options.afterSeq ?? 0;
  let reconnects = 0;
  let quietSince = Date.now();
  const window = options.reconnectWindowMs ?? DEFAULT_RECONNECT_WINDOW_MS;
  const signal = options.signal;
  for (;;) {
    let failure: unknown;
    try {
      for await (const event of client.watchRun({ runId, afterSeq: lastSeq }, { signal })) {
        reconnects = 0;
        quietSince = Date.now();
        if (event.event?.$case === 'heartbeat') {
          if (options.heartbeats) yield event;
          continue;
        }
        const seq = Number(event.seq);
        if (seq <= lastSeq) continue;
        lastSeq = seq;
        yield event;
      }
      // The stream ended: done if the run is, otherwise the worker closed it early.
      const run = await client.getRun({ runId }, { signal });
      if (FINAL_STATES.has(run.state) && Number(run.lastSeq) <= lastSeq) return;
    } catch (error) {
      const retryable = WorkerError.isInstance(error) && error.isRetryable && !signal?.aborted;
      if (!retryable) throw error;
      failure = error;
    }
    reconnects += 1;
    if (reconnects > (options.maxReconnects ?? Infinity) || Date.now() - quietSince > window) {
      if (failure) throw failure;
      throw new WorkerError({
        method: 'WatchRun',
        address: client.address,
        grpcCode: 14,
        message: `the event stream of run ${runId} kept ending before the run did`,
      });
    }
    options.onReconnect?.({ attempt: reconnects, afterSeq: lastSeq, error: failure });
    const delay = Math.min(5000, (options.reconnectDelayMs ?? 200) * 2 ** (reconnects - 1));
    await sleep(delay, undefined, { signal });
  }
}

export interface WaitForRunOptions extends WatchRunOptions {
  onEvent?: (event: TrainerRunEvent) => void;
}

/** Follows a run to its final state (reconnecting as `watchRun` does) and resolves with the run. */
export async function waitForRun(
  client: WorkerClient,
  runId: string,
  options: WaitForRunOptions = {},
): Promise<Run> {
  for await (const event of watchRun(client, runId, options)) options.onEvent?.(event);
  return client.getRun({ runId }, { signal: options.signal });
}
