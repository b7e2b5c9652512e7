import { join } from 'node:path';
import {
  type BatchClient,
  type BatchJournalEntry,
  ensureSubmitted,
  journalIntents,
  markCollected,
  openBatches,
  waitForBatch,
  withRetries,
} from '@midspec/models';
import { DocgenError } from './docgen-error.js';
import { JsonlStore } from './jsonl-store.js';
import { toChatRequest, toCompletionResult } from './model-provider.js';
import type { CallOptions, CompletionRequest, StageName } from './provider.js';
import type { StageRecord, TextTask } from './stage-runner.js';

export type { BatchJournalEntry };

export interface BatchStageOptions extends CallOptions {
  backend: BatchClient;
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
 * Runs a text stage through a batch API, split at the API's limits. Each part's intent (a fresh id,
 * also placed in the batch's metadata or custom ids, and its custom-id → item map) is journalled in
 * `batches/<stage>.jsonl` BEFORE it is sent, and the batch id as soon as it is known. A process that
 * dies at any point reruns into the same batches: an intent without a batch id is first looked for
 * at the provider, so a batch is never paid for twice. Failed or unparseable items go into the next
 * round, up to `maxRounds`.
 */
export async function runBatchStage(
  tasks: TextTask<unknown>[],
  options: BatchStageOptions,
): Promise<void> {
  const journal = await JsonlStore.open<BatchJournalEntry>(
    join(options.directory, 'batches', `${options.stage}.jsonl`),
  );
  const retry = { signal: options.signal, backoffBaseMs: Math.min(1000, options.pollIntervalMs) };
  try {
    const byKey = new Map(tasks.map((task) => [task.key, task]));
    for (;;) {
      let open = openBatches(journal);
      let round: number;
      if (open.length > 0) round = open[0]?.round ?? 0;
      else {
        const rounds = journal
          .all()
          .flatMap((entry) => (entry.event === 'intent' ? [entry.round] : []));
        round = rounds.length > 0 ? Math.max(...rounds) + 1 : 0;
        const pending = tasks.filter((task) => options.records.get(task.key)?.ok !== true);
        if (round >= options.maxRounds || pending.length === 0) return;
        open = journalIntents(
          options.backend,
          journal,
          round,
          pending.map((task) => ({
            key: task.key,
            request: toChatRequest(options.build(task, round)),
          })),
        );
      }
      const rebuild = (key: string) => {
        const task = byKey.get(key);
        if (!task)
          throw new DocgenError({
            code: 'docgen/batch',
            message: `the ${options.stage} batch journal names item ${key}, which this run does not have; use a new --out folder`,
          });
        return toChatRequest(options.build(task, round));
      };
      // Send every part first, so they run side by side at the provider.
      for (const batch of open)
        await ensureSubmitted(options.backend, journal, batch, rebuild, { ...retry });
      const total = open.reduce((sum, batch) => sum + batch.intent.size, 0);
      let finished = 0;
      for (const batch of open) {
        const batchId = batch.batchId as string;
        await waitForBatch(options.backend, batchId, {
          ...retry,
          pollIntervalMs: options.pollIntervalMs,
          onPoll: (status) => options.onPoll?.(finished + status.completed, total),
        });
        const results = await withRetries(
          () => options.backend.results(batchId, { signal: options.signal }),
          retry,
        );
        collect(batch.map, results, byKey, options);
        markCollected(journal, batch);
        finished += batch.intent.size;
      }
    }
  } finally {
    journal.close();
  }
}

function collect(
  map: Record<string, string>,
  results: Awaited<ReturnType<BatchClient['results']>>,
  byKey: Map<string, TextTask<unknown>>,
  options: BatchStageOptions,
): void {
  for (const [customId, key] of Object.entries(map)) {
    const task = byKey.get(key);
    if (!task || options.records.get(key)?.ok) continue;
    const item = results.get(customId);
    const result = item?.ok ? toCompletionResult(item.result) : undefined;
    const base = {
      key,
      requested: 1,
      attempts: 1,
      refusals: 0,
      truncated: false,
      cacheHits: 0,
      promptTokens: result?.promptTokens ?? 0,
      completionTokens: result?.completionTokens ?? 0,
      ...(result?.cacheReadTokens ? { cacheReadTokens: result.cacheReadTokens } : {}),
      ...(result?.cacheWriteTokens ? { cacheWriteTokens: result.cacheWriteTokens } : {}),
      batch: true,
    };
    let record: StageRecord;
    if (!result) {
      record = {
        ...base,
        ok: false,
        parseFailures: 0,
        reason: item && !item.ok ? item.error : 'missing from the batch results',
      };
    } else if (result.finishReason === 'refusal') {
      record = { ...base, ok: false, parseFailures: 0, refusals: 1, reason: 'refusal' };
    } else {
      const parsed = task.parse(result);
      record = parsed.ok
        ? {
            ...base,
            ok: true,
            parseFailures: 0,
            value: parsed.value,
            truncated: result.finishReason === 'length',
          }
        : { ...base, ok: false, parseFailures: 1, reason: parsed.reason };
    }
    options.records.set(key, record);
    options.append(record);
  }
}
