import { randomUUID } from 'node:crypto';
import { AdaptiveLimiter, sleep } from '@midspec/core';
import type { BatchClient, BatchIntent, BatchStatus } from './batch-client.js';
import { splitBatch } from './batch-split.js';
import type { CallOptions, ChatRequest } from './chat.js';
import { ModelError, modelRetryAdvice } from './model-error.js';

/** One line of a batch journal. */
export type BatchJournalEntry =
  /** Written BEFORE the batch is sent: enough to find it again or to send it again. */
  | {
      event: 'intent';
      intentId: string;
      createdAt: number;
      round: number;
      /** custom id → the caller's key for the item. */
      map: Record<string, string>;
    }
  | { event: 'submitted'; intentId: string; batchId: string }
  | { event: 'collected'; intentId: string; batchId: string };

/** An append-only store of journal lines (docgen's JsonlStore is one). */
export interface BatchJournal {
  all(): readonly BatchJournalEntry[];
  append(entry: BatchJournalEntry): void;
}

/** A batch the journal knows of and has not collected. */
export interface OpenBatch {
  intent: BatchIntent;
  round: number;
  map: Record<string, string>;
  batchId: string | undefined;
  /** The intent was journalled by an earlier process, which may have sent it already. */
  resumed: boolean;
}

/** Batches journalled and not yet collected, oldest first. */
export function openBatches(journal: BatchJournal): OpenBatch[] {
  const submitted = new Map<string, string>();
  const collected = new Set<string>();
  for (const entry of journal.all()) {
    if (entry.event === 'submitted') submitted.set(entry.intentId, entry.batchId);
    if (entry.event === 'collected') collected.add(entry.intentId);
  }
  return journal
    .all()
    .filter(
      (entry): entry is Extract<BatchJournalEntry, { event: 'intent' }> =>
        entry.event === 'intent' && !collected.has(entry.intentId),
    )
    .map((entry) => ({
      intent: {
        id: entry.intentId,
        createdAt: entry.createdAt,
        size: Object.keys(entry.map).length,
      },
      round: entry.round,
      map: entry.map,
      batchId: submitted.get(entry.intentId),
      resumed: true,
    }));
}

/**
 * Splits the requests at the API's limits and journals one intent per part, before anything is
 * sent. Items are `{ key, request }`: the key is the caller's, the custom id is made here.
 */
export function journalIntents(
  client: BatchClient,
  journal: BatchJournal,
  round: number,
  items: { key: string; request: ChatRequest }[],
): OpenBatch[] {
  // Split with placeholder ids as long as the real ones, then number each part afresh.
  const placeholder: BatchIntent = { id: randomUUID(), createdAt: 0, size: 0 };
  const keyed = items.map((item, index) => ({
    customId: client.customId(placeholder, index),
    request: item.request,
    key: item.key,
  }));
  const parts = splitBatch(keyed, client.limits, (item) => client.itemBytes(item), client.provider);
  return parts.map((part) => {
    const intent: BatchIntent = { id: randomUUID(), createdAt: Date.now(), size: part.length };
    const map = Object.fromEntries(
      part.map((item, index) => [
        client.customId(intent, index),
        (item as (typeof keyed)[number]).key,
      ]),
    );
    journal.append({
      event: 'intent',
      intentId: intent.id,
      createdAt: intent.createdAt,
      round,
      map,
    });
    return { intent, round, map, batchId: undefined, resumed: false };
  });
}

/**
 * Sends the batch of an intent unless it was sent already: a resumed intent first looks for its
 * batch at the provider (a crash may have come between the send and the journal line). The batch
 * id is journalled as soon as it is known.
 */
export async function ensureSubmitted(
  client: BatchClient,
  journal: BatchJournal,
  open: OpenBatch,
  rebuild: (key: string) => ChatRequest,
  options: CallOptions & RetryOptions = {},
): Promise<string> {
  if (open.batchId) return open.batchId;
  let mayExist = open.resumed;
  let batchId: string | undefined;
  for (let attempt = 0; batchId === undefined; attempt += 1) {
    batchId = mayExist
      ? await withRetries(() => client.find(open.intent, options), options)
      : undefined;
    if (batchId !== undefined) break;
    try {
      batchId = await client.submit(
        Object.entries(open.map).map(([customId, key]) => ({ customId, request: rebuild(key) })),
        open.intent,
        options,
      );
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      const retryable = ModelError.isInstance(error) && error.retryable;
      if (!retryable || attempt >= (options.maxRetries ?? 5)) throw error;
      // The batch may exist although the answer was lost: look before sending again.
      mayExist = true;
      await sleep((options.backoffBaseMs ?? 1000) * 2 ** attempt, options.signal);
    }
  }
  journal.append({ event: 'submitted', intentId: open.intent.id, batchId });
  open.batchId = batchId;
  return batchId;
}

/** Polls until the batch has ended; a poll that fails for a passing reason is retried. */
export async function waitForBatch(
  client: BatchClient,
  batchId: string,
  options: CallOptions &
    RetryOptions & { pollIntervalMs: number; onPoll?: (status: BatchStatus) => void },
): Promise<BatchStatus> {
  for (;;) {
    const status = await withRetries(() => client.status(batchId, options), options);
    options.onPoll?.(status);
    if (status.done) return status;
    await sleep(options.pollIntervalMs, options.signal);
  }
}

export function markCollected(journal: BatchJournal, open: OpenBatch): void {
  journal.append({
    event: 'collected',
    intentId: open.intent.id,
    batchId: open.batchId as string,
  });
}

export interface RetryOptions {
  /** Attempts after the first, for retryable failures; default 5. */
  maxRetries?: number;
  /** First backoff; doubles each time (default 1 s), or the server's Retry-After. */
  backoffBaseMs?: number;
}

/**
 * Runs `call`, retrying retryable ModelErrors with jittered backoff (or the server's Retry-After),
 * through @midspec/core's limiter with the same classification as every model call.
 */
export function withRetries<T>(
  call: () => Promise<T>,
  options: CallOptions & RetryOptions = {},
): Promise<T> {
  const limiter = new AdaptiveLimiter({
    maxConcurrency: 1,
    maxRetries: options.maxRetries ?? 5,
    baseDelayMs: options.backoffBaseMs ?? 1000,
    classify: modelRetryAdvice,
  });
  return limiter.run(call, { ...(options.signal ? { signal: options.signal } : {}) });
}
