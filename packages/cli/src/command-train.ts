import { resolve } from 'node:path';
import { type Run, RunSpec, RunState, StageKind, type WorkerClient } from '@midspec/proto';
import {
  curriculumExperiment,
  loadCurriculum,
  planTrainingExperiment,
  runIdempotencyKey,
  submitExperiment,
  uploadDataset,
  watchRunEvents,
} from '@midspec/trainer';
import type { Command } from 'commander';
import { CliExit } from './cli-exit.js';
import type { CliIo } from './cli-io.js';
import { CliUsageError } from './cli-usage-error.js';
import { interruptible } from './interrupt.js';
import { printResult, withJsonOption } from './json-output.js';
import { parseInteger, parsePositiveNumber } from './option-parsers.js';
import { ProgressBar } from './progress-bar.js';
import { formatRate, RunEventsDisplay, stateName } from './run-progress.js';
import { openWorkerSession } from './worker-session.js';

interface TrainOptions {
  worker?: string;
  text?: string;
  chat?: string;
  model: string;
  name?: string;
  seed?: number;
  adapter?: 'lora' | 'full';
  loraR?: number;
  lr?: number;
  epochs?: number;
  maxSteps?: number;
  maxLength?: number;
  batchSize?: number;
  dataDir: string;
  python?: string;
  detach?: boolean;
  json?: boolean;
}

export function registerTrainCommand(program: Command, io: CliIo): void {
  withJsonOption(program.command('train [curriculum]'))
    .description(
      'Train a model: the stages of a CURRICULUM.yaml, or a midtrain stage on --text documents then an sft ' +
        'stage on --chat conversations. Without --worker (or MIDSPEC_WORKER) a local worker is started for ' +
        'the run and stopped after it.',
    )
    .option('--worker <address>', 'worker HOST:PORT (env MIDSPEC_WORKER)')
    .option('--text <file>', 'JSONL of {"text": ...} documents for the midtrain stage')
    .option('--chat <file>', 'JSONL of {"messages": [...]} chats for the sft stage')
    .option(
      '--model <model>',
      'base model: tiny:<name>, a local Hugging Face folder, or a hub id',
      'tiny:llama',
    )
    .option('--name <name>', 'a name for the run')
    .option('--seed <n>', 'seed (default 0, or the curriculum seed)', parseInteger)
    .option('--adapter <kind>', "lora or full (default: the worker's)", parseAdapter)
    .option('--lora-r <n>', "LoRA rank (default: the worker's)", parseInteger)
    .option('--lr <rate>', "peak learning rate (default: the worker's)", parsePositiveNumber)
    .option('--epochs <n>', "epochs per stage (default: the worker's)", parsePositiveNumber)
    .option('--max-steps <n>', 'cap each stage at this many optimizer steps', parseInteger)
    .option('--max-length <n>', "tokens per packed row (default: the worker's)", parseInteger)
    .option('--batch-size <n>', "rows per micro-batch (default: the worker's)", parseInteger)
    .option(
      '--data-dir <dir>',
      'data folder of the local worker (when no --worker)',
      '.midspec/worker',
    )
    .option('--python <path>', 'Python for the local worker (env MIDSPEC_WORKER_PYTHON)')
    .option('--detach', 'submit the run, print its id and return without watching')
    .action(async (curriculumFile: string | undefined, options: TrainOptions) => {
      if (curriculumFile && (options.text || options.chat))
        throw new CliUsageError('pass a CURRICULUM.yaml or --text/--chat, not both');
      if (!curriculumFile && !options.text && !options.chat)
        throw new CliUsageError(
          'nothing to train on: pass CURRICULUM.yaml, or --text FILE and/or --chat FILE',
        );
      // Check the curriculum and its data before starting or contacting any worker.
      const plan = curriculumFile
        ? await planTrainingExperiment(
            curriculumExperiment(
              await loadCurriculum(resolve(io.cwd, curriculumFile)),
              options.seed === undefined ? undefined : [options.seed],
            ),
          )
        : undefined;
      // The run goes on without this command (on a local worker it resumes from its last checkpoint
      // when the worker next starts); a curriculum's run is found again by its idempotency key.
      await interruptible(io, 'rerun the same command to resume', async (signal) => {
        const session = await openWorkerSession(io, {
          ...options,
          allowLocal: true,
          ...(options.detach && {
            why: '--detach needs a long-lived worker: pass --worker HOST:PORT',
          }),
          signal,
        });
        try {
          let run: Run;
          if (plan) {
            const submitted = await submitExperiment(session.client, plan, {
              signal,
              onUploadProgress: uploadBars(io),
              onUploaded: (dataset, uploaded) =>
                io.stderr.write(
                  `${dataset.name}: ${uploaded.dataset.numRecords} records, ${uploaded.dataset.sizeBytes} bytes${uploaded.alreadyExisted ? ' (already on the worker)' : ' uploaded'}\n`,
                ),
            });
            const first = submitted[0];
            if (!first) throw new CliUsageError('the curriculum has no stages to train');
            run = first.run;
            if (first.alreadyExisted)
              io.stderr.write(
                `run ${run.id} was already submitted with this exact curriculum (idempotency key ${first.planned.idempotencyKey}); following it\n`,
              );
          } else {
            run = await submitFlags(session.client, options, io, signal);
          }
          if (options.detach) {
            printResult(
              io,
              options,
              { runId: run.id, effectiveSpec: effectiveSpecJson(run) },
              () => `${run.id}\n`,
            );
            return;
          }
          await follow(session.client, run, io, signal, options);
        } finally {
          await session.close();
        }
      });
    });
}

function parseAdapter(value: string): 'lora' | 'full' {
  if (value !== 'lora' && value !== 'full')
    throw new CliUsageError(`--adapter must be lora or full, not "${value}"`);
  return value;
}

/** Files smaller than this are read in a blink: no bar. */
const BAR_MIN_BYTES = 8 * 1024 * 1024;

/** One progress bar per dataset while it is validated, then uploaded (large files only). */
export function uploadBars(io: CliIo) {
  const bars = new Map<string, ProgressBar>();
  return (
    dataset: { name: string },
    progress: { phase: string; bytes: number; totalBytes: number },
  ) => {
    if (progress.totalBytes < BAR_MIN_BYTES) return;
    const key = `${dataset.name} ${progress.phase}`;
    let bar = bars.get(key);
    if (!bar) {
      bar = new ProgressBar(io.stderr, key, progress.totalBytes);
      bars.set(key, bar);
    }
    bar.update(progress.bytes, { MB: (progress.bytes / 1e6).toFixed(1) });
    if (progress.bytes >= progress.totalBytes) bar.done();
  };
}

async function upload(
  client: WorkerClient,
  io: CliIo,
  file: string,
  format: 'text' | 'chat',
  signal: AbortSignal,
) {
  const bars = uploadBars(io);
  const { dataset, alreadyExisted } = await uploadDataset(client, resolve(io.cwd, file), {
    format,
    signal,
    onProgress: (progress) => bars({ name: file }, progress),
  });
  io.stderr.write(
    `${file}: ${dataset.numRecords} records, ${dataset.sizeBytes} bytes${alreadyExisted ? ' (already on the worker)' : ' uploaded'}\n`,
  );
  return dataset.id;
}

/**
 * The RunSpec of --text/--chat: only what the flags set. The worker applies the training defaults
 * runs.proto documents (the same a curriculum or `midspec run` gets), so the flags and a curriculum
 * that says the same train the same.
 */
function buildSpec(options: TrainOptions, datasets: { text?: string; chat?: string }): RunSpec {
  const lora = options.loraR === undefined ? {} : { r: options.loraR };
  const stage = {
    ...(options.lr !== undefined && { optimizer: { learningRate: options.lr } }),
    ...((options.epochs !== undefined || options.maxSteps !== undefined) && {
      budget: {
        ...(options.epochs !== undefined && { epochs: options.epochs }),
        ...(options.maxSteps !== undefined && { maxSteps: options.maxSteps }),
      },
    }),
    ...(options.maxLength !== undefined && { packing: { maxLength: options.maxLength } }),
    ...(options.batchSize !== undefined && { microBatchSize: options.batchSize }),
    ...(options.adapter === 'full'
      ? { adapter: { adapter: { $case: 'full' as const, full: {} } } }
      : (options.adapter === 'lora' || options.loraR !== undefined) && {
          adapter: { adapter: { $case: 'lora' as const, lora } },
        }),
  };
  const stages = [];
  if (datasets.text)
    stages.push({
      ...stage,
      kind: StageKind.STAGE_KIND_MIDTRAIN,
      data: [{ datasetId: datasets.text }],
    });
  if (datasets.chat)
    stages.push({ ...stage, kind: StageKind.STAGE_KIND_SFT, data: [{ datasetId: datasets.chat }] });
  return RunSpec.fromPartial({
    name: options.name ?? 'midspec-train',
    baseModel: options.model,
    seed: options.seed ?? 0,
    stages,
  });
}

async function submitFlags(
  client: WorkerClient,
  options: TrainOptions,
  io: CliIo,
  signal: AbortSignal,
): Promise<Run> {
  const text = options.text ? await upload(client, io, options.text, 'text', signal) : undefined;
  const chat = options.chat ? await upload(client, io, options.chat, 'chat', signal) : undefined;
  const spec = buildSpec(options, { text, chat });
  // Keyed by its inputs like the curriculum path, so a rerun after Ctrl-C follows the same run
  // (or starts its next attempt when it failed or was cancelled) instead of duplicating it.
  const idempotencyKey = runIdempotencyKey(spec);
  const response = await client.submitRun({ spec, idempotencyKey }, { signal });
  const run = response.run;
  if (!run) throw new CliUsageError('the worker accepted the run but returned none');
  if (response.newAttempt)
    io.stderr.write(
      `run ${run.id} failed or was cancelled before: attempt ${run.attempt} started\n`,
    );
  else if (response.alreadyExisted)
    io.stderr.write(
      `run ${run.id} was already submitted with these inputs (idempotency key ${idempotencyKey}); following it\n`,
    );
  return run;
}

async function follow(
  client: WorkerClient,
  submitted: Run,
  io: CliIo,
  signal: AbortSignal,
  options: { json?: boolean },
): Promise<void> {
  io.stderr.write(`run ${submitted.id} submitted\n`);
  const started = Date.now();
  const progress = new RunEventsDisplay(io.stderr, (line) => io.stderr.write(`${line}\n`));
  for await (const event of watchRunEvents(client, submitted.id, { signal }))
    progress.handle(event);
  progress.close();
  const final = await client.getRun({ runId: submitted.id }, { signal });
  const seconds = (Date.now() - started) / 1000;
  const checkpoints = (await client.listCheckpoints({ runId: final.id }, { signal })).checkpoints;
  const last = checkpoints.find((checkpoint) => checkpoint.final) ?? checkpoints.at(-1);
  const stages = progress.stages.filter(Boolean);
  printResult(
    io,
    options,
    {
      runId: final.id,
      state: stateName(final.state),
      seconds,
      stages: stages.map((stage) => ({
        name: stage.name,
        steps: stage.steps,
        initialLoss: stage.initialLoss,
        finalLoss: stage.finalLoss,
        tokensPerSecond: stage.tokensPerSecond,
      })),
      checkpoint: last ? last.localPath || `${final.id}/${last.id}` : null,
      effectiveSpec: effectiveSpecJson(final),
    },
    () =>
      `run ${final.id} ${stateName(final.state)} in ${seconds.toFixed(1)}s\n${stages
        .map(
          (stage) =>
            `  ${stage.name.padEnd(10)} loss ${stage.initialLoss?.toFixed(4) ?? '?'} -> ${stage.finalLoss?.toFixed(4) ?? '?'}` +
            `  (${stage.steps} steps, ${formatRate(stage.tokensPerSecond ?? 0)} tok/s)\n`,
        )
        .join('')}${last ? `checkpoint: ${last.localPath || `${final.id}/${last.id}`}\n` : ''}`,
  );
  if (final.state !== RunState.RUN_STATE_SUCCEEDED) {
    io.stderr.write(
      `error: run ${final.id} ${stateName(final.state)}: ${final.error?.message ?? progress.errorMessage ?? 'no reason given'}\n`,
    );
    throw new CliExit(1);
  }
}

/** The spec as the worker trains it, every default applied (null from workers that predate it). */
function effectiveSpecJson(run: Run): unknown {
  return run.effectiveSpec ? RunSpec.toJSON(run.effectiveSpec) : null;
}
