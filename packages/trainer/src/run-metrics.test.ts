import { Metrics, RunEvent, type WorkerClient } from '@midspec/proto';
import { describe, expect, it } from 'vitest';
import { getMetricHistory } from './run-metrics.js';

/** A client whose run logged stage 0 steps 1-4, resumed from step 2 and replayed 3-4. */
function resumedRunClient(): WorkerClient {
  const steps: Array<[number, number, number]> = [
    [0, 1, 2.0],
    [0, 2, 1.9],
    [0, 3, 1.8],
    [0, 4, 1.7],
    [0, 3, 1.75],
    [0, 4, 1.65],
    [1, 1, 1.2],
  ];
  const events = steps.map(([stageIndex, step, loss], index) =>
    RunEvent.fromPartial({
      seq: index + 1,
      runId: 'r',
      event: { $case: 'metrics', metrics: Metrics.fromPartial({ stageIndex, step, loss }) },
    }),
  );
  return {
    address: 'test',
    getRun: async () => ({ id: 'r', lastSeq: events.length }),
    watchRun: async function* (request: { afterSeq: number }) {
      yield* events.filter((event) => Number(event.seq) > request.afterSeq);
    },
  } as unknown as WorkerClient;
}

describe('getMetricHistory', () => {
  it('keeps every step once, with the value replayed after a resume', async () => {
    const history = await getMetricHistory(resumedRunClient(), 'r');
    expect(history.map((m) => [m.stageIndex, m.step, m.loss])).toEqual([
      [0, 1, 2.0],
      [0, 2, 1.9],
      [0, 3, 1.75],
      [0, 4, 1.65],
      [1, 1, 1.2],
    ]);
  });
});
