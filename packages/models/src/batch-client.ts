import type { CallOptions, ChatRequest, ChatResult } from './chat.js';

export interface BatchItem {
  /** Unique within the batch; maps a result back to its item. */
  customId: string;
  request: ChatRequest;
}

export type BatchItemResult = { ok: true; result: ChatResult } | { ok: false; error: string };

export interface BatchStatus {
  done: boolean;
  /** Counts as the API reports them, for progress. */
  completed: number;
  total: number;
  /** The API's own state (`in_progress`, `ended`, …). */
  state: string;
}

/** What one batch may hold, as each API documents it. */
export interface BatchLimits {
  maxRequests: number;
  /** Bytes of the batch's input (the uploaded JSONL file, or the create request's body). */
  maxBytes: number;
}

/**
 * The submission a journal records before anything is sent: `id` travels with the batch (OpenAI
 * `metadata`, Anthropic custom ids), so a process that died before it learnt the batch id finds
 * the batch again instead of paying for a second one.
 */
export interface BatchIntent {
  id: string;
  /** Epoch milliseconds when the intent was journalled (a bound for listing batches). */
  createdAt: number;
  /** How many requests the batch holds. */
  size: number;
}

/** A provider's batch API (OpenAI Batch, Anthropic Message Batches): half price, hours of latency. */
export interface BatchClient {
  readonly provider: string;
  readonly model: string;
  readonly limits: BatchLimits;
  /** Custom ids must match this (Anthropic: `^[a-zA-Z0-9_-]{1,64}$`). */
  customId(intent: BatchIntent, index: number): string;
  /** Bytes the item adds to the batch input, to split at `limits.maxBytes`. */
  itemBytes(item: BatchItem): number;
  submit(items: BatchItem[], intent: BatchIntent, options?: CallOptions): Promise<string>;
  /** The batch submitted for this intent, if the provider has one (lists batches and matches). */
  find(intent: BatchIntent, options?: CallOptions): Promise<string | undefined>;
  status(batchId: string, options?: CallOptions): Promise<BatchStatus>;
  results(batchId: string, options?: CallOptions): Promise<Map<string, BatchItemResult>>;
}

/** Custom ids carry the first characters of the intent id, so results can be told apart. */
export function intentTag(intent: BatchIntent): string {
  return intent.id.replace(/[^a-zA-Z0-9]/g, '').slice(0, 12);
}
