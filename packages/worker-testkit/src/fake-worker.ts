import { createHash } from 'node:crypto';
import {
  Server,
  ServerCredentials,
  type ServerDuplexStream,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import { stableJson } from '@midspec/core';
import {
  type Checkpoint,
  type Dataset,
  GetCapabilitiesResponse,
  LossMask,
  type ModelRef,
  Run,
  RunEvent,
  type RunSpec,
  RunState,
  StageKind,
  type WorkerServer,
  WorkerService,
} from '@midspec/proto';
import {
  checkpointStage,
  promptText,
  sampleWords,
  trainWordModels,
  WordModel,
  wordIds,
  words,
} from './fake-worker-model.js';
import { type FakeWorkerFaults, failure, fakeUploadHandlers } from './fake-worker-uploads.js';
import {
  decodeFields,
  encodeField,
  encodeVarintField,
  HEALTH_SERVICE,
  REFLECTION_SERVICES,
} from './grpc-probes.js';

export type { FakeWorkerFaults } from './fake-worker-uploads.js';

// An in-memory implementation of the worker contract for tests: faithful in what the trainer relies
// on (content-addressed resumable uploads, idempotent submission, numbered events, checkpoints) and
// able to fail on purpose (drop a stream or a connection mid-way) to test reconnects and retries.

export interface FakeWorker {
  address: string;
  faults: FakeWorkerFaults;
  capabilities: GetCapabilitiesResponse;
  /** Bytes of chunks received over all uploads. */
  uploadedBytes: number;
  uploadCalls: number;
  submitCalls: number;
  watchCalls: number;
  runs: Map<string, { run: Run; events: RunEvent[] }>;
  close(): Promise<void>;
}

const STEPS = 3;

export async function startFakeWorker(
  options: {
    stepMs?: number;
    faults?: FakeWorkerFaults;
    /** Report falling losses but learn nothing: what the conformance suite must catch. */
    trainsNothing?: boolean;
  } = {},
): Promise<FakeWorker> {
  const stepMs = options.stepMs ?? 5;
  const datasets = new Map<string, Dataset>();
  const contents = new Map<string, Buffer>();
  const base = new WordModel();
  const trained = new Map<string, WordModel[]>();
  const keys = new Map<string, { runId: string; spec: string }>();
  const listeners = new Set<() => void>();
  const timers = new Set<NodeJS.Timeout>();
  let nextRun = 1;
  const notify = () => {
    for (const listener of listeners) listener();
  };
  const state: FakeWorker = {
    address: '',
    faults: { ...options.faults },
    capabilities: GetCapabilitiesResponse.fromPartial({
      workerName: 'fake',
      workerVersion: '0.0.0',
      protocolVersion: 'midspec.worker.v1',
      builtinModels: ['tiny:llama'],
      maxSequenceLength: 2048,
      supportsLora: true,
      supportsFullFinetune: true,
      dtypes: ['float32'],
      devices: ['cpu'],
      maxWorldSize: 1,
      stageKinds: [StageKind.STAGE_KIND_MIDTRAIN, StageKind.STAGE_KIND_SFT],
      lossMasks: [LossMask.LOSS_MASK_ALL_TOKENS, LossMask.LOSS_MASK_ASSISTANT_ONLY],
      implementedRpcs: Object.values(WorkerService).map(
        (method) => method.path.split('/').at(-1) ?? '',
      ),
    }),
    uploadedBytes: 0,
    uploadCalls: 0,
    submitCalls: 0,
    watchCalls: 0,
    runs: new Map(),
    close: async () => {},
  };

  const emit = (runId: string, event: RunEvent['event']) => {
    const entry = state.runs.get(runId);
    if (!entry) return;
    entry.events.push(
      RunEvent.fromPartial({ seq: entry.events.length + 1, runId, time: new Date(), event }),
    );
    entry.run.lastSeq = entry.events.length;
    notify();
  };
  const setState = (runId: string, runState: RunState) => {
    const entry = state.runs.get(runId);
    if (!entry) return;
    entry.run.state = runState;
    emit(runId, {
      $case: 'stateChanged',
      stateChanged: { state: runState, message: '', attempt: entry.run.attempt },
    });
  };
  const checkpointOf = (runId: string, stageIndex: number, final: boolean): Checkpoint => ({
    id: final ? 'final' : `stage-${stageIndex + 1}-step-${STEPS}`,
    runId,
    stageIndex,
    step: STEPS,
    final,
    formats: [],
    createdAt: new Date(),
    sizeBytes: 64,
    localPath: '',
  });
  const train = (runId: string) => {
    const entry = state.runs.get(runId);
    if (!entry) return;
    const stages = entry.run.spec?.stages ?? [];
    const plan: (() => void)[] = [() => setState(runId, RunState.RUN_STATE_RUNNING)];
    stages.forEach((stage, stageIndex) => {
      plan.push(() =>
        emit(runId, {
          $case: 'stageStarted',
          stageStarted: {
            stageIndex,
            name: stage.name,
            totalSteps: STEPS,
            numTokens: 1000,
            packingEfficiency: 0.9,
            initialLoss: 4,
          },
        }),
      );
      for (let step = 1; step <= STEPS; step += 1)
        plan.push(() => {
          entry.run.stageIndex = stageIndex;
          entry.run.step = step;
          entry.run.totalSteps = STEPS;
          emit(runId, {
            $case: 'metrics',
            metrics: {
              stageIndex,
              step,
              totalSteps: STEPS,
              loss: 4 - step * 0.5,
              learningRate: 1e-4,
              gradNorm: 1,
              tokensPerSecond: 100,
              tokensSeen: step * 100,
              mfu: 0,
              packingEfficiency: 0.9,
              epoch: step / STEPS,
            },
          });
        });
      plan.push(() => {
        emit(runId, {
          $case: 'checkpointSaved',
          checkpointSaved: {
            checkpoint: checkpointOf(runId, stageIndex, stageIndex === stages.length - 1),
          },
        });
        emit(runId, {
          $case: 'stageFinished',
          stageFinished: { stageIndex, finalLoss: 4 - STEPS * 0.5 },
        });
      });
    });
    plan.push(() => {
      const spec = entry.run.spec;
      if (spec)
        trained.set(
          runId,
          options.trainsNothing
            ? spec.stages.map(() => base)
            : trainWordModels(base, spec, contents),
        );
      setState(runId, RunState.RUN_STATE_SUCCEEDED);
    });
    let index = 0;
    const tick = () => {
      if (entry.run.state === RunState.RUN_STATE_CANCELLED) return;
      plan[index++]?.();
      if (index < plan.length) {
        const timer = setTimeout(tick, stepMs);
        timers.add(timer);
      }
    };
    tick();
  };

  const getEntry = (runId: string) => {
    const entry = state.runs.get(runId);
    if (!entry)
      throw failure(status.NOT_FOUND, `run ${runId} not found`, 'ERROR_REASON_RUN_NOT_FOUND');
    return entry;
  };
  const unary =
    <T>(body: () => T) =>
    (_call: unknown, callback: (error: ServiceError | null, value?: T) => void) => {
      try {
        callback(null, body());
      } catch (error) {
        callback(error as ServiceError);
      }
    };
  const modelOf = (ref: ModelRef | undefined): WordModel => {
    if (ref?.ref?.$case !== 'checkpoint') return base;
    const stages = trained.get(ref.ref.checkpoint.runId);
    if (!stages)
      throw failure(
        status.NOT_FOUND,
        `run ${ref.ref.checkpoint.runId} has no checkpoint`,
        'ERROR_REASON_CHECKPOINT_NOT_FOUND',
      );
    const stage = checkpointStage(ref, stages.length) ?? stages.length - 1;
    const model = stages[stage];
    if (!model)
      throw failure(status.NOT_FOUND, 'no such checkpoint', 'ERROR_REASON_CHECKPOINT_NOT_FOUND');
    return model;
  };

  const implementation: WorkerServer = {
    getCapabilities: (_call, callback) => callback(null, state.capabilities),
    ...fakeUploadHandlers(state, datasets, contents),
    getDataset: (call, callback) =>
      unary(() => {
        const dataset = datasets.get(call.request.datasetId);
        if (!dataset)
          throw failure(status.NOT_FOUND, 'dataset not found', 'ERROR_REASON_DATASET_NOT_FOUND');
        return dataset;
      })(call, callback),
    listDatasets: unary(() => ({ datasets: [...datasets.values()] })),
    submitRun: (call, callback) => {
      state.submitCalls += 1;
      const { spec, idempotencyKey } = call.request;
      if (!spec || spec.stages.length === 0)
        return callback(
          failure(
            status.INVALID_ARGUMENT,
            'a run needs at least one stage',
            'ERROR_REASON_INVALID_REQUEST',
          ),
        );
      for (const stage of spec.stages)
        for (const source of stage.data)
          if (!datasets.has(source.datasetId))
            return callback(
              failure(
                status.NOT_FOUND,
                `dataset ${source.datasetId} not found`,
                'ERROR_REASON_DATASET_NOT_FOUND',
              ),
            );
      const canonical = stableJson(spec);
      const known = idempotencyKey ? keys.get(idempotencyKey) : undefined;
      if (known) {
        if (known.spec !== canonical)
          return callback(
            failure(
              status.ALREADY_EXISTS,
              `idempotency key ${idempotencyKey} was used for another spec`,
              'ERROR_REASON_IDEMPOTENCY_CONFLICT',
            ),
          );
        return callback(null, {
          run: getEntry(known.runId).run,
          alreadyExisted: true,
          newAttempt: false,
        });
      }
      const runId = `run-${nextRun++}`;
      const run = Run.fromPartial({
        id: runId,
        spec: spec as RunSpec,
        state: RunState.RUN_STATE_QUEUED,
        createdAt: new Date(),
        idempotencyKey,
        attempt: 1,
      });
      state.runs.set(runId, { run, events: [] });
      if (idempotencyKey) keys.set(idempotencyKey, { runId, spec: canonical });
      emit(runId, {
        $case: 'stateChanged',
        stateChanged: { state: RunState.RUN_STATE_QUEUED, message: '', attempt: 1 },
      });
      setTimeout(() => train(runId), stepMs);
      if (state.faults.loseSubmitResponses && state.faults.loseSubmitResponses > 0) {
        state.faults.loseSubmitResponses -= 1;
        return callback(
          failure(
            status.UNAVAILABLE,
            'response lost (fault injected)',
            'ERROR_REASON_INTERNAL',
            true,
          ),
        );
      }
      callback(null, { run, alreadyExisted: false, newAttempt: false });
    },
    getRun: (call, callback) => unary(() => getEntry(call.request.runId).run)(call, callback),
    listRuns: (call, callback) => {
      const runs = [...state.runs.values()]
        .map((entry) => entry.run)
        .filter(
          (run) =>
            (call.request.states.length === 0 || call.request.states.includes(run.state)) &&
            Object.entries(call.request.labels).every(
              ([key, value]) => run.spec?.labels[key] === value,
            ),
        );
      callback(null, { runs: runs.reverse() });
    },
    cancelRun: (call, callback) => {
      try {
        const entry = getEntry(call.request.runId);
        if (
          entry.run.state !== RunState.RUN_STATE_SUCCEEDED &&
          entry.run.state !== RunState.RUN_STATE_FAILED &&
          entry.run.state !== RunState.RUN_STATE_CANCELLED
        )
          setState(entry.run.id, RunState.RUN_STATE_CANCELLED);
        callback(null, entry.run);
      } catch (error) {
        callback(error as ServiceError);
      }
    },
    watchRun: (call) => {
      state.watchCalls += 1;
      const entry = state.runs.get(call.request.runId);
      if (!entry) {
        call.emit(
          'error',
          failure(status.NOT_FOUND, 'run not found', 'ERROR_REASON_RUN_NOT_FOUND'),
        );
        return;
      }
      let sent = Number(call.request.afterSeq);
      let sentThisStream = 0;
      const dropAfter =
        state.faults.dropWatches && state.faults.dropWatches > 0
          ? state.faults.dropWatchAfterEvents
          : undefined;
      if (dropAfter !== undefined) state.faults.dropWatches = (state.faults.dropWatches ?? 1) - 1;
      let closed = false;
      const pump = () => {
        if (closed) return;
        while (sent < entry.events.length) {
          if (dropAfter !== undefined && sentThisStream >= dropAfter) {
            closed = true;
            listeners.delete(pump);
            call.emit(
              'error',
              failure(
                status.UNAVAILABLE,
                'stream dropped (fault injected)',
                'ERROR_REASON_INTERNAL',
                true,
              ),
            );
            return;
          }
          call.write(entry.events[sent]);
          sent += 1;
          sentThisStream += 1;
        }
        const final = [
          RunState.RUN_STATE_SUCCEEDED,
          RunState.RUN_STATE_FAILED,
          RunState.RUN_STATE_CANCELLED,
        ].includes(entry.run.state);
        if (final) {
          closed = true;
          listeners.delete(pump);
          call.end();
        }
      };
      listeners.add(pump);
      call.on('cancelled', () => {
        closed = true;
        listeners.delete(pump);
      });
      pump();
    },
    listCheckpoints: (call, callback) => {
      try {
        const entry = getEntry(call.request.runId);
        const checkpoints = entry.events.flatMap((event) =>
          event.event?.$case === 'checkpointSaved' && event.event.checkpointSaved.checkpoint
            ? [event.event.checkpointSaved.checkpoint]
            : [],
        );
        callback(null, { checkpoints });
      } catch (error) {
        callback(error as ServiceError);
      }
    },
    downloadCheckpoint: (call) => {
      const entry = state.runs.get(call.request.runId);
      if (!entry) {
        call.emit(
          'error',
          failure(status.NOT_FOUND, 'run not found', 'ERROR_REASON_RUN_NOT_FOUND'),
        );
        return;
      }
      const files = fakeCheckpointFiles(call.request.runId, call.request.checkpointId || 'final');
      call.write({
        part: {
          $case: 'manifest',
          manifest: {
            checkpoint: checkpointOf(entry.run.id, 0, true),
            format: call.request.format,
            files: files.map((file) => ({
              path: file.path,
              sizeBytes: file.data.length,
              sha256: createHash('sha256').update(file.data).digest('hex'),
            })),
          },
        },
      });
      for (const file of files)
        for (let offset = 0; offset < file.data.length; offset += 7)
          call.write({
            part: {
              $case: 'chunk',
              chunk: {
                path: file.path,
                offset,
                data: state.faults.corruptCheckpoints
                  ? Buffer.alloc(Math.min(7, file.data.length - offset), 9)
                  : file.data.subarray(offset, offset + 7),
              },
            },
          });
      call.end();
    },
    sample: (call, callback) =>
      unary(() => {
        const model = modelOf(call.request.model);
        const params = call.request.params;
        return {
          results: call.request.prompts.map((prompt) => ({
            completions: Array.from({ length: Math.max(1, params?.n ?? 1) }, () => ({
              ...sampleWords(model, params?.maxTokens ?? 0),
              promptTokens: words(promptText(prompt)).length,
              logprobs: [],
            })),
          })),
        };
      })(call, callback),
    sampleStream: (call) =>
      call.emit(
        'error',
        failure(status.UNIMPLEMENTED, 'not in the fake', 'ERROR_REASON_UNSUPPORTED'),
      ),
    scoreLogprobs: (call, callback) =>
      unary(() => {
        const model = modelOf(call.request.model);
        return {
          results: call.request.items.map((item) => {
            const tokens = model.tokenLogprobs(item.continuation);
            return {
              logprob: tokens.reduce((sum, token) => sum + token.logprob, 0),
              tokens: call.request.perToken
                ? tokens.map((token, index) => ({ ...token, tokenId: index }))
                : [],
              isGreedy: false,
              promptTokens: words(promptText(item.prompt)).length,
              continuationTokens: tokens.length,
            };
          }),
        };
      })(call, callback),
    tokenize: (call, callback) =>
      unary(() => ({
        results: call.request.texts.map((text) => {
          const ids = wordIds(text);
          return { count: ids.length, ids: call.request.returnIds ? ids : [] };
        }),
      }))(call, callback),
  };
  const server = new Server();
  server.addService(WorkerService, implementation);
  server.addService(HEALTH_SERVICE, {
    Check: (_call: unknown, callback: (error: null, value: Buffer) => void) =>
      callback(null, encodeVarintField(1, 1)),
  });
  for (const reflection of REFLECTION_SERVICES)
    server.addService(reflection, {
      ServerReflectionInfo: (call: ServerDuplexStream<Buffer, Buffer>) => {
        call.on('data', (request: Buffer) => {
          const list = decodeFields(request).get(7);
          if (!list) return;
          const names = ['midspec.worker.v1.Worker', 'grpc.health.v1.Health'];
          const services = Buffer.concat(names.map((name) => encodeField(1, encodeField(1, name))));
          call.write(encodeField(6, services));
        });
        call.on('end', () => call.end());
      },
    });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  state.address = `127.0.0.1:${port}`;
  state.close = async () => {
    for (const timer of timers) clearTimeout(timer);
    server.forceShutdown();
  };
  return state;
}

/** The files the fake serves for a checkpoint (deterministic, so tests can check them). */
export function fakeCheckpointFiles(
  runId: string,
  checkpointId: string,
): { path: string; data: Buffer }[] {
  return [
    {
      path: 'adapter_config.json',
      data: Buffer.from(JSON.stringify({ runId, checkpointId, r: 64 })),
    },
    { path: 'weights/adapter_model.safetensors', data: Buffer.alloc(50, 3) },
    { path: 'empty.txt', data: Buffer.alloc(0) },
  ];
}
