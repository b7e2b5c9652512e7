import type { DedupDrop } from './dedup.js';
import { costOf, type Price } from './price-table.js';
import type { StageRecord } from './stage-runner.js';

export interface StageYield {
  stage: string;
  /** Requests planned (one per item). */
  items: number;
  /** Outputs asked for: list items for list stages, one per item otherwise. */
  requested: number;
  produced: number;
  failed: number;
  attempts: number;
  parseFailures: number;
  refusals: number;
  truncations: number;
  cacheHits: number;
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens served from the provider's prompt cache (part of promptTokens). */
  cacheReadTokens: number;
  /** Answers that came through a batch API (billed at the batch discount). */
  batched: number;
  costUsd: number | undefined;
}

export interface YieldReport {
  stages: StageYield[];
  /** Dropped after generation, each with its reason (details in drops.jsonl). */
  drops: { exactDuplicates: number; nearDuplicates: number; inconsistent: number; failed: number };
  output: { requested: number; produced: number };
  promptTokens: number;
  completionTokens: number;
  cacheReadTokens: number;
  costUsd: number | undefined;
  /** Transport retries and 429s in the last process (earlier processes are not counted). */
  retries: number;
  rateLimits: number;
}

export function stageYield(
  stage: string,
  keys: readonly string[],
  records: Map<string, StageRecord>,
  price: Price | undefined,
  countProduced: (record: StageRecord) => number = (record) => (record.ok ? 1 : 0),
): StageYield {
  const out: StageYield = {
    stage,
    items: keys.length,
    requested: 0,
    produced: 0,
    failed: 0,
    attempts: 0,
    parseFailures: 0,
    refusals: 0,
    truncations: 0,
    cacheHits: 0,
    promptTokens: 0,
    completionTokens: 0,
    cacheReadTokens: 0,
    batched: 0,
    costUsd: undefined,
  };
  let cost = 0;
  for (const key of keys) {
    const record = records.get(key);
    if (!record) continue;
    out.requested += record.requested;
    out.produced += countProduced(record);
    if (!record.ok) out.failed += 1;
    out.attempts += record.attempts;
    out.parseFailures += record.parseFailures;
    out.refusals += record.refusals;
    if (record.truncated) out.truncations += 1;
    out.cacheHits += record.cacheHits;
    out.promptTokens += record.promptTokens;
    out.completionTokens += record.completionTokens;
    out.cacheReadTokens += record.cacheReadTokens ?? 0;
    if (record.batch) out.batched += 1;
    // Priced per record: cache reads and writes at their own rates, batch answers discounted.
    cost += costOf(price, { ...record, batch: record.batch ?? false }) ?? 0;
  }
  out.costUsd = price ? cost : undefined;
  return out;
}

export function buildYieldReport(options: {
  stages: StageYield[];
  dedupDrops: DedupDrop[];
  inconsistent: number;
  failed: number;
  requested: number;
  produced: number;
  retries: number;
  rateLimits: number;
}): YieldReport {
  const promptTokens = sum(options.stages.map((stage) => stage.promptTokens));
  const completionTokens = sum(options.stages.map((stage) => stage.completionTokens));
  const cacheReadTokens = sum(options.stages.map((stage) => stage.cacheReadTokens));
  const costs = options.stages.map((stage) => stage.costUsd);
  return {
    stages: options.stages,
    drops: {
      exactDuplicates: options.dedupDrops.filter((drop) => drop.reason === 'exact-duplicate')
        .length,
      nearDuplicates: options.dedupDrops.filter((drop) => drop.reason === 'near-duplicate').length,
      inconsistent: options.inconsistent,
      failed: options.failed,
    },
    output: { requested: options.requested, produced: options.produced },
    promptTokens,
    completionTokens,
    cacheReadTokens,
    costUsd: costs.some((cost) => cost === undefined) ? undefined : sum(costs as number[]),
    retries: options.retries,
    rateLimits: options.rateLimits,
  };
}

/** A fixed-width table for terminals and READMEs. */
export function formatYieldReport(report: YieldReport): string {
  const header = [
    'stage',
    'items',
    'requested',
    'produced',
    'failed',
    'parse-fail',
    'refusals',
    'truncated',
    'cached',
    'tokens in',
    'tokens out',
    'cost $',
  ];
  const rows = report.stages.map((stage) => [
    stage.stage,
    stage.items,
    stage.requested,
    stage.produced,
    stage.failed,
    stage.parseFailures,
    stage.refusals,
    stage.truncations,
    stage.cacheHits,
    stage.promptTokens,
    stage.completionTokens,
    stage.costUsd === undefined ? '?' : stage.costUsd.toFixed(4),
  ]);
  const table = [header, ...rows].map((row) => row.map(String));
  const widths = header.map((_, column) =>
    Math.max(...table.map((row) => (row[column] ?? '').length)),
  );
  const lines = table.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  const drops = report.drops;
  lines.push(
    `output: ${report.output.produced}/${report.output.requested}  dropped: ${drops.exactDuplicates} exact duplicates, ${drops.nearDuplicates} near duplicates, ${drops.inconsistent} inconsistent, ${drops.failed} failed`,
    `tokens: ${report.promptTokens} in (${report.cacheReadTokens} from the prompt cache), ${report.completionTokens} out  cost: ${report.costUsd === undefined ? 'unknown (no price for this model)' : `$${report.costUsd.toFixed(4)}`}  retries: ${report.retries}  rate limits: ${report.rateLimits}`,
  );
  return lines.join('\n');
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
