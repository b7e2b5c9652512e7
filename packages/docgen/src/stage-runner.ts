import { join } from 'node:path';
import { deriveSeed } from '@midspec/core';
import type { BatchClient } from '@midspec/models';
import { z } from 'zod';
import { runBatchStage } from './batch-runner.js';
import { DocgenError } from './docgen-error.js';
import { addCacheTokens, type Engine, type ParseOutcome, type SampleAccounting } from './engine.js';
import { JsonlStore } from './jsonl-store.js';
import { parseItems } from './parse-output.js';
import { buildMessages } from './prompts.js';
import type {
  CallOptions,
  CompletionResult,
  NamedItem,
  StageName,
  TaskContext,
} from './provider.js';

const count = z.number().int().min(0);
/** Validates artifact lines on load: a line that is not a record (edited, foreign) is not trusted. */
export const StageRecordSchema = z.object({
  key: z.string().min(1),
  ok: z.boolean(),
  value: z.unknown().optional(),
  reason: z.string().optional(),
  requested: count,
  attempts: count,
  parseFailures: count,
  refusals: count,
  truncated: z.boolean(),
  promptTokens: count,
  completionTokens: count,
  cacheHits: count,
  cacheReadTokens: count.optional(),
  cacheWriteTokens: count.optional(),
  batch: z.boolean().optional(),
});

/** One line of a stage artifact (`stages/<stage>.jsonl`); the last line for a key wins. */
export interface StageRecord<T = unknown> {
  key: string;
  ok: boolean;
  value?: T;
  reason?: string;
  /** Items asked for (list stages). */
  requested: number;
  attempts: number;
  parseFailures: number;
  refusals: number;
  truncated: boolean;
  promptTokens: number;
  completionTokens: number;
  cacheHits: number;
  /** Prompt tokens served from / written to the provider's prompt cache (part of promptTokens). */
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  /** Answered through a batch API (billed at the batch discount). */
  batch?: boolean;
}

export interface StageProgress {
  stage: StageName;
  done: number;
  total: number;
  failed: number;
  inFlight: number;
}

export interface StageRunnerOptions extends CallOptions {
  engine: Engine;
  /** Where `stages/<stage>.jsonl` live. */
  directory: string;
  specMarkdown: string;
  temperature: number;
  structuredMaxTokens: number;
  textMaxTokens: number;
  loopGuardRounds: number;
  onProgress?: (progress: StageProgress) => void;
  /** Text stages go through this batch API instead of one request per item. */
  batch?: { backend: BatchClient; pollIntervalMs: number; maxRounds: number };
  /** For per-item seeds in batch mode (the engine derives its own otherwise). */
  seed?: number;
}

export interface TextTask<T> {
  key: string;
  task: TaskContext;
  parse: (result: CompletionResult) => ParseOutcome<T>;
  json?: boolean;
}

/**
 * Runs the items of one stage through the engine, persisting each finished item as it lands. Items
 * already finished in the artifact are skipped, so rerunning resumes and never duplicates.
 */
export class StageRunner {
  private readonly stores = new Map<string, JsonlStore<StageRecord>>();

  constructor(private readonly options: StageRunnerOptions) {}

  /** List stages: `count` distinct items per task, topped up while the model keeps adding new ones. */
  async runList(
    stage: StageName,
    tasks: { key: string; task: TaskContext }[],
  ): Promise<Map<string, NamedItem[]>> {
    const records = await this.run<NamedItem[], { key: string; task: TaskContext }>(
      stage,
      tasks,
      async (entry) => {
        const wanted = entry.task.count ?? 1;
        const items: NamedItem[] = [];
        const total = emptyAccounting();
        let idle = 0;
        let lastReason = 'no items';
        for (
          let round = 0;
          items.length < wanted && idle < this.options.loopGuardRounds;
          round += 1
        ) {
          const task = { ...entry.task, count: wanted - items.length };
          const outcome = await this.options.engine.sample(
            {
              messages: buildMessages(
                task,
                this.options.specMarkdown,
                items.map((item) => item.name),
              ),
              temperature: this.options.temperature,
              maxTokens: this.options.structuredMaxTokens,
              json: true,
              task: { ...task, have: items.map((item) => item.name) },
            },
            { stage, sampleIndex: `${entry.key}#${round}` },
            parseItems,
            this.options,
          );
          addAccounting(total, outcome);
          const before = items.length;
          if (outcome.ok) {
            const seen = new Set(items.map((item) => item.name.toLowerCase()));
            for (const item of outcome.value) {
              if (items.length >= wanted || seen.has(item.name.toLowerCase())) continue;
              seen.add(item.name.toLowerCase());
              items.push(item);
            }
          } else lastReason = outcome.reason;
          idle = items.length > before ? 0 : idle + 1;
        }
        return items.length > 0
          ? { ok: true, value: items, requested: wanted, ...total }
          : { ok: false, reason: lastReason, requested: wanted, ...total };
      },
    );
    const out = new Map<string, NamedItem[]>();
    for (const [key, record] of records) if (record.ok) out.set(key, record.value as NamedItem[]);
    return out;
  }

  /** Text stages: one answer per task. */
  async runText<T>(stage: StageName, tasks: TextTask<T>[]): Promise<Map<string, T>> {
    if (this.options.batch) return this.runTextBatch(stage, tasks);
    const records = await this.run<T, TextTask<T>>(stage, tasks, async (entry) => {
      const outcome = await this.options.engine.sample(
        {
          messages: buildMessages(entry.task, this.options.specMarkdown),
          temperature: this.options.temperature,
          maxTokens: entry.json ? this.options.structuredMaxTokens : this.options.textMaxTokens,
          json: entry.json,
          task: entry.task,
        },
        { stage, sampleIndex: entry.key },
        entry.parse,
        this.options,
      );
      const accounting = pickAccounting(outcome);
      return outcome.ok
        ? { ok: true, value: outcome.value, requested: 1, ...accounting }
        : { ok: false, reason: outcome.reason, requested: 1, ...accounting };
    });
    const out = new Map<string, T>();
    for (const [key, record] of records) if (record.ok) out.set(key, record.value as T);
    return out;
  }

  private async runTextBatch<T>(stage: StageName, tasks: TextTask<T>[]): Promise<Map<string, T>> {
    const batch = this.options.batch as NonNullable<StageRunnerOptions['batch']>;
    const store = await this.store(stage);
    const records = await this.records(stage);
    const report = (done: number, total: number) =>
      this.options.onProgress?.({ stage, done, total, failed: 0, inFlight: total - done });
    await runBatchStage(tasks as TextTask<unknown>[], {
      backend: batch.backend,
      directory: this.options.directory,
      stage,
      maxRounds: batch.maxRounds,
      pollIntervalMs: batch.pollIntervalMs,
      signal: this.options.signal,
      records,
      append: (record) => store.append(record),
      onPoll: report,
      build: (task, round) => ({
        messages: buildMessages(task.task, this.options.specMarkdown),
        temperature: this.options.temperature,
        maxTokens: task.json ? this.options.structuredMaxTokens : this.options.textMaxTokens,
        json: task.json,
        seed: deriveSeed(this.options.seed ?? 0, stage, task.key, round),
        task: task.task,
      }),
    });
    const out = new Map<string, T>();
    for (const task of tasks) {
      const record = records.get(task.key);
      if (record?.ok) out.set(task.key, record.value as T);
    }
    return out;
  }

  /** Every record of a stage so far, last per key. */
  async records(stage: StageName): Promise<Map<string, StageRecord>> {
    const store = await this.store(stage);
    const latest = new Map<string, StageRecord>();
    for (const record of store.all()) {
      if (StageRecordSchema.safeParse(record).success) latest.set(record.key, record);
    }
    return latest;
  }

  close(): void {
    for (const store of this.stores.values()) store.close();
    this.stores.clear();
  }

  private async run<T, K extends { key: string }>(
    stage: StageName,
    tasks: K[],
    produce: (task: K) => Promise<Omit<StageRecord<T>, 'key'>>,
  ): Promise<Map<string, StageRecord<T>>> {
    const store = await this.store(stage);
    const latest = (await this.records(stage)) as Map<string, StageRecord<T>>;
    const pending = tasks.filter((task) => latest.get(task.key)?.ok !== true);
    const total = tasks.length;
    let done = total - pending.length;
    let failed = 0;
    const report = () =>
      this.options.onProgress?.({
        stage,
        done,
        total,
        failed,
        inFlight: this.options.engine.limiter.inFlight,
      });
    report();
    // A pool a little wider than the engine's limit pulls tasks in order: prompts are built only
    // shortly before they are sent, so 10,000 pending items never hold 10,000 prompts in memory.
    let next = 0;
    // After a fatal error (an exhausted transport, an abort) no new item starts.
    let stopped = false;
    const width = Math.min(pending.length, this.options.engine.limiter.maxConcurrency * 2);
    // Settle every worker before rethrowing, so items already in flight still land in the artifact.
    const settled = await Promise.allSettled(
      Array.from({ length: width }, async () => {
        while (next < pending.length && !stopped) {
          const task = pending[next++] as K;
          let produced: Omit<StageRecord<T>, 'key'>;
          try {
            produced = await produce(task);
          } catch (error) {
            stopped = true;
            throw error;
          }
          const record = { key: task.key, ...produced } as StageRecord<T>;
          store.append(record);
          latest.set(task.key, record);
          done += 1;
          if (!record.ok) failed += 1;
          report();
        }
      }),
    );
    const failure = settled.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
    // The loop guard: a stage that had work and produced nothing at all is going nowhere.
    if (pending.length > 0 && !tasks.some((task) => latest.get(task.key)?.ok)) {
      const reason = latest.get(pending[0]?.key ?? '')?.reason ?? 'no output';
      throw new DocgenError({
        code: 'docgen/loop-guard',
        message: `stage ${stage} produced nothing new in ${pending.length} item(s), each retried to its limit; last failure: ${reason}`,
      });
    }
    return latest;
  }

  private async store(stage: StageName): Promise<JsonlStore<StageRecord>> {
    let store = this.stores.get(stage);
    if (!store) {
      store = await JsonlStore.open<StageRecord>(join(this.options.directory, `${stage}.jsonl`));
      this.stores.set(stage, store);
    }
    return store;
  }
}

function emptyAccounting(): Omit<SampleAccounting, 'failures'> {
  return {
    attempts: 0,
    parseFailures: 0,
    refusals: 0,
    truncated: false,
    cacheHits: 0,
    promptTokens: 0,
    completionTokens: 0,
  };
}

function pickAccounting(outcome: SampleAccounting): Omit<SampleAccounting, 'failures'> {
  const { failures: _failures, ...rest } = outcome;
  return rest;
}

function addAccounting(total: Omit<SampleAccounting, 'failures'>, outcome: SampleAccounting): void {
  total.attempts += outcome.attempts;
  total.parseFailures += outcome.parseFailures;
  total.refusals += outcome.refusals;
  total.truncated ||= outcome.truncated;
  total.cacheHits += outcome.cacheHits;
  total.promptTokens += outcome.promptTokens;
  total.completionTokens += outcome.completionTokens;
  addCacheTokens(total, outcome);
}
