import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DatasetFormat,
  type RequestInit,
  type RunEvent,
  RunState,
  StageKind,
  type WorkerClient,
  WorkerError,
} from '@midspec/proto';
import { downloadCheckpoint } from '@midspec/trainer';
import { SEMANTIC_CHECKS } from './conformance-semantics.js';
import { checkHealth, listServicesByReflection, SERVING } from './grpc-probes.js';

export interface ConformanceContext {
  address: string;
  client: WorkerClient;
  model: string | undefined;
  /** What earlier checks leave for later ones. */
  state: Partial<{
    model: string;
    data: Buffer;
    datasetId: string;
    runId: string;
    events: RunEvent[];
    nonce: string;
  }>;
}

export interface ConformanceCheck {
  id: string;
  title: string;
  needs?: (keyof ConformanceContext['state'])[];
  /** This check's own limit, when it needs more than the suite's default (it trains, or loads a
   * model for inference); `checkTimeoutMs` overrides it. */
  timeoutMs?: number;
  run(context: ConformanceContext): Promise<string | undefined>;
}

/** Thrown by a check to fail with a message; any other error fails it too, with its message. */
export class CheckFailure extends Error {}
/** Thrown by a check that does not apply to this worker. */
export class CheckSkipped extends Error {}

const SERVICE = 'midspec.worker.v1.Worker';
const CHUNK = 16 * 1024;

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CheckFailure(message);
}

/** Fails unless `promise` rejects with this gRPC status and reason. */
async function expectError(
  promise: Promise<unknown>,
  grpcStatus: string,
  reason: string,
  extra?: (error: WorkerError) => void,
): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  assert(error !== undefined, `expected ${grpcStatus} (${reason}), but the call succeeded`);
  assert(WorkerError.isInstance(error), `expected a gRPC status, got ${String(error)}`);
  assert(
    error.grpcStatus === grpcStatus,
    `expected ${grpcStatus}, got ${error.grpcStatus}: ${error.message}`,
  );
  assert(
    error.reason === reason,
    `expected midspec-reason ${reason}, got ${error.reason ?? 'none'}`,
  );
  extra?.(error);
  return `${grpcStatus} ${reason}`;
}

function textData(nonce: string, records: number): Buffer {
  const lines = Array.from({ length: records }, (_, index) =>
    JSON.stringify({
      text: `Conformance document ${index} (${nonce}). The assistant tells the truth about what it knows and what it does not know. ${'Honesty matters. '.repeat(20)}`,
    }),
  );
  return Buffer.from(`${lines.join('\n')}\n`);
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

type UploadPart = RequestInit<'uploadDataset'>;
function* parts(
  header: NonNullable<Extract<UploadPart['part'], { $case: 'header' }>['header']>,
  data: Buffer,
): Generator<UploadPart> {
  yield {
    part: {
      $case: 'header',
      header: { name: 'conformance.jsonl', format: DatasetFormat.DATASET_FORMAT_TEXT, ...header },
    },
  };
  for (let offset = 0; offset < data.length; offset += CHUNK)
    yield { part: { $case: 'chunk', chunk: data.subarray(offset, offset + CHUNK) } };
}

function tinySpec(
  context: ConformanceContext,
  datasetId: string,
  maxSteps: number,
  name: string,
): RequestInit<'submitRun'>['spec'] {
  return {
    name: `conformance/${name}`,
    baseModel: context.state.model ?? '',
    seed: 1,
    labels: { conformance: context.state.nonce ?? '' },
    stages: [
      {
        name: 'midtrain',
        kind: StageKind.STAGE_KIND_MIDTRAIN,
        data: [{ datasetId, weight: 1 }],
        packing: { enabled: true, maxLength: 64 },
        budget: { maxSteps, epochs: 1000 },
        microBatchSize: 1,
        optimizer: { learningRate: 1e-3 },
        adapter: { adapter: { $case: 'lora', lora: { r: 4, alpha: 8 } } },
      },
    ],
  };
}

async function collect(client: WorkerClient, runId: string, afterSeq: number): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  for await (const event of client.watchRun({ runId, afterSeq }, { timeoutMs: 600_000 }))
    if (event.event?.$case !== 'heartbeat') events.push(event);
  return events;
}

export const CONFORMANCE_CHECKS: ConformanceCheck[] = [
  {
    id: 'health',
    title: 'grpc.health.v1 reports SERVING for the server and the Worker service',
    async run({ address }) {
      assert((await checkHealth(address, '')) === SERVING, 'Health/Check("") is not SERVING');
      assert(
        (await checkHealth(address, SERVICE)) === SERVING,
        `Health/Check("${SERVICE}") is not SERVING`,
      );
      return 'SERVING';
    },
  },
  {
    id: 'reflection',
    title: 'server reflection lists the Worker service',
    async run({ address }) {
      const services = await listServicesByReflection(address);
      assert(
        services.includes(SERVICE),
        `reflection lists ${services.join(', ') || 'nothing'}, not ${SERVICE}`,
      );
      return services.join(', ');
    },
  },
  {
    id: 'capabilities',
    title: 'GetCapabilities speaks midspec.worker.v1 and names a model to train',
    async run(context) {
      const capabilities = await context.client.getCapabilities({}, { timeoutMs: 10_000 });
      assert(
        capabilities.protocolVersion === 'midspec.worker.v1',
        `protocol_version is "${capabilities.protocolVersion}"`,
      );
      const model = context.model ?? capabilities.builtinModels[0];
      if (!model)
        throw new CheckFailure(
          'the worker has no built-in model: pass --model with one it can train',
        );
      context.state.model = model;
      context.state.nonce = randomBytes(6).toString('hex');
      return `${capabilities.workerName} ${capabilities.workerVersion}, model ${model}`;
    },
  },
  {
    id: 'upload',
    title: 'UploadDataset stores a text dataset under its sha256',
    needs: ['nonce'],
    async run(context) {
      const data = textData(context.state.nonce ?? '', 200);
      const response = await context.client.uploadDataset(
        parts({ sha256: sha256(data), sizeBytes: data.length }, data),
      );
      assert(
        response.dataset?.id === sha256(data),
        `dataset id ${response.dataset?.id} is not the sha256 ${sha256(data)}`,
      );
      assert(!response.alreadyExisted, 'fresh content reported as already existing');
      assert(
        Number(response.dataset.numRecords) === 200,
        `num_records ${response.dataset.numRecords}, expected 200`,
      );
      context.state.data = data;
      context.state.datasetId = response.dataset.id;
      return `${data.length} bytes, 200 records`;
    },
  },
  {
    id: 'upload-dedup',
    title: 'content already held is reported complete and not stored twice',
    needs: ['data', 'datasetId'],
    async run({ client, state }) {
      const data = state.data as Buffer;
      const status = await client.getUploadStatus({ sha256: sha256(data) });
      assert(
        status.complete && status.dataset?.id === state.datasetId,
        'GetUploadStatus does not report the stored dataset as complete',
      );
      const again = await client.uploadDataset(
        parts({ sha256: sha256(data), sizeBytes: data.length }, data),
      );
      assert(
        again.alreadyExisted && again.dataset?.id === state.datasetId,
        'a re-upload of the same bytes did not report already_existed',
      );
      return 'already_existed';
    },
  },
  {
    id: 'upload-checksum',
    // A stream that ends short of the declared size is an interrupted upload (kept for a resume), so
    // the size check sends more bytes than declared.
    title: 'a wrong sha256, or more bytes than declared, is refused with CHECKSUM_MISMATCH',
    needs: ['nonce'],
    async run({ client, state }) {
      const data = textData(`${state.nonce}-checksum`, 20);
      const wrong = sha256(Buffer.from(`not ${state.nonce}`));
      const first = await expectError(
        client.uploadDataset(parts({ sha256: wrong, sizeBytes: data.length }, data)),
        'INVALID_ARGUMENT',
        'ERROR_REASON_CHECKSUM_MISMATCH',
      );
      const status = await client.getUploadStatus({ sha256: wrong });
      assert(!status.complete, 'a dataset with a mismatched sha256 was stored');
      await expectError(
        client.uploadDataset(parts({ sha256: sha256(data), sizeBytes: data.length - 10 }, data)),
        'INVALID_ARGUMENT',
        'ERROR_REASON_CHECKSUM_MISMATCH',
      );
      return first;
    },
  },
  {
    id: 'upload-resume',
    title: 'an interrupted upload keeps its bytes, refuses a wrong offset and resumes',
    needs: ['nonce'],
    async run({ client, state }) {
      const data = textData(`${state.nonce}-resume`, 2000);
      const hash = sha256(data);
      const half = Math.floor(data.length / CHUNK / 2) * CHUNK;
      async function* interrupted(): AsyncGenerator<UploadPart> {
        for (const part of parts({ sha256: hash, sizeBytes: data.length }, data.subarray(0, half)))
          yield part;
        await sleep(500);
        throw new Error('interrupted on purpose');
      }
      await client.uploadDataset(interrupted()).catch(() => undefined);
      let received = 0;
      for (let attempt = 0; attempt < 50 && received === 0; attempt += 1) {
        received = Number((await client.getUploadStatus({ sha256: hash })).receivedBytes);
        if (received === 0) await sleep(100);
      }
      assert(
        received > 0 && received <= half,
        `GetUploadStatus reports ${received} bytes held after ${half} were sent and the stream broke`,
      );
      const wrongOffset = received === 1 ? 2 : 1;
      await expectError(
        client.uploadDataset(
          parts(
            { sha256: hash, sizeBytes: data.length, offset: wrongOffset },
            data.subarray(wrongOffset),
          ),
        ),
        'FAILED_PRECONDITION',
        'ERROR_REASON_BAD_STATE',
      );
      const resumed = await client.uploadDataset(
        parts({ sha256: hash, sizeBytes: data.length, offset: received }, data.subarray(received)),
      );
      assert(resumed.dataset?.id === hash, 'the resumed upload did not store the dataset');
      return `resumed at byte ${received} of ${data.length}`;
    },
  },
  {
    id: 'upload-bad-data',
    title: 'a malformed line is refused with INVALID_DATA naming the line',
    needs: ['nonce'],
    async run({ client, state }) {
      const data = Buffer.from(`{"text": "one ${state.nonce}"}\n{"text": "two"}\n{"text": 3}\n`);
      const detail = await expectError(
        client.uploadDataset(parts({ sha256: sha256(data), sizeBytes: data.length }, data)),
        'INVALID_ARGUMENT',
        'ERROR_REASON_INVALID_DATA',
        (error) =>
          assert(error.line === 3, `midspec-line is ${error.line ?? 'missing'}, expected 3`),
      );
      const status = await client.getUploadStatus({ sha256: sha256(data) });
      assert(!status.complete, 'a dataset with a bad line was stored');
      return `${detail}, line 3`;
    },
  },
  {
    id: 'upload-bad-header',
    title: 'an unsafe dataset name is refused with INVALID_REQUEST',
    async run({ client }) {
      const data = Buffer.from('{"text": "x"}\n');
      return expectError(
        client.uploadDataset(
          parts({ name: '../escape.jsonl', sha256: sha256(data), sizeBytes: data.length }, data),
        ),
        'INVALID_ARGUMENT',
        'ERROR_REASON_INVALID_REQUEST',
      );
    },
  },
  {
    id: 'submit-idempotent',
    title: 'SubmitRun with the same key and spec returns the same run',
    needs: ['datasetId', 'model'],
    async run(context) {
      const key = `conformance-${context.state.nonce}-tiny`;
      const spec = tinySpec(context, context.state.datasetId ?? '', 2, 'tiny');
      const first = await context.client.submitRun({ spec, idempotencyKey: key });
      assert(first.run?.id && !first.alreadyExisted, 'the first submission was not a new run');
      const second = await context.client.submitRun({ spec, idempotencyKey: key });
      assert(
        second.alreadyExisted && second.run?.id === first.run.id,
        `re-submission gave run ${second.run?.id} (already_existed ${second.alreadyExisted}), expected ${first.run.id}`,
      );
      assert(second.run.idempotencyKey === key, 'the run does not carry its idempotency key');
      context.state.runId = first.run.id;
      return `run ${first.run.id}`;
    },
  },
  {
    id: 'submit-conflict',
    title: 'the same key with a different spec is refused with IDEMPOTENCY_CONFLICT',
    needs: ['runId'],
    async run(context) {
      const spec = tinySpec(context, context.state.datasetId ?? '', 3, 'tiny');
      return expectError(
        context.client.submitRun({
          spec,
          idempotencyKey: `conformance-${context.state.nonce}-tiny`,
        }),
        'ALREADY_EXISTS',
        'ERROR_REASON_IDEMPOTENCY_CONFLICT',
      );
    },
  },
  {
    id: 'not-found',
    title: 'unknown datasets and runs are NOT_FOUND with their reasons',
    needs: ['model'],
    async run(context) {
      await expectError(
        context.client.submitRun({ spec: tinySpec(context, 'f'.repeat(64), 1, 'missing') }),
        'NOT_FOUND',
        'ERROR_REASON_DATASET_NOT_FOUND',
      );
      await expectError(
        context.client.getRun({ runId: 'no-such-run' }),
        'NOT_FOUND',
        'ERROR_REASON_RUN_NOT_FOUND',
      );
      return 'DATASET_NOT_FOUND, RUN_NOT_FOUND';
    },
  },
  {
    id: 'watch',
    title: 'WatchRun streams numbered events 1..n to a final state',
    needs: ['runId'],
    async run({ client, state }) {
      const events = await collect(client, state.runId ?? '', 0);
      const seqs = events.map((event) => Number(event.seq));
      assert(
        seqs.length > 0 && seqs.every((seq, index) => seq === index + 1),
        `sequence numbers are not 1..n: ${seqs.slice(0, 20).join(',')}`,
      );
      const last = events.at(-1)?.event;
      assert(
        last?.$case === 'stateChanged' && last.stateChanged.state === RunState.RUN_STATE_SUCCEEDED,
        'the stream did not end with a SUCCEEDED state change',
      );
      const run = await client.getRun({ runId: state.runId ?? '' });
      assert(
        Number(run.lastSeq) === seqs.length,
        `Run.last_seq is ${run.lastSeq}, the stream had ${seqs.length} events`,
      );
      state.events = events;
      return `${events.length} events`;
    },
  },
  {
    id: 'watch-resume',
    title: 'WatchRun with after_seq replays exactly the tail',
    needs: ['events'],
    async run({ client, state }) {
      const all = (state.events ?? []).map((event) => Number(event.seq));
      const middle = Math.floor(all.length / 2);
      const tail = (await collect(client, state.runId ?? '', middle)).map((event) =>
        Number(event.seq),
      );
      assert(
        JSON.stringify(tail) === JSON.stringify(all.slice(middle)),
        `after_seq ${middle} gave ${tail.join(',')}, expected ${all.slice(middle).join(',')}`,
      );
      return `after_seq ${middle}: ${tail.length} events`;
    },
  },
  {
    id: 'checkpoints',
    title: 'a finished run lists its final checkpoint',
    needs: ['events'],
    async run({ client, state }) {
      const { checkpoints } = await client.listCheckpoints({ runId: state.runId ?? '' });
      const final = checkpoints.find((checkpoint) => checkpoint.final);
      assert(final, `no final checkpoint among ${checkpoints.length}`);
      return `${checkpoints.length} checkpoint(s), final ${final.id}`;
    },
  },
  {
    id: 'cancel',
    title: 'CancelRun stops a running run; its stream ends CANCELLED',
    needs: ['datasetId', 'model'],
    async run(context) {
      const { client } = context;
      const submitted = await client.submitRun({
        spec: tinySpec(context, context.state.datasetId ?? '', 100_000, 'cancel'),
        idempotencyKey: `conformance-${context.state.nonce}-cancel`,
      });
      const runId = submitted.run?.id ?? '';
      let lastState = RunState.RUN_STATE_UNSPECIFIED;
      for await (const event of client.watchRun({ runId }, { timeoutMs: 300_000 })) {
        if (event.event?.$case === 'stateChanged') lastState = event.event.stateChanged.state;
        if (event.event?.$case === 'metrics' || lastState === RunState.RUN_STATE_RUNNING) {
          await client.cancelRun({ runId });
          break;
        }
      }
      const rest = await collect(client, runId, 0);
      const last = rest.at(-1)?.event;
      assert(
        last?.$case === 'stateChanged' && last.stateChanged.state === RunState.RUN_STATE_CANCELLED,
        'the run did not end CANCELLED',
      );
      const run = await client.getRun({ runId });
      assert(run.state === RunState.RUN_STATE_CANCELLED, `GetRun says ${RunState[run.state]}`);
      await expectError(
        client.cancelRun({ runId: 'no-such-run' }),
        'NOT_FOUND',
        'ERROR_REASON_RUN_NOT_FOUND',
      );
      return `run ${runId} cancelled`;
    },
  },
  {
    id: 'download',
    title: 'DownloadCheckpoint streams files whose sha256 match the manifest',
    needs: ['events'],
    async run({ client, state }) {
      const capabilities = await client.getCapabilities();
      if (!capabilities.implementedRpcs.includes('DownloadCheckpoint'))
        throw new CheckSkipped('the worker does not list DownloadCheckpoint in implemented_rpcs');
      const directory = await mkdtemp(join(tmpdir(), 'midspec-conformance-'));
      try {
        const downloaded = await downloadCheckpoint(client, state.runId ?? '', directory);
        assert(downloaded.files.length > 0, 'the manifest lists no files');
        return `${downloaded.files.length} files verified`;
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    },
  },
  // What training did, scored with the model itself (conformance-semantics.ts).
  ...SEMANTIC_CHECKS,
];
