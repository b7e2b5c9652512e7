import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import {
  type ChannelCredentials,
  Client,
  type ClientOptions,
  credentials,
  type ServiceError,
} from '@grpc/grpc-js';
import type { CallOptions } from '@midspec/core';
import { bindCallOptions, callMetadata, grpcCallOptions } from './call-options.js';
import { GetCapabilitiesRequest } from './gen/midspec/worker/v1/capabilities.js';
import {
  GetDatasetRequest,
  GetUploadStatusRequest,
  ListDatasetsRequest,
  UploadDatasetRequest,
} from './gen/midspec/worker/v1/datasets.js';
import {
  SampleRequest,
  ScoreLogprobsRequest,
  TokenizeRequest,
} from './gen/midspec/worker/v1/inference.js';
import {
  CancelRunRequest,
  DownloadCheckpointRequest,
  GetRunRequest,
  ListCheckpointsRequest,
  ListRunsRequest,
  SubmitRunRequest,
  WatchRunRequest,
} from './gen/midspec/worker/v1/runs.js';
import { WorkerService } from './gen/midspec/worker/v1/worker.js';
import { WorkerError } from './worker-error.js';

type Service = typeof WorkerService;
type MethodName = keyof Service;
type RequestOf<M extends MethodName> = Parameters<Service[M]['requestSerialize']>[0];
type ResponseOf<M extends MethodName> = ReturnType<Service[M]['responseDeserialize']>;
type Builtin = Date | Uint8Array | string | number | boolean | undefined;
/** A message where any field may be left out; the proto3 defaults fill the rest. */
export type DeepPartial<T> = T extends Builtin
  ? T
  : T extends Array<infer U>
    ? Array<DeepPartial<U>>
    : T extends { $case: string }
      ? { [K in keyof Omit<T, '$case'>]?: DeepPartial<T[K]> } & { $case: T['$case'] }
      : T extends object
        ? { [K in keyof T]?: DeepPartial<T[K]> }
        : Partial<T>;
/** The request of a worker method, any field left out. */
export type RequestInit<M extends MethodName> = DeepPartial<RequestOf<M>>;
type Codec<T> = { fromPartial(object: DeepPartial<T>): T };

const requestTypes: { [M in MethodName]: Codec<RequestOf<M>> } = {
  getCapabilities: GetCapabilitiesRequest,
  uploadDataset: UploadDatasetRequest,
  getUploadStatus: GetUploadStatusRequest,
  getDataset: GetDatasetRequest,
  listDatasets: ListDatasetsRequest,
  submitRun: SubmitRunRequest,
  getRun: GetRunRequest,
  listRuns: ListRunsRequest,
  watchRun: WatchRunRequest,
  cancelRun: CancelRunRequest,
  listCheckpoints: ListCheckpointsRequest,
  downloadCheckpoint: DownloadCheckpointRequest,
  sample: SampleRequest,
  sampleStream: SampleRequest,
  scoreLogprobs: ScoreLogprobsRequest,
  tokenize: TokenizeRequest,
};

export interface WorkerClientOptions {
  /** Bearer token sent as `authorization` metadata; defaults to the MIDSPEC_WORKER_TOKEN environment variable. */
  token?: string;
  /** TLS: `true` for the system roots, or PEM file paths. Plain-text when left out. */
  tls?: boolean | { caFile?: string; certFile?: string; keyFile?: string };
  /** Deadline applied to calls that pass no `timeoutMs` (streams excepted). */
  defaultTimeoutMs?: number;
  /** Raw grpc-js channel options. */
  channelOptions?: ClientOptions;
}

function channelCredentials(tls: WorkerClientOptions['tls']): ChannelCredentials {
  if (!tls) return credentials.createInsecure();
  if (tls === true) return credentials.createSsl();
  const read = (file?: string) => (file ? readFileSync(file) : null);
  return credentials.createSsl(read(tls.caFile), read(tls.keyFile), read(tls.certFile));
}

const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * A typed client of the midspec worker contract: promise methods for unary calls, AsyncIterables for
 * server streams, and an AsyncIterable (or Iterable) of messages for the client-streamed upload.
 * Every method takes `{ signal, timeoutMs }`; every failure is a `WorkerError`.
 */
export class WorkerClient {
  readonly address: string;
  private readonly client: Client;
  private readonly token: string | undefined;
  private readonly defaultTimeoutMs: number | undefined;

  constructor(address: string, options: WorkerClientOptions = {}) {
    this.address = address;
    this.token = options.token ?? process.env.MIDSPEC_WORKER_TOKEN;
    this.defaultTimeoutMs = options.defaultTimeoutMs;
    this.client = new Client(address, channelCredentials(options.tls), {
      'grpc.max_receive_message_length': DEFAULT_MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': DEFAULT_MAX_MESSAGE_BYTES,
      ...options.channelOptions,
    });
  }

  /** Resolves once the channel is connected; rejects with an UNAVAILABLE WorkerError after `timeoutMs`. */
  waitForReady(options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      this.client.waitForReady(Date.now() + timeoutMs, (error) => {
        if (!error) return resolve();
        reject(
          new WorkerError({
            method: 'connect',
            address: this.address,
            grpcCode: 14,
            message: `no worker answered within ${timeoutMs} ms — is one running at ${this.address}? Start one with \`midspec worker start\``,
            cause: error,
          }),
        );
      });
    });
  }

  getCapabilities(request: RequestInit<'getCapabilities'> = {}, options?: CallOptions) {
    return this.unary('getCapabilities', request, options);
  }
  getUploadStatus(request: RequestInit<'getUploadStatus'>, options?: CallOptions) {
    return this.unary('getUploadStatus', request, options);
  }
  getDataset(request: RequestInit<'getDataset'>, options?: CallOptions) {
    return this.unary('getDataset', request, options);
  }
  listDatasets(request: RequestInit<'listDatasets'> = {}, options?: CallOptions) {
    return this.unary('listDatasets', request, options);
  }
  submitRun(request: RequestInit<'submitRun'>, options?: CallOptions) {
    return this.unary('submitRun', request, options);
  }
  getRun(request: RequestInit<'getRun'>, options?: CallOptions) {
    return this.unary('getRun', request, options);
  }
  listRuns(request: RequestInit<'listRuns'> = {}, options?: CallOptions) {
    return this.unary('listRuns', request, options);
  }
  cancelRun(request: RequestInit<'cancelRun'>, options?: CallOptions) {
    return this.unary('cancelRun', request, options);
  }
  listCheckpoints(request: RequestInit<'listCheckpoints'>, options?: CallOptions) {
    return this.unary('listCheckpoints', request, options);
  }
  sample(request: RequestInit<'sample'>, options?: CallOptions) {
    return this.unary('sample', request, options);
  }
  scoreLogprobs(request: RequestInit<'scoreLogprobs'>, options?: CallOptions) {
    return this.unary('scoreLogprobs', request, options);
  }
  tokenize(request: RequestInit<'tokenize'>, options?: CallOptions) {
    return this.unary('tokenize', request, options);
  }

  /** A run's numbered events from `afterSeq`, live until the run ends. Breaking out of the loop cancels the stream, not the run. */
  watchRun(request: RequestInit<'watchRun'>, options?: CallOptions) {
    return this.serverStream('watchRun', request, options);
  }
  /** A checkpoint as a manifest message followed by file chunks. */
  downloadCheckpoint(request: RequestInit<'downloadCheckpoint'>, options?: CallOptions) {
    return this.serverStream('downloadCheckpoint', request, options);
  }
  /** Completions as incremental pieces. */
  sampleStream(request: RequestInit<'sampleStream'>, options?: CallOptions) {
    return this.serverStream('sampleStream', request, options);
  }

  /** Uploads a dataset from a header message followed by chunk messages; honours back-pressure. */
  uploadDataset(
    parts: AsyncIterable<RequestInit<'uploadDataset'>> | Iterable<RequestInit<'uploadDataset'>>,
    options?: CallOptions,
  ): Promise<ResponseOf<'uploadDataset'>> {
    const method = WorkerService.uploadDataset;
    return new Promise((resolve, reject) => {
      const settled = new AbortController();
      const call = this.client.makeClientStreamRequest(
        method.path,
        serializeUploadRequest,
        method.responseDeserialize,
        callMetadata(this.token),
        grpcCallOptions(options, undefined),
        (error, response) => {
          settled.abort();
          release();
          if (error) reject(this.toWorkerError(error, 'UploadDataset'));
          else if (response) resolve(response);
        },
      );
      const release = bindCallOptions(call, options?.signal);
      const pump = async () => {
        for await (const part of parts) {
          if (settled.signal.aborted) return;
          if (!call.write(part)) {
            await once(call, 'drain', { signal: settled.signal });
          }
        }
        call.end();
      };
      pump().catch((error: unknown) => {
        if (settled.signal.aborted) return;
        call.cancel();
        reject(error);
      });
    });
  }

  /** Closes the channel; pending calls fail with CANCELLED. */
  close(): void {
    this.client.close();
  }

  private unary<M extends MethodName>(
    name: M,
    request: RequestInit<M>,
    options: CallOptions | undefined,
  ): Promise<ResponseOf<M>> {
    const method = WorkerService[name] as unknown as {
      path: string;
      requestSerialize: (value: RequestOf<M>) => Buffer;
      responseDeserialize: (value: Buffer) => ResponseOf<M>;
    };
    const codec = requestTypes[name] as Codec<RequestOf<M>>;
    return new Promise((resolve, reject) => {
      const call = this.client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        codec.fromPartial(request),
        callMetadata(this.token),
        grpcCallOptions(options, this.defaultTimeoutMs),
        (error, response) => {
          release();
          if (error) reject(this.toWorkerError(error, rpcName(name)));
          else resolve(response as ResponseOf<M>);
        },
      );
      const release = bindCallOptions(call, options?.signal);
    });
  }

  private async *serverStream<M extends MethodName>(
    name: M,
    request: RequestInit<M>,
    options: CallOptions | undefined,
  ): AsyncGenerator<ResponseOf<M>, void, undefined> {
    const method = WorkerService[name] as unknown as {
      path: string;
      requestSerialize: (value: RequestOf<M>) => Buffer;
      responseDeserialize: (value: Buffer) => ResponseOf<M>;
    };
    const codec = requestTypes[name] as Codec<RequestOf<M>>;
    const call = this.client.makeServerStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      codec.fromPartial(request),
      callMetadata(this.token),
      grpcCallOptions(options, undefined),
    );
    const release = bindCallOptions(call, options?.signal);
    let finished = false;
    try {
      for await (const message of call) yield message as ResponseOf<M>;
      finished = true;
    } catch (error) {
      throw isServiceError(error) ? this.toWorkerError(error, rpcName(name)) : error;
    } finally {
      release();
      if (!finished) {
        // The consumer stopped early: end the call; the status that follows is expected.
        call.on('error', () => {});
        call.cancel();
      }
    }
  }

  private toWorkerError(error: ServiceError, method: string): WorkerError {
    return WorkerError.fromServiceError(error, method, this.address);
  }
}

function rpcName(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

function isServiceError(error: unknown): error is ServiceError {
  return (
    typeof error === 'object' && error !== null && typeof (error as ServiceError).code === 'number'
  );
}

/** Creates a client of the worker at `address` ("host:port"). */
export function createWorkerClient(address: string, options?: WorkerClientOptions): WorkerClient {
  return new WorkerClient(address, options);
}

/**
 * The UploadDataset request encoder. A chunk message is the bytes behind a 1-byte tag and a varint
 * length, written with one copy; the general encoder would grow a buffer in steps and copy the
 * chunk several times, which made it most of an upload's CPU time. Headers go through it as usual.
 */
export function serializeUploadRequest(part: RequestInit<'uploadDataset'>): Buffer {
  const chunk = part.part?.$case === 'chunk' ? part.part.chunk : undefined;
  if (chunk === undefined)
    return Buffer.from(
      UploadDatasetRequest.encode(UploadDatasetRequest.fromPartial(part)).finish(),
    );
  let prefix = 2; // the tag of field 2 (wire type 2: length-delimited) and at least one length byte
  for (let rest = chunk.length >>> 7; rest > 0; rest >>>= 7) prefix += 1;
  const message = Buffer.allocUnsafe(prefix + chunk.length);
  message[0] = (2 << 3) | 2;
  let at = 1;
  let length = chunk.length;
  while (length > 0x7f) {
    message[at++] = (length & 0x7f) | 0x80;
    length >>>= 7;
  }
  message[at++] = length;
  message.set(chunk, at);
  return message;
}
