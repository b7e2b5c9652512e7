import { type Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { hasErrorMarker, MidspecError, markError } from '@midspec/core';

/** Status codes that describe the infrastructure rather than the request: worth retrying. */
const RETRYABLE_CODES = new Set<number>([
  status.UNAVAILABLE,
  status.DEADLINE_EXCEEDED,
  status.RESOURCE_EXHAUSTED,
  status.ABORTED,
  status.INTERNAL,
  status.UNKNOWN,
]);

export interface WorkerErrorOptions {
  method: string;
  address: string;
  grpcCode: number;
  message: string;
  reason?: string;
  retryable?: boolean;
  line?: number;
  cause?: unknown;
}

const WORKER_ERROR_MARKER = 'midspec.worker-error';

/** A failed call to a worker: the gRPC status, the server's machine-readable reason and whether a retry may help. */
export class WorkerError extends MidspecError {
  override readonly name = 'WorkerError';
  /** The RPC, e.g. "SubmitRun". */
  readonly method: string;
  /** The worker's address. */
  readonly address: string;
  /** The gRPC status code (see `status` from @grpc/grpc-js). */
  readonly grpcCode: number;
  /** The gRPC status name, e.g. "NOT_FOUND". */
  readonly grpcStatus: string;
  /** The server's reason (an ErrorReason name), when it sent one. */
  readonly reason: string | undefined;
  /** True when retrying the same call may succeed. */
  readonly isRetryable: boolean;
  /** The 1-based line of bad input data, when the server named one. */
  readonly line: number | undefined;

  constructor(options: WorkerErrorOptions) {
    const grpcStatus = status[options.grpcCode] ?? `CODE_${options.grpcCode}`;
    super({
      code: `worker/${grpcStatus.toLowerCase()}`,
      message: `${options.method} on ${options.address} failed (${grpcStatus}): ${options.message}`,
      cause: options.cause,
    });
    this.method = options.method;
    this.address = options.address;
    this.grpcCode = options.grpcCode;
    this.grpcStatus = grpcStatus;
    this.reason = options.reason;
    this.isRetryable = options.retryable ?? RETRYABLE_CODES.has(options.grpcCode);
    this.line = options.line;
    markError(this, WORKER_ERROR_MARKER);
  }

  static override isInstance(error: unknown): error is WorkerError {
    return hasErrorMarker(error, WORKER_ERROR_MARKER);
  }

  static fromServiceError(error: ServiceError, method: string, address: string): WorkerError {
    const metadata: Metadata | undefined = error.metadata;
    const first = (key: string) => {
      const value = metadata?.get(key)[0];
      return value === undefined ? undefined : String(value);
    };
    const retryable = first('midspec-retryable');
    const line = first('midspec-line');
    let message = error.details || error.message;
    if (error.code === status.UNAVAILABLE) {
      message += ` — is a worker running at ${address}? Start one with \`midspec worker start\` or pass --worker HOST:PORT`;
    }
    return new WorkerError({
      method,
      address,
      grpcCode: error.code,
      message,
      reason: first('midspec-reason'),
      retryable: retryable === undefined ? undefined : retryable === 'true',
      line: line === undefined ? undefined : Number(line),
      cause: error,
    });
  }
}
