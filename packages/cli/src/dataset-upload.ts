import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import {
  type CallOptions,
  type Dataset,
  DatasetFormat,
  type WorkerClient,
  WorkerError,
} from '@midspec/proto';
import { CliUsageError } from './cli-usage-error.js';

const CHUNK_BYTES = 1024 * 1024;

export interface UploadProgress {
  sentBytes: number;
  totalBytes: number;
}

export interface UploadedDataset {
  dataset: Dataset;
  alreadyExisted: boolean;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES }))
    hash.update(chunk);
  return hash.digest('hex');
}

function uploadName(path: string): string {
  const name = basename(path).replace(/[^A-Za-z0-9._-]/g, '_');
  return name.length > 0 ? name.slice(0, 128) : 'dataset.jsonl';
}

/**
 * Streams a JSONL file to the worker: hashes it first, asks the worker what it already holds (a
 * finished upload is skipped, a broken one resumes from its offset), then sends the rest in 1 MiB
 * chunks. The file is never read into memory whole.
 */
export async function uploadDatasetFile(
  client: WorkerClient,
  path: string,
  format: DatasetFormat,
  options: CallOptions & { onProgress?: (progress: UploadProgress) => void } = {},
): Promise<UploadedDataset> {
  const info = await stat(path).catch((error: unknown) => {
    throw new CliUsageError(`cannot read dataset ${path}: ${(error as Error).message}`, error);
  });
  if (!info.isFile()) throw new CliUsageError(`dataset ${path} is not a file`);
  const sha256 = await sha256File(path);

  let offset = 0;
  try {
    const status = await client.getUploadStatus({ sha256 }, options);
    if (status.complete && status.dataset) return { dataset: status.dataset, alreadyExisted: true };
    offset = status.receivedBytes;
  } catch (error) {
    // A worker without resumable uploads simply gets the whole file.
    if (!(WorkerError.isInstance(error) && error.grpcStatus === 'UNIMPLEMENTED')) throw error;
  }

  const onProgress = options.onProgress;
  async function* parts() {
    yield {
      part: {
        $case: 'header' as const,
        header: { name: uploadName(path), format, sha256, sizeBytes: info.size, offset },
      },
    };
    let sent = offset;
    for await (const chunk of createReadStream(path, {
      start: offset,
      highWaterMark: CHUNK_BYTES,
    })) {
      sent += (chunk as Buffer).length;
      yield { part: { $case: 'chunk' as const, chunk: chunk as Buffer } };
      onProgress?.({ sentBytes: sent, totalBytes: info.size });
    }
  }
  const response = await client.uploadDataset(parts(), { signal: options.signal });
  if (!response.dataset) throw new CliUsageError(`the worker returned no dataset for ${path}`);
  return { dataset: response.dataset, alreadyExisted: response.alreadyExisted };
}

export { DatasetFormat };
