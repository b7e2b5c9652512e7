import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type {
  ServerUnaryCall,
  ServerWritableStream,
  ServiceError,
  sendUnaryData,
} from '@grpc/grpc-js';
import {
  type CheckpointFile,
  CheckpointFormat,
  type GetCapabilitiesResponse,
  LossMask,
  StageKind,
  type UploadDatasetRequest,
  type WorkerServer,
} from '@midspec/proto';
import type { DatasetStore } from './dataset-store.js';
import type { RunManager } from './run-manager.js';
import {
  checkpointNotFound,
  invalidRequest,
  toServiceError,
  unsupported,
} from './worker-errors.js';

const IMPLEMENTED_RPCS = [
  'GetCapabilities',
  'UploadDataset',
  'GetUploadStatus',
  'GetDataset',
  'ListDatasets',
  'SubmitRun',
  'GetRun',
  'ListRuns',
  'WatchRun',
  'CancelRun',
  'ListCheckpoints',
  'DownloadCheckpoint',
];
const CHUNK_BYTES = 1024 * 1024;

export interface WorkerServiceOptions {
  datasets: DatasetStore;
  runs: RunManager;
  /** Base models the training command accepts, advertised as built-in (the conformance suite trains the first). */
  models: string[];
}

/** Turns a handler's promise into the grpc-js callback, with contract errors as trailing metadata. */
function unary<Request, Response>(
  handle: (request: Request) => Response | Promise<Response>,
): (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>) => void {
  return (call, callback) => {
    Promise.resolve()
      .then(() => handle(call.request))
      .then(
        (response) => callback(null, response),
        (error: unknown) => callback(toServiceError(error)),
      );
  };
}

/** Streams `messages` to the call, honouring back-pressure, ending with a status either way. */
async function stream<Response>(
  call: ServerWritableStream<unknown, Response>,
  messages: (signal: AbortSignal) => AsyncIterable<Response>,
): Promise<void> {
  const controller = new AbortController();
  const onCancel = () => controller.abort();
  call.on('cancelled', onCancel);
  try {
    for await (const message of messages(controller.signal)) {
      if (controller.signal.aborted) break;
      if (!call.write(message)) await new Promise((resolve) => call.once('drain', resolve));
    }
    if (!controller.signal.aborted) call.end();
  } catch (error) {
    if (!controller.signal.aborted) call.emit('error', toServiceError(error) as ServiceError);
  } finally {
    call.off('cancelled', onCancel);
  }
}

/** The `midspec.worker.v1.Worker` handlers over a dataset store and a run manager. */
export function createWorkerService(options: WorkerServiceOptions): WorkerServer {
  const { datasets, runs } = options;
  return {
    getCapabilities: unary(
      (): GetCapabilitiesResponse => ({
        workerName: 'midspec-byow-example',
        workerVersion: '0.0.0',
        protocolVersion: 'midspec.worker.v1',
        modelFamilies: ['external'],
        builtinModels: options.models,
        maxSequenceLength: 4096,
        supportsLora: true,
        supportsFullFinetune: false,
        dtypes: ['float32'],
        devices: ['cpu'],
        maxWorldSize: 1,
        stageKinds: [StageKind.STAGE_KIND_MIDTRAIN, StageKind.STAGE_KIND_SFT],
        lossMasks: [LossMask.LOSS_MASK_ALL_TOKENS, LossMask.LOSS_MASK_ASSISTANT_ONLY],
        checkpointFormats: [CheckpointFormat.CHECKPOINT_FORMAT_ADAPTER],
        libraryVersions: { node: process.versions.node },
        implementedRpcs: IMPLEMENTED_RPCS,
      }),
    ),

    uploadDataset(call, callback) {
      const messages = call[Symbol.asyncIterator]() as AsyncIterator<UploadDatasetRequest>;
      async function* chunks(): AsyncGenerator<Uint8Array> {
        for (;;) {
          const next = await messages.next();
          if (next.done) return;
          if (next.value.part?.$case !== 'chunk')
            throw invalidRequest('only chunks may follow the header');
          yield next.value.part.chunk;
        }
      }
      (async () => {
        const first = await messages.next();
        const part = first.done ? undefined : first.value.part;
        if (part?.$case !== 'header') throw invalidRequest('the first message must be a header');
        return datasets.upload(part.header, chunks());
      })().then(
        (response) => callback(null, response),
        (error: unknown) => callback(toServiceError(error)),
      );
    },
    getUploadStatus: unary(async ({ sha256 }) => {
      const status = await datasets.status(sha256);
      return { ...status, dataset: status.complete ? datasets.get(sha256) : undefined };
    }),
    getDataset: unary(({ datasetId }) => datasets.get(datasetId)),
    listDatasets: unary(() => ({ datasets: datasets.list() })),

    submitRun: unary(({ spec, idempotencyKey }) => {
      if (!spec) throw invalidRequest('spec is required');
      return runs.submit(spec, idempotencyKey);
    }),
    getRun: unary(({ runId }) => runs.get(runId)),
    listRuns: unary(({ states, labels }) => ({ runs: runs.list(states, labels) })),
    cancelRun: unary(({ runId }) => runs.cancel(runId)),
    watchRun(call) {
      void stream(call, (signal) => runs.watch(call.request.runId, call.request.afterSeq, signal));
    },

    listCheckpoints: unary(({ runId }) => ({ checkpoints: runs.checkpoints(runId) })),
    downloadCheckpoint(call) {
      void stream(call, async function* () {
        const { runId, checkpointId, format } = call.request;
        const all = runs.checkpoints(runId);
        const checkpoint = checkpointId ? all.find((item) => item.id === checkpointId) : all.at(-1);
        if (!checkpoint) throw checkpointNotFound(`run ${runId} has no checkpoint ${checkpointId}`);
        if (
          format !== CheckpointFormat.CHECKPOINT_FORMAT_UNSPECIFIED &&
          format !== CheckpointFormat.CHECKPOINT_FORMAT_ADAPTER
        )
          throw unsupported(`checkpoint format ${CheckpointFormat[format]} is not offered`);
        const files = await describeFiles(checkpoint.localPath);
        yield {
          part: {
            $case: 'manifest' as const,
            manifest: { checkpoint, format: CheckpointFormat.CHECKPOINT_FORMAT_ADAPTER, files },
          },
        };
        for (const file of files) {
          let offset = 0;
          const input = createReadStream(join(checkpoint.localPath, file.path), {
            highWaterMark: CHUNK_BYTES,
          });
          for await (const data of input as AsyncIterable<Buffer>) {
            yield { part: { $case: 'chunk' as const, chunk: { path: file.path, offset, data } } };
            offset += data.length;
          }
        }
      });
    },

    sample: unary(() => {
      throw unsupported('this worker only trains; Sample is not implemented');
    }),
    sampleStream(call) {
      void stream(call, () => {
        throw unsupported('this worker only trains; SampleStream is not implemented');
      });
    },
    scoreLogprobs: unary(() => {
      throw unsupported('this worker only trains; ScoreLogprobs is not implemented');
    }),
    tokenize: unary(() => {
      throw unsupported('this worker only trains; Tokenize is not implemented');
    }),
  };
}

/** Every file under a checkpoint folder with its size and sha256, paths relative and sorted. */
async function describeFiles(folder: string): Promise<CheckpointFile[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  const files: CheckpointFile[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const hash = createHash('sha256');
    let sizeBytes = 0;
    for await (const block of createReadStream(path) as AsyncIterable<Buffer>) {
      hash.update(block);
      sizeBytes += block.length;
    }
    files.push({ path: relative(folder, path), sizeBytes, sha256: hash.digest('hex') });
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}
