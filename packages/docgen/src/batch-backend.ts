import type { CallOptions, CompletionRequest, CompletionResult } from './provider.js';

export interface BatchRequest {
  /** Unique within the batch; maps a result back to its item. */
  customId: string;
  request: CompletionRequest;
}

export type BatchItemResult = { ok: true; result: CompletionResult } | { ok: false; error: string };

export interface BatchStatus {
  done: boolean;
  /** Counts as the API reports them, for progress. */
  completed: number;
  total: number;
}

/**
 * A provider's batch API (OpenAI Batch, Anthropic Message Batches): half price, hours of latency.
 * The batch runner persists the id and the request map before it polls, so a crashed process
 * reattaches to the same batch instead of paying for it twice.
 */
export interface BatchBackend {
  readonly id: string;
  readonly model: string;
  submit(requests: BatchRequest[], options?: CallOptions): Promise<string>;
  status(batchId: string, options?: CallOptions): Promise<BatchStatus>;
  results(batchId: string, options?: CallOptions): Promise<Map<string, BatchItemResult>>;
}
