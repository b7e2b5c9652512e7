import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { ErrorReason } from '@midspec/proto';

/**
 * A failed call as the contract describes it: a gRPC status code plus the `midspec-reason`,
 * `midspec-retryable` and (for bad data) `midspec-line` trailing metadata that clients read.
 */
export class ContractError extends Error {
  override readonly name = 'ContractError';

  constructor(
    readonly code: status,
    readonly reason: ErrorReason,
    message: string,
    readonly line?: number,
    /** User errors are not worth retrying; infrastructure errors are. */
    readonly retryable = reason === ErrorReason.ERROR_REASON_INTERNAL,
  ) {
    super(message);
  }
}

export const invalidRequest = (message: string) =>
  new ContractError(status.INVALID_ARGUMENT, ErrorReason.ERROR_REASON_INVALID_REQUEST, message);
export const invalidData = (message: string, line: number) =>
  new ContractError(status.INVALID_ARGUMENT, ErrorReason.ERROR_REASON_INVALID_DATA, message, line);
export const checksumMismatch = (message: string) =>
  new ContractError(status.INVALID_ARGUMENT, ErrorReason.ERROR_REASON_CHECKSUM_MISMATCH, message);
export const badState = (message: string) =>
  new ContractError(status.FAILED_PRECONDITION, ErrorReason.ERROR_REASON_BAD_STATE, message);
/** A stream that ended early: the bytes are kept and a retry resumes from them. */
export const uploadIncomplete = (message: string) =>
  new ContractError(
    status.FAILED_PRECONDITION,
    ErrorReason.ERROR_REASON_BAD_STATE,
    message,
    undefined,
    true,
  );
export const datasetNotFound = (id: string) =>
  new ContractError(
    status.NOT_FOUND,
    ErrorReason.ERROR_REASON_DATASET_NOT_FOUND,
    `no dataset ${id}`,
  );
export const runNotFound = (id: string) =>
  new ContractError(status.NOT_FOUND, ErrorReason.ERROR_REASON_RUN_NOT_FOUND, `no run ${id}`);
export const checkpointNotFound = (message: string) =>
  new ContractError(status.NOT_FOUND, ErrorReason.ERROR_REASON_CHECKPOINT_NOT_FOUND, message);
export const idempotencyConflict = (key: string) =>
  new ContractError(
    status.ALREADY_EXISTS,
    ErrorReason.ERROR_REASON_IDEMPOTENCY_CONFLICT,
    `idempotency key ${key} was used for a different run spec`,
  );
export const unsupported = (message: string) =>
  new ContractError(status.UNIMPLEMENTED, ErrorReason.ERROR_REASON_UNSUPPORTED, message);

/** The grpc-js error for anything a handler throws; unknown errors become retryable INTERNAL. */
export function toServiceError(error: unknown): Partial<ServiceError> {
  const contract =
    error instanceof ContractError
      ? error
      : new ContractError(
          status.INTERNAL,
          ErrorReason.ERROR_REASON_INTERNAL,
          error instanceof Error ? error.message : String(error),
        );
  const metadata = new Metadata();
  metadata.set('midspec-reason', ErrorReason[contract.reason]);
  metadata.set('midspec-retryable', String(contract.retryable));
  if (contract.line !== undefined) metadata.set('midspec-line', String(contract.line));
  return { code: contract.code, details: contract.message, metadata };
}
