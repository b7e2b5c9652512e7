import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

const CHUNK_BYTES = 1024 * 1024;

export interface HashFileOptions {
  signal?: AbortSignal;
  /** Bytes read so far, after each chunk. */
  onProgress?: (bytes: number) => void;
  /** Each chunk as it is read, for a caller that checks the content in the same pass. */
  onChunk?: (chunk: Buffer) => void;
}

/** The lower-case hex sha256 of a file, read once in 1 MiB chunks. */
export async function sha256File(path: string, options: HashFileOptions = {}): Promise<string> {
  const hash = createHash('sha256');
  let bytes = 0;
  const stream = createReadStream(path, { highWaterMark: CHUNK_BYTES, signal: options.signal });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    options.onChunk?.(chunk);
    bytes += chunk.length;
    options.onProgress?.(bytes);
  }
  return hash.digest('hex');
}
