import { AdaptiveLimiter, type CallOptions, deriveSeed, type RetryAdvice } from '@midspec/core';
import { ProviderError } from './docgen-error.js';
import type { CompletionRequest, CompletionResult, Provider } from './provider.js';
import { ResponseCache } from './response-cache.js';

export interface EngineOptions {
  provider: Provider;
  cache?: ResponseCache;
  /** Requests in flight at most; default the provider's. */
  concurrency?: number;
  /** Per attempt; default 120 s. */
  attemptTimeoutMs?: number;
  /** Transport retries per request (429, 5xx, timeouts); default 6. */
  maxRetries?: number;
  /** New samples after unparseable output or a refusal; default 3 attempts in all. */
  maxParseAttempts?: number;
  /** First backoff step; default 500 ms, doubling up to 30 s, with jitter. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  seed: number;
}

/** What a parser says about one answer. */
export type ParseOutcome<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface SampleAccounting {
  attempts: number;
  parseFailures: number;
  refusals: number;
  truncated: boolean;
  cacheHits: number;
  promptTokens: number;
  completionTokens: number;
  /** Why each failed attempt failed. */
  failures: string[];
  /** Prompt tokens read from / written to the provider's prompt cache (part of promptTokens). */
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
}

export type SampleOutcome<T> =
  | ({ ok: true; value: T; text: string } & SampleAccounting)
  | ({ ok: false; reason: string } & SampleAccounting);

const REFUSAL =
  /^\s*(?:I'm sorry|I am sorry|I can(?:no|')t (?:help|assist|write|do that)|I won't|As an AI)/i;

/**
 * Runs model calls with bounded, adaptive concurrency, a timeout per attempt, capped retries with
 * backoff that honours retry-after, a response cache, and re-sampling of unparseable answers.
 */
export class Engine {
  readonly provider: Provider;
  readonly limiter: AdaptiveLimiter;
  private readonly cache: ResponseCache | undefined;
  private readonly options: Required<Omit<EngineOptions, 'cache' | 'provider' | 'concurrency'>>;

  /** Transport retries in this process, for the yield report. */
  get retries(): number {
    return this.limiter.stats.retries;
  }

  get rateLimits(): number {
    return this.limiter.stats.rateLimited;
  }

  constructor(options: EngineOptions) {
    this.provider = options.provider;
    this.cache = options.cache;
    this.options = {
      attemptTimeoutMs: options.attemptTimeoutMs ?? 120_000,
      maxRetries: options.maxRetries ?? 6,
      maxParseAttempts: options.maxParseAttempts ?? 3,
      backoffBaseMs: options.backoffBaseMs ?? 500,
      backoffMaxMs: options.backoffMaxMs ?? 30_000,
      seed: options.seed,
    };
    this.limiter = new AdaptiveLimiter({
      maxConcurrency: options.concurrency ?? options.provider.defaultConcurrency,
      maxRetries: this.options.maxRetries,
      baseDelayMs: this.options.backoffBaseMs,
      maxDelayMs: this.options.backoffMaxMs,
      classify: providerRetryAdvice,
    });
  }

  /**
   * One sample of one item: calls (or reads the cache) and parses, re-sampling with a new attempt
   * number (so a new cache key and seed) after unparseable output or a refusal. Never throws for bad
   * output; throws only for an exhausted transport or an abort.
   */
  async sample<T>(
    request: Omit<CompletionRequest, 'seed'>,
    identity: { stage: string; sampleIndex: string },
    parse: (result: CompletionResult) => ParseOutcome<T>,
    options: CallOptions = {},
  ): Promise<SampleOutcome<T>> {
    const accounting: SampleAccounting = {
      attempts: 0,
      parseFailures: 0,
      refusals: 0,
      truncated: false,
      cacheHits: 0,
      promptTokens: 0,
      completionTokens: 0,
      failures: [],
    };
    for (let attempt = 0; attempt < this.options.maxParseAttempts; attempt += 1) {
      accounting.attempts += 1;
      const seeded: CompletionRequest = {
        ...request,
        seed: deriveSeed(this.options.seed, identity.stage, identity.sampleIndex, attempt),
      };
      const key = ResponseCache.key(this.provider, seeded, { ...identity, attempt });
      let result = this.cache?.get(key);
      if (result) accounting.cacheHits += 1;
      else {
        result = await this.call(seeded, options);
        accounting.promptTokens += result.promptTokens;
        accounting.completionTokens += result.completionTokens;
        addCacheTokens(accounting, result);
      }
      if (result.finishReason === 'refusal' || REFUSAL.test(result.text)) {
        accounting.refusals += 1;
        accounting.failures.push('refusal');
        continue;
      }
      const parsed = parse(result);
      if (!parsed.ok) {
        accounting.parseFailures += 1;
        accounting.failures.push(
          `${result.finishReason === 'length' ? 'truncated, ' : ''}${parsed.reason}`,
        );
        continue;
      }
      accounting.truncated = result.finishReason === 'length';
      this.cache?.put(key, result);
      return { ok: true, value: parsed.value, text: result.text, ...accounting };
    }
    return { ok: false, reason: accounting.failures.at(-1) ?? 'no answer', ...accounting };
  }

  /** One request through the limiter, with retries. */
  call(request: CompletionRequest, options: CallOptions = {}): Promise<CompletionResult> {
    return this.limiter.run(
      () =>
        this.provider.complete(request, {
          signal: options.signal,
          timeoutMs: options.timeoutMs ?? this.options.attemptTimeoutMs,
        }),
      { signal: options.signal },
    );
  }
}

/** Provider failures worth retrying: 429s (which also slow every caller down), 5xx, timeouts. */
function providerRetryAdvice(error: unknown): RetryAdvice | undefined {
  if (!ProviderError.isInstance(error)) return undefined;
  return {
    retryable: error.retryable,
    rateLimited: error.rateLimited,
    ...(error.retryAfterMs !== undefined && { retryAfterMs: error.retryAfterMs }),
  };
}

/** Adds a result's prompt-cache tokens to a tally; fields stay absent while they are zero. */
export function addCacheTokens(
  into: { cacheReadTokens?: number; cacheWriteTokens?: number },
  from: { cacheReadTokens?: number; cacheWriteTokens?: number },
): void {
  if (from.cacheReadTokens)
    into.cacheReadTokens = (into.cacheReadTokens ?? 0) + from.cacheReadTokens;
  if (from.cacheWriteTokens)
    into.cacheWriteTokens = (into.cacheWriteTokens ?? 0) + from.cacheWriteTokens;
}
