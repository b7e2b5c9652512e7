import { randomUUID } from 'node:crypto';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  type Checkpoint,
  CheckpointFormat,
  type Metrics,
  type Run,
  type RunError,
  type RunEvent,
  RunSpec,
  RunState,
  StageKind,
} from '@midspec/proto';
import type { DatasetStore } from './dataset-store.js';
import { type ProgressLine, startTraining, type TrainingProcess } from './training-command.js';
import { badState, idempotencyConflict, invalidRequest, runNotFound } from './worker-errors.js';

type EventBody = NonNullable<RunEvent['event']>;

interface RunRecord {
  run: Run;
  specJson: string;
  events: RunEvent[];
  checkpoints: Checkpoint[];
  directory: string;
  process?: TrainingProcess;
  cancelRequested: boolean;
  /** Wakes every watcher when an event is appended. */
  waiters: Set<() => void>;
}

const FINAL = new Set([
  RunState.RUN_STATE_SUCCEEDED,
  RunState.RUN_STATE_FAILED,
  RunState.RUN_STATE_CANCELLED,
]);

export interface RunManagerOptions {
  directory: string;
  datasets: DatasetStore;
  /** The shell command that trains one run (see training-command.ts for its protocol). */
  trainCommand: string;
  heartbeatMs?: number;
}

/**
 * Runs and their numbered event logs. Runs live in memory here; an adapter for a real job system
 * keeps them in that system's database so that they survive a restart of this process.
 */
export class RunManager {
  private readonly runs = new Map<string, RunRecord>();
  private readonly byKey = new Map<string, string>();

  constructor(private readonly options: RunManagerOptions) {}

  async submit(
    spec: RunSpec,
    idempotencyKey: string,
  ): Promise<{ run: Run; alreadyExisted: boolean; newAttempt: boolean }> {
    const specJson = JSON.stringify(RunSpec.toJSON(spec));
    const existingId = idempotencyKey ? this.byKey.get(idempotencyKey) : undefined;
    if (existingId) {
      const existing = this.record(existingId);
      if (existing.specJson !== specJson) throw idempotencyConflict(idempotencyKey);
      return { run: existing.run, alreadyExisted: true, newAttempt: false };
    }
    this.checkSpec(spec);
    const id = `run-${randomUUID().slice(0, 12)}`;
    const record: RunRecord = {
      run: {
        id,
        spec,
        state: RunState.RUN_STATE_QUEUED,
        createdAt: new Date(),
        startedAt: undefined,
        finishedAt: undefined,
        stageIndex: 0,
        step: 0,
        totalSteps: 0,
        error: undefined,
        lastSeq: 0,
        idempotencyKey,
        latestMetrics: undefined,
        attempt: 1,
      },
      specJson,
      events: [],
      checkpoints: [],
      directory: join(this.options.directory, id),
      cancelRequested: false,
      waiters: new Set(),
    };
    this.runs.set(id, record);
    if (idempotencyKey) this.byKey.set(idempotencyKey, id);
    this.setState(record, RunState.RUN_STATE_QUEUED, '');
    setImmediate(() => {
      this.start(record).catch((error: unknown) =>
        this.finish(record, RunState.RUN_STATE_FAILED, {
          reason: 'ERROR_REASON_INTERNAL',
          message: error instanceof Error ? error.message : String(error),
          retryable: true,
        }),
      );
    });
    return { run: record.run, alreadyExisted: false, newAttempt: false };
  }

  get(id: string): Run {
    return this.record(id).run;
  }

  list(states: RunState[], labels: Record<string, string>): Run[] {
    return [...this.runs.values()]
      .map((record) => record.run)
      .filter((run) => states.length === 0 || states.includes(run.state))
      .filter((run) =>
        Object.entries(labels).every(([key, value]) => run.spec?.labels[key] === value),
      );
  }

  checkpoints(id: string): Checkpoint[] {
    return this.record(id).checkpoints;
  }

  cancel(id: string): Run {
    const record = this.record(id);
    const { state } = record.run;
    if (state === RunState.RUN_STATE_SUCCEEDED || state === RunState.RUN_STATE_FAILED)
      throw badState(`run ${id} already finished as ${RunState[state]}`);
    if (state === RunState.RUN_STATE_CANCELLED) return record.run;
    record.cancelRequested = true;
    if (record.process) record.process.stop();
    else this.finish(record, RunState.RUN_STATE_CANCELLED, undefined, 'cancelled while queued');
    return record.run;
  }

  /** Stored events after `afterSeq`, then live ones until the run is final; heartbeats when idle. */
  async *watch(id: string, afterSeq: number, signal: AbortSignal): AsyncGenerator<RunEvent> {
    const record = this.record(id);
    let last = afterSeq;
    while (!signal.aborted) {
      const fresh = record.events.filter((event) => event.seq > last);
      for (const event of fresh) {
        yield event;
        last = event.seq;
      }
      if (fresh.length > 0) continue;
      if (FINAL.has(record.run.state) && record.run.lastSeq <= last) return;
      const woke = await this.waitForEvent(record, signal);
      if (!woke && !signal.aborted)
        yield {
          seq: record.run.lastSeq,
          runId: id,
          time: new Date(),
          event: { $case: 'heartbeat', heartbeat: {} },
        };
    }
  }

  /** Stops every training command (on shutdown). */
  close(): void {
    for (const record of this.runs.values()) record.process?.stop();
  }

  private record(id: string): RunRecord {
    const record = this.runs.get(id);
    if (!record) throw runNotFound(id);
    return record;
  }

  private checkSpec(spec: RunSpec): void {
    const problems: string[] = [];
    if (!spec.baseModel) problems.push('base_model is required');
    if (spec.stages.length === 0) problems.push('a run needs at least one stage');
    for (const [index, stage] of spec.stages.entries()) {
      if (stage.kind === StageKind.STAGE_KIND_UNSPECIFIED)
        problems.push(`stages[${index}].kind is required`);
      if (stage.data.length === 0) problems.push(`stages[${index}].data is empty`);
    }
    if (problems.length > 0) throw invalidRequest(`invalid run spec: ${problems.join('; ')}`);
    // Unknown datasets are NOT_FOUND, so this comes after the request's own shape.
    for (const stage of spec.stages)
      for (const source of stage.data) this.options.datasets.get(source.datasetId);
  }

  private async start(record: RunRecord): Promise<void> {
    if (record.cancelRequested) return;
    await mkdir(record.directory, { recursive: true });
    const spec = record.run.spec as RunSpec;
    // Everything the command needs, in one file: the spec as proto3 JSON plus local dataset paths.
    const runFile = join(record.directory, 'run.json');
    await writeFile(
      runFile,
      JSON.stringify(
        {
          runId: record.run.id,
          spec: RunSpec.toJSON(spec),
          datasets: Object.fromEntries(
            spec.stages.flatMap((stage) =>
              stage.data.map((source) => [
                source.datasetId,
                this.options.datasets.path(source.datasetId),
              ]),
            ),
          ),
        },
        null,
        2,
      ),
    );
    record.run.startedAt = new Date();
    this.setState(record, RunState.RUN_STATE_RUNNING, 'training command started');
    let reported: RunError | undefined;
    // Lines are handled one at a time, in order, so that events keep the command's order.
    let handled = Promise.resolve();
    record.process = startTraining({
      command: this.options.trainCommand,
      runDirectory: record.directory,
      env: { MIDSPEC_RUN_FILE: runFile, MIDSPEC_RUN_DIR: record.directory },
      onLine: (line) => {
        if (line.event === 'error')
          reported = {
            reason: line.reason ?? 'ERROR_REASON_INTERNAL',
            message: line.message,
            retryable: line.retryable ?? false,
          };
        else handled = handled.then(() => this.onProgress(record, line));
      },
    });
    const code = await record.process.exited;
    await handled;
    if (record.cancelRequested) this.finish(record, RunState.RUN_STATE_CANCELLED);
    else if (code === 0 && !reported) {
      if (record.checkpoints.some((checkpoint) => checkpoint.final))
        this.finish(record, RunState.RUN_STATE_SUCCEEDED);
      else
        this.finish(record, RunState.RUN_STATE_FAILED, {
          reason: 'ERROR_REASON_INTERNAL',
          message: 'the training command exited without saving a final checkpoint',
          retryable: false,
        });
    } else
      this.finish(
        record,
        RunState.RUN_STATE_FAILED,
        reported ?? {
          reason: 'ERROR_REASON_INTERNAL',
          message: `the training command exited with code ${code}`,
          retryable: true,
        },
      );
  }

  private async onProgress(record: RunRecord, line: Exclude<ProgressLine, { event: 'error' }>) {
    const run = record.run;
    switch (line.event) {
      case 'stage-started':
        run.stageIndex = line.stage;
        run.totalSteps = line.totalSteps ?? 0;
        run.step = 0;
        this.append(record, {
          $case: 'stageStarted',
          stageStarted: {
            stageIndex: line.stage,
            name: line.name ?? run.spec?.stages[line.stage]?.name ?? '',
            totalSteps: line.totalSteps ?? 0,
            numTokens: line.numTokens ?? 0,
            packingEfficiency: 0,
            initialLoss: line.initialLoss ?? 0,
          },
        });
        return;
      case 'metrics': {
        const metrics: Metrics = {
          stageIndex: line.stage,
          step: line.step,
          totalSteps: line.totalSteps ?? run.totalSteps,
          loss: line.loss,
          learningRate: line.learningRate ?? 0,
          gradNorm: line.gradNorm ?? 0,
          tokensPerSecond: line.tokensPerSecond ?? 0,
          tokensSeen: line.tokensSeen ?? 0,
          mfu: 0,
          packingEfficiency: 0,
          epoch: 0,
        };
        run.step = line.step;
        run.latestMetrics = metrics;
        this.append(record, { $case: 'metrics', metrics });
        return;
      }
      case 'checkpoint-saved': {
        const path = resolve(record.directory, line.path);
        const checkpoint: Checkpoint = {
          id: `stage-${line.stage}-step-${line.step}`,
          runId: run.id,
          stageIndex: line.stage,
          step: line.step,
          final: line.final ?? false,
          formats: [CheckpointFormat.CHECKPOINT_FORMAT_ADAPTER],
          createdAt: new Date(),
          sizeBytes: await folderSize(path),
          localPath: path,
        };
        record.checkpoints.push(checkpoint);
        this.append(record, { $case: 'checkpointSaved', checkpointSaved: { checkpoint } });
        return;
      }
      case 'stage-finished':
        this.append(record, {
          $case: 'stageFinished',
          stageFinished: { stageIndex: line.stage, finalLoss: line.finalLoss ?? 0 },
        });
        return;
      case 'log':
        this.append(record, {
          $case: 'log',
          log: { level: line.level ?? 'info', message: line.message },
        });
        return;
    }
  }

  private finish(record: RunRecord, state: RunState, error?: RunError, message = '') {
    if (FINAL.has(record.run.state)) return;
    record.run.finishedAt = new Date();
    record.run.error = error;
    this.setState(record, state, message || error?.message || '', error);
  }

  private setState(record: RunRecord, state: RunState, message: string, error?: RunError) {
    record.run.state = state;
    const attempt = record.run.attempt;
    this.append(record, {
      $case: 'stateChanged',
      stateChanged: { state, error, message, attempt },
    });
  }

  private append(record: RunRecord, event: EventBody): void {
    const seq = record.run.lastSeq + 1;
    record.events.push({ seq, runId: record.run.id, time: new Date(), event });
    record.run.lastSeq = seq;
    for (const wake of record.waiters) wake();
    record.waiters.clear();
  }

  /** True when an event arrived, false after the heartbeat interval or an abort. */
  private waitForEvent(record: RunRecord, signal: AbortSignal): Promise<boolean> {
    return new Promise((done) => {
      const wake = () => settle(true);
      const abort = () => settle(false);
      const timer = setTimeout(() => settle(false), this.options.heartbeatMs ?? 5_000);
      const settle = (woke: boolean) => {
        clearTimeout(timer);
        record.waiters.delete(wake);
        signal.removeEventListener('abort', abort);
        done(woke);
      };
      record.waiters.add(wake);
      signal.addEventListener('abort', abort, { once: true });
    });
  }
}

async function folderSize(path: string): Promise<number> {
  const entries = await readdir(path, { withFileTypes: true, recursive: true }).catch(() => []);
  let total = 0;
  for (const entry of entries)
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  return total;
}
