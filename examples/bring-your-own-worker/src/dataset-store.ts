import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Dataset, DatasetFormat, type UploadHeader } from '@midspec/proto';
import { checkRecord } from './check-record.js';
import {
  badState,
  ContractError,
  checksumMismatch,
  datasetNotFound,
  invalidData,
  invalidRequest,
  uploadIncomplete,
} from './worker-errors.js';

const SAFE_NAME = /^[A-Za-z0-9._-]{1,200}$/;
const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Content-addressed JSONL datasets in a folder: `<sha256>.jsonl` beside `<sha256>.json` (its
 * metadata), and `uploads/<sha256>.part` for the bytes of an interrupted upload, kept for resume.
 */
export class DatasetStore {
  private readonly datasets = new Map<string, Dataset>();
  private readonly active = new Map<string, Promise<Dataset>>();

  private constructor(readonly directory: string) {}

  static async open(directory: string): Promise<DatasetStore> {
    const store = new DatasetStore(directory);
    await mkdir(join(directory, 'uploads'), { recursive: true });
    for (const file of await readdir(directory)) {
      if (!file.endsWith('.json')) continue;
      const dataset = JSON.parse(await readFile(join(directory, file), 'utf8')) as Dataset;
      dataset.createdAt = dataset.createdAt ? new Date(dataset.createdAt) : undefined;
      store.datasets.set(dataset.id, dataset);
    }
    return store;
  }

  get(id: string): Dataset {
    const dataset = this.datasets.get(id);
    if (!dataset) throw datasetNotFound(id);
    return dataset;
  }

  list(): Dataset[] {
    return [...this.datasets.values()];
  }

  /** The file holding a stored dataset, for the training command. */
  path(id: string): string {
    return join(this.directory, `${this.get(id).id}.jsonl`);
  }

  async status(sha256: string): Promise<{ complete: boolean; receivedBytes: number }> {
    const dataset = this.datasets.get(sha256);
    if (dataset) return { complete: true, receivedBytes: dataset.sizeBytes };
    return { complete: false, receivedBytes: await this.held(sha256) };
  }

  /** Receives one upload: checks the header, appends chunks, then verifies size, hash and lines. */
  async upload(
    header: UploadHeader,
    chunks: AsyncIterable<Uint8Array>,
  ): Promise<{ dataset: Dataset; alreadyExisted: boolean }> {
    checkHeader(header);
    const existing = this.datasets.get(header.sha256);
    if (existing) {
      // Content-addressed: the bytes are here already, the rest of the stream is not needed.
      return { dataset: existing, alreadyExisted: true };
    }
    // A client resuming right after its stream broke can overtake the broken call's cleanup:
    // give that call a moment to settle before calling the upload busy.
    const previous = this.active.get(header.sha256);
    if (previous) await Promise.race([previous.catch(() => undefined), sleep(2_000)]);
    if (this.active.has(header.sha256))
      throw badState(`an upload of ${header.sha256} is already in progress`);
    const receiving = this.receive(header, chunks);
    this.active.set(header.sha256, receiving);
    try {
      return { dataset: await receiving, alreadyExisted: false };
    } finally {
      this.active.delete(header.sha256);
    }
  }

  private async receive(header: UploadHeader, chunks: AsyncIterable<Uint8Array>): Promise<Dataset> {
    const part = this.partPath(header.sha256);
    const held = await this.held(header.sha256);
    if (header.offset !== 0 && header.offset !== held)
      throw badState(
        `upload offset ${header.offset} does not match the ${held} bytes held; ask GetUploadStatus where to resume`,
      );
    let received = header.offset;
    const out = createWriteStream(part, { flags: header.offset ? 'a' : 'w' });
    try {
      for await (const chunk of chunks) {
        received += chunk.length;
        if (received > header.sizeBytes)
          throw checksumMismatch(`received more than the declared ${header.sizeBytes} bytes`);
        if (!out.write(chunk))
          await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      }
    } catch (error) {
      await close(out);
      // Rejected for its content: nothing is left behind. A broken stream keeps its bytes.
      if (error instanceof ContractError) await rm(part, { force: true });
      throw error;
    }
    await close(out);
    // A stream that ends early is an interrupted upload, as a broken one is: keep the bytes.
    if (received < header.sizeBytes)
      throw uploadIncomplete(
        `the upload stream ended after ${received} of ${header.sizeBytes} bytes; the bytes are kept: resume with header.offset=${received} (see GetUploadStatus)`,
      );
    try {
      const digest = await hashFile(part);
      if (digest !== header.sha256)
        throw checksumMismatch(`sha256 mismatch: declared ${header.sha256}, received ${digest}`);
      const numRecords = await countRecords(part, header.format);
      const dataset: Dataset = {
        id: header.sha256,
        name: header.name,
        format: header.format,
        sha256: header.sha256,
        sizeBytes: header.sizeBytes,
        numRecords,
        createdAt: new Date(),
      };
      await rename(part, join(this.directory, `${dataset.id}.jsonl`));
      await writeFile(join(this.directory, `${dataset.id}.json`), JSON.stringify(dataset));
      this.datasets.set(dataset.id, dataset);
      return dataset;
    } catch (error) {
      await rm(part, { force: true });
      throw error;
    }
  }

  private partPath(sha256: string): string {
    return join(this.directory, 'uploads', `${sha256}.part`);
  }

  private async held(sha256: string): Promise<number> {
    if (!SHA256.test(sha256)) return 0;
    return stat(this.partPath(sha256)).then(
      (info) => info.size,
      () => 0,
    );
  }
}

function checkHeader(header: UploadHeader): void {
  const problems: string[] = [];
  if (!SAFE_NAME.test(header.name) || header.name === '.' || header.name === '..')
    problems.push("name must be 1-200 letters, digits, '.', '_' or '-'");
  if (
    header.format !== DatasetFormat.DATASET_FORMAT_TEXT &&
    header.format !== DatasetFormat.DATASET_FORMAT_CHAT
  )
    problems.push('format must be DATASET_FORMAT_TEXT or DATASET_FORMAT_CHAT');
  if (!SHA256.test(header.sha256)) problems.push('sha256 must be 64 lower-case hex digits');
  if (header.sizeBytes < 0) problems.push('size_bytes must not be negative');
  if (header.offset < 0 || header.offset > header.sizeBytes)
    problems.push('offset must be between 0 and size_bytes');
  if (problems.length > 0) throw invalidRequest(`invalid upload header: ${problems.join('; ')}`);
}

function close(out: WriteStream): Promise<void> {
  return new Promise((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const block of createReadStream(path)) hash.update(block as Buffer);
  return hash.digest('hex');
}

async function countRecords(path: string, format: DatasetFormat): Promise<number> {
  let count = 0;
  let line = 0;
  for await (const raw of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    line += 1;
    if (raw.trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(raw);
    } catch (error) {
      throw invalidData(`line ${line}: not valid JSON (${(error as Error).message})`, line);
    }
    const problem = checkRecord(record, format);
    if (problem) throw invalidData(`line ${line}: ${problem}`, line);
    count += 1;
  }
  if (count === 0) throw invalidData('the dataset has no records', 1);
  return count;
}
