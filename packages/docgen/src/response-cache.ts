import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { stableJson } from '@midspec/core';
import { JsonlStore } from './jsonl-store.js';
import type { CompletionRequest, CompletionResult } from './provider.js';

interface CacheEntry {
  key: string;
  result: CompletionResult;
}

/**
 * Content-addressed responses. The key covers provider, model, the messages, every sampling
 * parameter, the stage and the sample index (and the attempt, for parse retries), so n samples of
 * one prompt are n entries, never one answer repeated. Only complete, parsed answers are stored.
 */
export class ResponseCache {
  private readonly entries = new Map<string, CompletionResult>();

  private constructor(private readonly store: JsonlStore<CacheEntry>) {
    for (const entry of store.all()) this.entries.set(entry.key, entry.result);
  }

  static async open(directory: string): Promise<ResponseCache> {
    return new ResponseCache(await JsonlStore.open<CacheEntry>(join(directory, 'responses.jsonl')));
  }

  static key(
    provider: { id: string; model: string },
    request: CompletionRequest,
    sample: { stage: string; sampleIndex: string; attempt: number },
  ): string {
    // Fed to the hash piece by piece: no 20 kB JSON string per request just to hash it.
    const hash = createHash('sha256');
    hash.update(
      stableJson({
        provider: provider.id,
        model: provider.model,
        temperature: request.temperature,
        maxTokens: request.maxTokens,
        json: request.json ?? false,
        seed: request.seed,
        stage: sample.stage,
        sampleIndex: sample.sampleIndex,
        attempt: sample.attempt,
      }),
    );
    for (const message of request.messages) {
      hash.update(`\u0000${message.role}\u0000${message.content.length}\u0000`);
      hash.update(message.content);
    }
    return hash.digest('hex');
  }

  get(key: string): CompletionResult | undefined {
    return this.entries.get(key);
  }

  put(key: string, result: CompletionResult): void {
    if (this.entries.has(key)) return;
    this.entries.set(key, result);
    this.store.append({ key, result });
  }

  get size(): number {
    return this.entries.size;
  }

  close(): void {
    this.store.close();
  }
}
