import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CallOptions } from '@midspec/core';
import { type Dataset, DatasetFormat, type WorkerClient, WorkerError } from '@midspec/proto';
import type { DatasetFormatName } from './curriculum.js';
import { sniffDatasetFormat } from './dataset-identity.js';
import { sha256File } from './hash-file.js';
import { TrainerError } from './trainer-error.js';
import { type JsonlValidation, validateJsonlFile } from './validate-jsonl.js';

const CHUNK_BYTES = 1024 * 1024;

export interface UploadProgress {
  /** hashing (the default) or validating (with `validate`), then uploading. */
  phase: 'hashing' | 'validating' | 'uploading';
  /** Bytes read (hashing, validating) or acknowledged into the stream (uploading), from the file's start. */
  bytes: number;
  totalBytes: number;
}

export interface UploadDatasetOptions extends CallOptions {
  /** text or chat; detected from the file when left out. */
  format?: DatasetFormatName;
  /** The name stored with the dataset (default: the file name, sanitized). */
  name?: string;
  /**
   * Check every line locally before anything is sent, listing every bad line (as
   * validateJsonlFile does, offline). Off by default: lines are checked once, by the worker, as they
   * arrive; its first bad line ends the upload while the file is still being sent and fails it with
   * a TrainerError naming the file and line. Either way the file is hashed first (its header carries
   * the sha256).
   */
  validate?: boolean;
  /** A validation of this file done earlier (e.g. by planTrainingExperiment): not read twice. */
  validation?: JsonlValidation;
  /** Resume attempts after a retryable failure mid-stream (default 5). */
  maxRetries?: number;
  onProgress?: (progress: UploadProgress) => void;
  /** Called before each resume attempt after a failure. */
  onRetry?: (info: { attempt: number; offset: number; error: WorkerError }) => void;
}

export interface UploadedDataset {
  dataset: Dataset;
  /** True when the worker already held this content: nothing was sent. */
  alreadyExisted: boolean;
  /** The offset the last stream started from (non-zero after a resume). */
  resumedFrom: number;
  /** The local validation (undefined unless `validate` or `validation` was given). */
  validation: JsonlValidation | undefined;
}

export function toDatasetFormat(format: DatasetFormatName): DatasetFormat {
  return format === 'text' ? DatasetFormat.DATASET_FORMAT_TEXT : DatasetFormat.DATASET_FORMAT_CHAT;
}

export function uploadName(path: string): string {
  const name = basename(path)
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(0, 128);
  return name.length > 0 && name !== '.' && name !== '..' ? name : 'dataset.jsonl';
}

/**
 * Hashes a local JSONL file (text vs chat detected from its first record), then streams it to the
 * worker in 1 MiB chunks; the worker checks every line as it arrives and its first bad line fails
 * the upload at once, as a TrainerError naming the file and line. With `validate`, every line is
 * checked locally first instead (every bad line reported). Content the worker already holds is not
 * sent again; an interrupted stream resumes from the offset the worker reports. The file is never
 * read into memory whole.
 */
export async function uploadDataset(
  client: WorkerClient,
  path: string,
  options: UploadDatasetOptions = {},
): Promise<UploadedDataset> {
  const info = await stat(path).catch((error: unknown) => {
    throw new TrainerError({
      code: 'trainer/invalid-dataset',
      summary: `cannot read dataset ${path}: ${(error as Error).message}`,
      cause: error,
    });
  });
  if (!info.isFile())
    throw new TrainerError({ code: 'trainer/invalid-dataset', summary: `${path} is not a file` });

  let validation: JsonlValidation | undefined;
  let sha256: string;
  let format = options.format;
  if (options.validation && options.validation.sizeBytes === info.size) {
    validation = options.validation;
    assertValid(validation);
    format = validation.format as DatasetFormatName;
    sha256 = validation.sha256;
  } else if (!options.validate) {
    format ??= await formatOf(path);
    sha256 = await sha256File(path, {
      signal: options.signal,
      onProgress: (bytes) =>
        options.onProgress?.({ phase: 'hashing', bytes, totalBytes: info.size }),
    });
  } else {
    validation = await validateJsonlFile(path, {
      ...(format && { format }),
      signal: options.signal,
      onProgress: (bytes) =>
        options.onProgress?.({ phase: 'validating', bytes, totalBytes: info.size }),
    });
    assertValid(validation);
    format = validation.format as DatasetFormatName;
    sha256 = validation.sha256;
  }
  const header = {
    name: options.name ?? uploadName(path),
    format: toDatasetFormat(format),
    sha256,
    sizeBytes: info.size,
  };

  const maxRetries = options.maxRetries ?? 5;
  for (let attempt = 0; ; attempt += 1) {
    let offset = 0;
    try {
      const status = await uploadStatus(client, sha256, options);
      if (status?.complete && status.dataset)
        return { dataset: status.dataset, alreadyExisted: true, resumedFrom: 0, validation };
      offset = Number(status?.receivedBytes ?? 0);
      const response = await client.uploadDataset(
        chunks(path, { ...header, offset }, options.onProgress),
        { signal: options.signal },
      );
      if (!response.dataset)
        throw new TrainerError({
          code: 'trainer/invalid-dataset',
          summary: `the worker returned no dataset for ${path}`,
        });
      return {
        dataset: response.dataset,
        alreadyExisted: response.alreadyExisted,
        resumedFrom: offset,
        validation,
      };
    } catch (error) {
      if (!WorkerError.isInstance(error) || options.signal?.aborted) throw error;
      if (error.reason === 'ERROR_REASON_INVALID_DATA') throw badData(path, error);
      // A stale offset (BAD_STATE) is cured by asking again; infrastructure failures by retrying.
      const resumable = error.isRetryable || error.reason === 'ERROR_REASON_BAD_STATE';
      if (!resumable || attempt >= maxRetries) throw error;
      options.onRetry?.({ attempt: attempt + 1, offset, error });
      await sleep(Math.min(5000, 100 * 2 ** attempt), undefined, { signal: options.signal });
    }
  }
}

async function formatOf(path: string): Promise<DatasetFormatName> {
  const { format, line } = await sniffDatasetFormat(path);
  if (format !== undefined) return format;
  throw new TrainerError({
    code: 'trainer/invalid-dataset',
    summary: `${path} is neither a text dataset ({"text": ...} per line) nor a chat dataset ({"messages": [...]} per line)`,
    problems: [
      {
        path: '',
        file: path,
        line,
        message: 'the first record has neither a "text" nor a "messages" field',
      },
    ],
  });
}

/** The worker's refusal of a line, as the problem of the local file and line. */
function badData(path: string, error: WorkerError): TrainerError {
  const details = (error.cause as { details?: unknown } | undefined)?.details;
  const message = (typeof details === 'string' ? details : error.message).replace(
    /^line \d+: /,
    '',
  );
  return new TrainerError({
    code: 'trainer/invalid-dataset',
    summary: `${path}: the worker refused the dataset`,
    problems: [
      { path: '', file: path, ...(error.line !== undefined && { line: error.line }), message },
    ],
    cause: error,
  });
}

async function uploadStatus(client: WorkerClient, sha256: string, options: CallOptions) {
  try {
    return await client.getUploadStatus({ sha256 }, { signal: options.signal });
  } catch (error) {
    // A worker without resumable uploads simply gets the whole file.
    if (WorkerError.isInstance(error) && error.grpcStatus === 'UNIMPLEMENTED') return undefined;
    throw error;
  }
}

async function* chunks(
  path: string,
  header: {
    name: string;
    format: DatasetFormat;
    sha256: string;
    sizeBytes: number;
    offset: number;
  },
  onProgress: UploadDatasetOptions['onProgress'],
) {
  yield { part: { $case: 'header' as const, header } };
  let sent = header.offset;
  if (header.offset >= header.sizeBytes) return;
  for await (const chunk of createReadStream(path, {
    start: header.offset,
    highWaterMark: CHUNK_BYTES,
  }) as AsyncIterable<Buffer>) {
    yield { part: { $case: 'chunk' as const, chunk } };
    sent += chunk.length;
    onProgress?.({ phase: 'uploading', bytes: sent, totalBytes: header.sizeBytes });
  }
}

/** Throws a TrainerError naming every bad line (and a file that is neither text nor chat). */
export function assertValid(validation: JsonlValidation): void {
  if (validation.badLines === 0 && validation.format !== undefined) return;
  const more = validation.badLines - validation.problems.length;
  const summary =
    validation.format === undefined
      ? `${validation.path} is neither a text dataset ({"text": ...} per line) nor a chat dataset ({"messages": [...]} per line)`
      : `${validation.path}: ${validation.badLines} bad line${validation.badLines === 1 ? '' : 's'} in a ${validation.format} dataset`;
  throw new TrainerError({
    code: 'trainer/invalid-dataset',
    summary: more > 0 ? `${summary} (the first ${validation.problems.length} listed)` : summary,
    problems: validation.problems,
  });
}
