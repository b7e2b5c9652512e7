import type { Metrics, WorkerClient } from '@midspec/proto';
import { watchRunEvents } from './watch-run.js';

/**
 * A run's metric history so far (every step of every stage, in order): replays its event log up to
 * the latest event and returns without waiting for the run to end.
 */
export async function getMetricHistory(
  client: WorkerClient,
  runId: string,
  options: { signal?: AbortSignal } = {},
): Promise<Metrics[]> {
  const run = await client.getRun({ runId }, options);
  const lastSeq = Number(run.lastSeq);
  const metrics: Metrics[] = [];
  if (lastSeq === 0) return metrics;
  for await (const event of watchRunEvents(client, runId, options)) {
    if (event.event?.$case === 'metrics') metrics.push(event.event.metrics);
    if (Number(event.seq) >= lastSeq) break;
  }
  return metrics;
}
