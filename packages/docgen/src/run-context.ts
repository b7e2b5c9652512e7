import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BatchClient } from '@midspec/models';
import { fingerprintSpec, renderMarkdown, renderSpec, type Spec } from '@midspec/spec';
import { DocgenError } from './docgen-error.js';
import { Engine } from './engine.js';
import { writeFileAtomic } from './jsonl-store.js';
import type { CallOptions, Provider } from './provider.js';
import { ResponseCache } from './response-cache.js';
import { type StageProgress, StageRunner } from './stage-runner.js';

export interface RunOptions extends CallOptions {
  /** A validated spec (from @midspec/spec's loadSpec or validateSpecData). */
  spec: Spec;
  /** Template variable values; the spec's defaults fill the rest. */
  variables?: Record<string, string>;
  provider: Provider;
  outDir: string;
  /** Response cache folder; default `<outDir>/cache`. Share one between runs to reuse answers. */
  cacheDir?: string;
  onProgress?: (progress: StageProgress) => void;
  /**
   * Send the large text stages (documents, revisions, judge, responses) through a batch API:
   * half the price, hours of latency, resumable across crashes.
   */
  batch?: BatchClient;
  /** How often to poll a batch; default 30 s. */
  batchPollIntervalMs?: number;
}

interface EngineSettings {
  seed: number;
  temperature: number;
  concurrency?: number;
  attemptTimeoutMs: number;
  maxRetries: number;
  maxParseAttempts: number;
  loopGuardRounds: number;
  structuredMaxTokens: number;
  textMaxTokens: number;
}

export interface RunContext {
  spec: Spec;
  fingerprint: string;
  engine: Engine;
  runner: StageRunner;
  cache: ResponseCache;
  close(): Promise<void>;
}

/**
 * Renders the spec, checks the output folder belongs to this run (same spec, provider, model, seed
 * and mode) and opens the cache, engine and stage artifacts.
 */
export async function openRun(
  kind: 'corpus' | 'demos',
  options: RunOptions,
  settings: EngineSettings,
  identityExtra: Record<string, unknown>,
): Promise<RunContext> {
  const spec = renderSpec(options.spec, options.variables ?? {});
  const fingerprint = fingerprintSpec(spec);
  const identity = {
    kind,
    specFingerprint: fingerprint,
    provider: options.provider.id,
    model: options.provider.model,
    seed: settings.seed,
    temperature: settings.temperature,
    ...identityExtra,
  };
  const identityFile = join(options.outDir, 'run.json');
  if (existsSync(identityFile)) {
    const previous = JSON.parse(await readFile(identityFile, 'utf8')) as Record<string, unknown>;
    const changed = Object.keys(identity).filter(
      (key) =>
        JSON.stringify(previous[key]) !== JSON.stringify(identity[key as keyof typeof identity]),
    );
    if (changed.length > 0) {
      throw new DocgenError({
        code: 'docgen/output-dir',
        message: `${options.outDir} holds a different run (${changed.map((key) => `${key}: ${JSON.stringify(previous[key])} → ${JSON.stringify(identity[key as keyof typeof identity])}`).join(', ')}); use a new --out folder to start another`,
      });
    }
  } else {
    await writeFileAtomic(identityFile, `${JSON.stringify(identity, null, 2)}\n`);
  }
  const cache = await ResponseCache.open(options.cacheDir ?? join(options.outDir, 'cache'));
  const engine = new Engine({
    provider: options.provider,
    cache,
    concurrency: settings.concurrency,
    attemptTimeoutMs: settings.attemptTimeoutMs,
    maxRetries: settings.maxRetries,
    maxParseAttempts: settings.maxParseAttempts,
    seed: settings.seed,
  });
  const runner = new StageRunner({
    engine,
    directory: join(options.outDir, 'stages'),
    specMarkdown: renderMarkdown(spec),
    temperature: settings.temperature,
    structuredMaxTokens: settings.structuredMaxTokens,
    textMaxTokens: settings.textMaxTokens,
    loopGuardRounds: settings.loopGuardRounds,
    onProgress: options.onProgress,
    seed: settings.seed,
    ...(options.batch
      ? {
          batch: {
            backend: options.batch,
            pollIntervalMs: options.batchPollIntervalMs ?? 30_000,
            maxRounds: settings.maxParseAttempts,
          },
        }
      : {}),
    signal: options.signal,
    timeoutMs: settings.attemptTimeoutMs,
  });
  return {
    spec,
    fingerprint,
    engine,
    runner,
    cache,
    async close() {
      runner.close();
      cache.close();
    },
  };
}
