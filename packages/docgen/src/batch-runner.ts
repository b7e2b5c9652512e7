import { join } from 'node:path';
import { sleep } from '@midspec/core';
import type { BatchBackend, BatchRequest } from './batch-backend.js';
import { JsonlStore } from './jsonl-store.js';
import type { CallOptions, CompletionRequest, StageName } from './provider.js';
import type { StageRecord, TextTask } from './stage-runner.js';

/** One line of `batches/<stage>.jsonl`. */
export type BatchJournalEntry =
  | { event: 'submitted'; round: number; batchId: string; map: Record<string, string> }
  | { event: 'collected'; round: number; batchId: string };

export interface BatchStageOptions extends CallOptions {
  backend: BatchBackend;
  directory: string;
  stage: StageName;
  maxRounds: number;
  pollIntervalMs: number;
  build: (task: TextTask<unknown>, round: number) => CompletionRequest;
  records: Map<string, StageRecord>;
  append: (record: StageRecord) => void;
  onPoll?: (done: number, total: number) => void;
}

/**
 * Runs a text stage through a batch API. The batch id and its custom-id → item map are journalled
 * as soon as the batch exists and before any polling, so a process that dies while the batch runs
 * reattaches to it on the next run; results land in the stage artifact like any other answer.
 * Unparseable or failed items go into the next round, up to `maxRounds`.
 */
export async function runBatchStage(
  tasks: TextTask<unknown>[],
  options: BatchStageOptions,
): Promise<void> {
  const journal = await JsonlStore.open<BatchJournalEntry>(
    join(options.directory, 'batches', `${options.stage}.jsonl`),
  );
  try {
    const byKey = new Map(tasks.map((task) => [task.key, task]));
    const entries = journal.all();
    const collected = new Set(
      entries.filter((entry) => entry.event === 'collected').map((entry) => entry.batchId),
    );
    let open = entries.find(
      (entry): entry is Extract<BatchJournalEntry, { event: 'submitted' }> =>
        entry.event === 'submitted' && !collected.has(entry.batchId),
    );
    let round = entries.filter((entry) => entry.event === 'collected').length;
    while (round < options.maxRounds) {
      if (!open) {
        const pending = tasks.filter((task) => options.records.get(task.key)?.ok !== true);
        if (pending.length === 0) return;
        const requests: BatchRequest[] = pending.map((task, index) => ({
          customId: `r${round}-${index}`,
          request: options.build(task, round),
        }));
        const batchId = await options.backend.submit(requests, options);
        const map = Object.fromEntries(
          requests.map((request, index) => [request.customId, pending[index]?.key as string]),
        );
        open = { event: 'submitted', round, batchId, map };
        journal.append(open);
      }
      for (;;) {
        const status = await options.backend.status(open.batchId, options);
        options.onPoll?.(status.completed, status.total);
        if (status.done) break;
        await sleep(options.pollIntervalMs, options.signal);
      }
      const results = await options.backend.results(open.batchId, options);
      for (const [customId, key] of Object.entries(open.map)) {
        const task = byKey.get(key);
        if (!task || options.records.get(key)?.ok) continue;
        const item = results.get(customId);
        const base = {
          key,
          requested: 1,
          attempts: 1,
          refusals: 0,
          truncated: false,
          cacheHits: 0,
          promptTokens: item?.ok ? item.result.promptTokens : 0,
          completionTokens: item?.ok ? item.result.completionTokens : 0,
        };
        let record: StageRecord;
        if (!item?.ok) {
          record = {
            ...base,
            ok: false,
            parseFailures: 0,
            reason: item && !item.ok ? item.error : 'missing from the batch results',
          };
        } else if (item.result.finishReason === 'refusal') {
          record = { ...base, ok: false, parseFailures: 0, refusals: 1, reason: 'refusal' };
        } else {
          const parsed = task.parse(item.result);
          record = parsed.ok
            ? {
                ...base,
                ok: true,
                parseFailures: 0,
                value: parsed.value,
                truncated: item.result.finishReason === 'length',
              }
            : { ...base, ok: false, parseFailures: 1, reason: parsed.reason };
        }
        options.records.set(key, record);
        options.append(record);
      }
      journal.append({ event: 'collected', round: open.round, batchId: open.batchId });
      open = undefined;
      round += 1;
    }
  } finally {
    journal.close();
  }
}
