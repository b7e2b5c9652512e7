import { resolve } from 'node:path';
import {
  createWorkerClient,
  DatasetFormat,
  type RunSpec,
  RunState,
  StageKind,
  type WorkerClient,
  WorkerError,
} from '@midspec/proto';
import type { Command } from 'commander';
import { CliExit } from './cli-exit.js';
import type { CliIo } from './cli-io.js';
import { CliUsageError } from './cli-usage-error.js';
import { uploadDatasetFile } from './dataset-upload.js';
import { followRun } from './follow-run.js';
import { type LocalWorker, startLocalWorker } from './local-worker.js';
import { parseInteger, parsePositiveNumber } from './option-parsers.js';
import { formatRate, RunProgress, stateName } from './run-progress.js';
import { optionalWorkerAddress } from './worker-address.js';

interface TrainOptions {
  worker?: string;
  text?: string;
  chat?: string;
  model: string;
  name?: string;
  seed: number;
  adapter: 'lora' | 'full';
  loraR?: number;
  lr?: number;
  epochs?: number;
  maxSteps?: number;
  maxLength?: number;
  batchSize?: number;
  dataDir: string;
  python?: string;
  detach?: boolean;
}

export function registerTrainCommand(program: Command, io: CliIo): void {
  program
    .command('train')
    .description(
      'Train a model: a midtrain stage on --text documents, then an sft stage on --chat conversations. ' +
        'Without --worker (or MIDSPEC_WORKER) a local worker is started for the run and stopped after it.',
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
    .option('--seed <n>', 'seed', parseInteger, 0)
    .option('--adapter <kind>', 'lora or full', parseAdapter, 'lora')
    .option('--lora-r <n>', 'LoRA rank (worker default: 64)', parseInteger)
    .option('--lr <rate>', 'peak learning rate (worker default: 1e-4)', parsePositiveNumber)
    .option('--epochs <n>', 'epochs per stage (default 1)', parsePositiveNumber)
    .option('--max-steps <n>', 'cap each stage at this many optimizer steps', parseInteger)
    .option('--max-length <n>', 'tokens per packed row', parseInteger)
    .option('--batch-size <n>', 'rows per micro-batch', parseInteger)
    .option(
      '--data-dir <dir>',
      'data folder of the local worker (when no --worker)',
      '.midspec/worker',
    )
    .option('--python <path>', 'Python for the local worker (env MIDSPEC_WORKER_PYTHON)')
    .option('--detach', 'submit the run, print its id and return without watching')
    .action(async (options: TrainOptions) => {
      if (!options.text && !options.chat)
        throw new CliUsageError('nothing to train on: pass --text FILE and/or --chat FILE');
      const address = optionalWorkerAddress(options.worker, io.env);
      let local: LocalWorker | undefined;
      if (!address) {
        if (options.detach)
          throw new CliUsageError('--detach needs a long-lived worker: pass --worker HOST:PORT');
        io.stderr.write(
          'starting a local worker (pass --worker HOST:PORT to use a running one)…\n',
        );
        local = await startLocalWorker({
          dataDir: resolve(io.cwd, options.dataDir),
          python: options.python,
          env: io.env,
        });
        io.stderr.write(`local worker listening on ${local.address}\n`);
      }
      const client = createWorkerClient(address ?? (local as LocalWorker).address);
      const stopLocal = () => void local?.stop();
      process.once('SIGINT', stopLocal);
      try {
        await train(client, options, io);
      } finally {
        process.off('SIGINT', stopLocal);
        client.close();
        await local?.stop();
      }
    });
}

function parseAdapter(value: string): 'lora' | 'full' {
  if (value !== 'lora' && value !== 'full')
    throw new CliUsageError(`--adapter must be lora or full, not "${value}"`);
  return value;
}

async function upload(client: WorkerClient, io: CliIo, file: string, format: DatasetFormat) {
  const path = resolve(io.cwd, file);
  try {
    const { dataset, alreadyExisted } = await uploadDatasetFile(client, path, format);
    io.stderr.write(
      `${file}: ${dataset.numRecords} records, ${dataset.sizeBytes} bytes${alreadyExisted ? ' (already on the worker)' : ' uploaded'}\n`,
    );
    return dataset.id;
  } catch (error) {
    if (WorkerError.isInstance(error) && error.grpcStatus === 'INVALID_ARGUMENT') {
      const where = error.line === undefined ? file : `${file}:${error.line}`;
      throw new CliUsageError(`${where}: ${error.message}`, error);
    }
    throw error;
  }
}

function buildSpec(options: TrainOptions, datasets: { text?: string; chat?: string }): RunSpec {
  const stageCommon = {
    optimizer: { learningRate: options.lr ?? 0 },
    budget: { epochs: options.epochs ?? 0, maxSteps: options.maxSteps ?? 0 },
    packing: { enabled: true, maxLength: options.maxLength ?? 0 },
    microBatchSize: options.batchSize ?? 0,
    adapter:
      options.adapter === 'full'
        ? { adapter: { $case: 'full' as const, full: {} } }
        : { adapter: { $case: 'lora' as const, lora: { r: options.loraR ?? 0 } } },
  };
  const stages = [];
  if (datasets.text) {
    stages.push({
      ...stageCommon,
      name: 'midtrain',
      kind: StageKind.STAGE_KIND_MIDTRAIN,
      data: [{ datasetId: datasets.text, weight: 1 }],
    });
  }
  if (datasets.chat) {
    stages.push({
      ...stageCommon,
      name: 'sft',
      kind: StageKind.STAGE_KIND_SFT,
      data: [{ datasetId: datasets.chat, weight: 1 }],
      // The published recipe: fine-tuning keeps training the midtraining adapter.
      continueAdapter: Boolean(datasets.text) && options.adapter === 'lora',
    });
  }
  return {
    name: options.name ?? 'midspec-train',
    baseModel: options.model,
    seed: options.seed,
    stages,
  } as unknown as RunSpec;
}

async function train(client: WorkerClient, options: TrainOptions, io: CliIo): Promise<void> {
  const text = options.text
    ? await upload(client, io, options.text, DatasetFormat.DATASET_FORMAT_TEXT)
    : undefined;
  const chat = options.chat
    ? await upload(client, io, options.chat, DatasetFormat.DATASET_FORMAT_CHAT)
    : undefined;
  const { run } = await client.submitRun({ spec: buildSpec(options, { text, chat }) });
  if (!run) throw new CliUsageError('the worker accepted the run but returned none');
  if (options.detach) {
    io.stdout.write(`${run.id}\n`);
    return;
  }
  io.stderr.write(`run ${run.id} submitted\n`);
  const started = Date.now();
  const progress = new RunProgress(io.stderr, (line) => io.stderr.write(`${line}\n`));
  const final = await followRun(client, run.id, { onEvent: (event) => progress.handle(event) });
  progress.close();
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  io.stdout.write(`run ${final.id} ${stateName(final.state)} in ${seconds}s\n`);
  for (const stage of progress.stages.filter(Boolean)) {
    io.stdout.write(
      `  ${stage.name.padEnd(10)} loss ${stage.initialLoss?.toFixed(4) ?? '?'} -> ${stage.finalLoss?.toFixed(4) ?? '?'}` +
        `  (${stage.steps} steps, ${formatRate(stage.tokensPerSecond ?? 0)} tok/s)\n`,
    );
  }
  const checkpoints = (await client.listCheckpoints({ runId: final.id })).checkpoints;
  const last = checkpoints.find((checkpoint) => checkpoint.final) ?? checkpoints.at(-1);
  if (last) io.stdout.write(`checkpoint: ${last.localPath || `${final.id}/${last.id}`}\n`);
  if (final.state !== RunState.RUN_STATE_SUCCEEDED) {
    io.stderr.write(
      `error: run ${final.id} ${stateName(final.state)}: ${final.error?.message ?? progress.errorMessage ?? 'no reason given'}\n`,
    );
    throw new CliExit(1);
  }
}
