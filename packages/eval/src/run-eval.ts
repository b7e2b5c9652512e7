import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AdaptiveLimiter,
  type AdaptiveLimiterOptions,
  type CallOptions,
  callSignal,
} from '@midspec/core';
import { type Backend, backendRetryAdvice } from './backend.js';
import { evaluateSample } from './evaluate-sample.js';
import { EvaluationError } from './evaluation-error.js';
import { expandSuite } from './expand-suite.js';
import { selfJudgeWarning } from './judge.js';
import { type CalibrationItem, calibrateJudge } from './judge-calibration.js';
import {
  type RunManifest,
  readManifest,
  readSampleLog,
  SampleLogWriter,
  sampleKey,
  seedFromKey,
  writeManifest,
} from './run-log.js';
import type { Suite } from './suite-schema.js';
import { CALIBRATION_FILE } from './summarize-run.js';

/** A model under evaluation, named for the report (e.g. "baseline", "msm-america"). */
export interface Arm {
  name: string;
  backend: Backend;
}

export interface RunProgress {
  total: number;
  done: number;
  /** Finished in an earlier run and not redone. */
  resumed: number;
  scored: number;
  unscored: number;
}

export interface RunEvalOptions extends CallOptions {
  suite: Suite;
  /** The spec text of a spec-questions suite. */
  specText?: string;
  arms: Arm[];
  judge?: Backend;
  outDir: string;
  /** Overrides the suite's samples per condition. */
  epochs?: number;
  /** Calls in flight per provider (model and judge on one provider share it); default 8. */
  concurrency?: number;
  /** Retry and backoff settings of every provider's limiter. */
  retry?: Pick<AdaptiveLimiterOptions, 'maxRetries' | 'baseDelayMs' | 'maxDelayMs'>;
  /** Evaluate only the first N samples of each arm (a smoke run). */
  limit?: number;
  /** Re-run samples a previous run left unscored because a provider failed (default true). */
  retryProviderErrors?: boolean;
  onProgress?: (progress: RunProgress) => void;
  /** Also the deadline of each model or judge call, when set. */
  callTimeoutMs?: number;
  /**
   * A labelled set of transcripts: the judge grades it too and its agreement with the labels is
   * written to OUT/calibration.json, which the report shows beside the rates.
   */
  calibration?: CalibrationItem[];
}

export interface RunEvalResult extends RunProgress {
  outDir: string;
  warnings: string[];
}

/**
 * Runs a suite against every arm and appends one JSONL record per sample epoch to OUT/samples.jsonl.
 * Run it again on the same folder to resume: finished samples are kept, not redone.
 */
export async function runEval(options: RunEvalOptions): Promise<RunEvalResult> {
  const { suite, arms } = options;
  const names = arms.map((arm) => arm.name);
  const duplicates = names.filter((name, i) => names.indexOf(name) !== i);
  if (arms.length === 0 || duplicates.length > 0) {
    throw new EvaluationError({
      code: 'eval/invalid-argument',
      message:
        arms.length === 0
          ? 'runEval: give at least one model'
          : `runEval: arm names must differ: ${duplicates.join(', ')}`,
    });
  }
  const needsJudge =
    suite.kind === 'spec-questions' ||
    (suite.kind === 'agentic-misalignment' && suite.combine !== 'rule-only');
  if (needsJudge && !options.judge) {
    throw new EvaluationError({
      code: 'eval/missing-judge',
      message: `suite ${suite.id} (${suite.kind}) needs a judge model: pass judge (--judge REF)`,
    });
  }
  // `timeoutMs` bounds the whole run; `callTimeoutMs` each call.
  const { signal } = callSignal(options);
  let specText = options.specText;
  if (suite.kind === 'spec-questions' && specText === undefined) {
    if (!('text' in suite.spec)) {
      throw new EvaluationError({
        code: 'eval/missing-spec',
        message: `suite ${suite.id} names spec.file ${suite.spec.file}: load it with loadSuite (which reads the file) or pass specText`,
      });
    }
    specText = suite.spec.text;
  }
  const warnings: string[] = [];
  if (options.judge) {
    for (const arm of arms) {
      const warning = selfJudgeWarning(arm.backend, options.judge);
      if (warning) warnings.push(`arm ${arm.name}: ${warning}`);
    }
  }

  const limiters = new Map<string, AdaptiveLimiter>();
  const limiterFor = (backend: Backend) => {
    let limiter = limiters.get(backend.limiterKey);
    if (!limiter) {
      limiter = new AdaptiveLimiter({
        ...options.retry,
        maxConcurrency: options.concurrency ?? 8,
        classify: backendRetryAdvice,
      });
      limiters.set(backend.limiterKey, limiter);
    }
    return limiter;
  };

  const samples = expandSuite(suite, {
    ...(options.epochs === undefined ? {} : { epochs: options.epochs }),
  });
  const previous = await readSampleLog(options.outDir);
  const retry = options.retryProviderErrors ?? true;
  const finished = new Set(
    previous.records
      .filter(
        (record) =>
          !(
            retry &&
            record.final.status === 'unscored' &&
            record.final.reason === 'provider-error'
          ),
      )
      .map((record) => record.key),
  );
  const existing = await readManifest(options.outDir).catch(() => undefined);
  const now = new Date().toISOString();
  const manifest: RunManifest = {
    v: 1,
    suite,
    arms: [
      ...(existing?.arms.filter((arm) => !names.includes(arm.name)) ?? []),
      ...arms.map((arm) => ({ name: arm.name, model: arm.backend.id })),
    ],
    judge: options.judge?.id ?? existing?.judge ?? null,
    epochs: options.epochs ?? null,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
    warnings: [...new Set([...(existing?.warnings ?? []), ...warnings])],
  };
  await writeManifest(options.outDir, manifest);
  const writer = new SampleLogWriter(options.outDir);
  await writer.open();

  const jobs: Array<() => Promise<void>> = [];
  const progress: RunProgress = { total: 0, done: 0, resumed: 0, scored: 0, unscored: 0 };
  for (const arm of arms) {
    const armSamples = options.limit === undefined ? samples : samples.slice(0, options.limit);
    for (const sample of armSamples) {
      for (let epoch = 0; epoch < sample.epochs; epoch++) {
        progress.total++;
        const key = sampleKey(suite.id, arm.name, arm.backend.id, sample, epoch);
        if (finished.has(key)) {
          progress.resumed++;
          continue;
        }
        jobs.push(async () => {
          const record = await evaluateSample({
            sample,
            epoch,
            key,
            seed: seedFromKey(key),
            suiteId: suite.id,
            arm: arm.name,
            model: arm.backend,
            modelLimiter: limiterFor(arm.backend),
            ...(options.judge
              ? { judge: options.judge, judgeLimiter: limiterFor(options.judge) }
              : {}),
            ...(specText === undefined ? {} : { specText }),
            signal,
            ...(options.callTimeoutMs === undefined ? {} : { timeoutMs: options.callTimeoutMs }),
          });
          if (signal.aborted) return;
          await writer.append(record);
          progress.done++;
          if (record.final.status === 'scored') progress.scored++;
          else progress.unscored++;
          options.onProgress?.({ ...progress });
        });
      }
    }
  }
  options.onProgress?.({ ...progress });

  // Enough runners to keep every limiter full; the limiters decide what actually runs.
  const runners = Math.max(
    1,
    (options.concurrency ?? 8) * Math.max(1, limiters.size || arms.length + 1),
  );
  let next = 0;
  const runner = async () => {
    while (next < jobs.length && !signal.aborted) {
      const job = jobs[next++] as () => Promise<void>;
      await job();
    }
  };
  await Promise.all(Array.from({ length: Math.min(runners, jobs.length) }, runner));
  await writer.flush();
  if (signal.aborted) {
    throw new EvaluationError({
      code: 'eval/aborted',
      message: `run aborted after ${progress.done} of ${jobs.length} samples; run it again with the same --out to resume`,
      cause: signal.reason,
    });
  }
  if (options.calibration && options.calibration.length > 0 && options.judge) {
    const judge = options.judge;
    const limiter = limiterFor(judge);
    const calibration = await calibrateJudge({
      judge,
      items: options.calibration,
      ...(suite.kind === 'agentic-misalignment' ? { suite } : {}),
      ...(specText === undefined ? {} : { specText }),
      ...(signal ? { signal } : {}),
      ...(options.callTimeoutMs === undefined ? {} : { timeoutMs: options.callTimeoutMs }),
      call: (fn) => limiter.run(fn),
    });
    await writeFile(
      join(options.outDir, CALIBRATION_FILE),
      `${JSON.stringify(calibration, null, 2)}\n`,
    );
  }
  return { ...progress, outDir: options.outDir, warnings: manifest.warnings };
}
