import type { Metrics, WorkerClient } from '@midspec/proto';
import { watchRunEvents } from './watch-run.js';

/**
 * A run's metric history so far (every step of every stage once, in order): replays its event log
 * up to the latest event and returns without waiting for the run to end. Steps replayed after a
 * resume (or in a new attempt) are logged again; the replayed value is the one kept, since it is
 * the one the run's weights continued from.
 */
export async function getMetricHistory(
  client: WorkerClient,
  runId: string,
  options: { signal?: AbortSignal } = {},
): Promise<Metrics[]> {
  const run = await client.getRun({ runId }, options);
  const lastSeq = Number(run.lastSeq);
  const byStep = new Map<string, Metrics>();
  if (lastSeq === 0) return [];
  for await (const event of watchRunEvents(client, runId, options)) {
    if (event.event?.$case === 'metrics') {
      const metrics = event.event.metrics;
      byStep.set(`${metrics.stageIndex}:${metrics.step}`, metrics);
    }
    if (Number(event.seq) >= lastSeq) break;
  }
  return [...byStep.values()].sort((a, b) => a.stageIndex - b.stageIndex || a.step - b.step);
}
