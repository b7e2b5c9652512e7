import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import type { CallOptions } from '@midspec/core';
import {
  type Checkpoint,
  type CheckpointFile,
  CheckpointFormat,
  type WorkerClient,
} from '@midspec/proto';
import { TrainerError } from './trainer-error.js';

export interface DownloadProgress {
  file: string;
  bytes: number;
  totalBytes: number;
}

export interface DownloadedCheckpoint {
  checkpoint: Checkpoint | undefined;
  directory: string;
  files: CheckpointFile[];
}

/** A run's checkpoints, oldest first. */
export async function listCheckpoints(
  client: WorkerClient,
  runId: string,
  options: CallOptions = {},
): Promise<Checkpoint[]> {
  return (await client.listCheckpoints({ runId }, options)).checkpoints;
}

/**
 * Downloads a checkpoint into `directory`, streaming: each file is written as its chunks arrive,
 * hashed on the way, and moved into place only when its size and sha256 match the manifest. Paths
 * from the worker are checked to stay inside `directory`. On any failure the partial files are
 * removed.
 */
export async function downloadCheckpoint(
  client: WorkerClient,
  runId: string,
  directory: string,
  options: CallOptions & {
    checkpointId?: string;
    format?: CheckpointFormat;
    onProgress?: (progress: DownloadProgress) => void;
  } = {},
): Promise<DownloadedCheckpoint> {
  const stream = client.downloadCheckpoint(
    {
      runId,
      checkpointId: options.checkpointId ?? '',
      format: options.format ?? CheckpointFormat.CHECKPOINT_FORMAT_UNSPECIFIED,
    },
    options,
  );
  let manifest: { checkpoint: Checkpoint | undefined; files: CheckpointFile[] } | undefined;
  const totalBytes = (): number =>
    manifest?.files.reduce((sum, file) => sum + Number(file.sizeBytes), 0) ?? 0;
  let current:
    | {
        file: CheckpointFile;
        target: string;
        partial: string;
        out: WriteStream;
        hash: ReturnType<typeof createHash>;
        written: number;
      }
    | undefined;
  const done: string[] = [];
  let fileIndex = 0;
  let received = 0;
  const fail = (message: string): never => {
    throw new TrainerError({
      code: 'trainer/checksum-mismatch',
      summary: `checkpoint download of run ${runId}: ${message}`,
    });
  };
  const finish = async () => {
    if (!current) return;
    const open = current;
    current = undefined;
    await closeStream(open.out);
    const digest = open.hash.digest('hex');
    let problem: string | undefined;
    if (open.written !== Number(open.file.sizeBytes))
      problem = `${open.file.path}: expected ${open.file.sizeBytes} bytes, received ${open.written}`;
    else if (digest !== open.file.sha256)
      problem = `${open.file.path}: sha256 ${digest} does not match the manifest's ${open.file.sha256}`;
    if (problem !== undefined) {
      await rm(open.partial, { force: true });
      fail(problem);
    }
    await rename(open.partial, open.target);
    done.push(open.target);
  };
  const start = async (file: CheckpointFile) => {
    const target = safeJoin(directory, file.path);
    await mkdir(dirname(target), { recursive: true });
    const partial = `${target}.partial`;
    current = {
      file,
      target,
      partial,
      out: createWriteStream(partial),
      hash: createHash('sha256'),
      written: 0,
    };
  };
  try {
    await mkdir(directory, { recursive: true });
    for await (const message of stream) {
      const part = message.part;
      if (part?.$case === 'manifest') {
        if (manifest) fail('a second manifest arrived');
        manifest = { checkpoint: part.manifest.checkpoint, files: part.manifest.files };
        for (const file of manifest.files) safeJoin(directory, file.path);
        continue;
      }
      if (part?.$case !== 'chunk') continue;
      if (!manifest) fail('file data arrived before the manifest');
      const chunk = part.chunk;
      if (!current || current.file.path !== chunk.path) {
        await finish();
        // Files arrive in manifest order; empty files have no chunks and are created here.
        for (;;) {
          const next = manifest?.files[fileIndex];
          fileIndex += 1;
          if (!next) fail(`unexpected data for ${chunk.path}`);
          await start(next as CheckpointFile);
          if (next?.path === chunk.path) break;
          await finish();
        }
      }
      const open = current as unknown as NonNullable<typeof current>;
      if (Number(chunk.offset) !== open.written)
        fail(`${chunk.path}: chunk at offset ${chunk.offset}, expected ${open.written}`);
      open.hash.update(chunk.data);
      open.written += chunk.data.length;
      received += chunk.data.length;
      if (!open.out.write(chunk.data))
        await new Promise<void>((resolve) => open.out.once('drain', () => resolve()));
      options.onProgress?.({ file: chunk.path, bytes: received, totalBytes: totalBytes() });
    }
    if (!manifest) fail('the stream ended without a manifest');
    await finish();
    const remaining = manifest?.files.slice(fileIndex) ?? [];
    for (const file of remaining) {
      await start(file);
      await finish();
    }
  } catch (error) {
    if (current) {
      current.out.destroy();
      await rm(current.partial, { force: true });
    }
    await Promise.all(done.map((file) => rm(file, { force: true })));
    throw error;
  }
  return { checkpoint: manifest?.checkpoint, directory, files: manifest?.files ?? [] };
}

function closeStream(out: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    out.once('error', reject);
    out.end(() => resolve());
  });
}

/** `directory/relative`, refusing absolute paths and any `..` that would leave `directory`. */
function safeJoin(directory: string, relative: string): string {
  const normalized = normalize(relative.split('/').join(sep));
  if (
    relative === '' ||
    isAbsolute(relative) ||
    normalized === '..' ||
    normalized.startsWith(`..${sep}`) ||
    relative.includes('\0')
  ) {
    throw new TrainerError({
      code: 'trainer/checksum-mismatch',
      summary: `the worker sent an unsafe file path "${relative}" in a checkpoint download`,
    });
  }
  return join(directory, normalized);
}
