import { createHash } from 'node:crypto';
import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { type Dataset, DatasetFormat, type UploadHeader, type WorkerServer } from '@midspec/proto';
import { checkRecord } from '@midspec/trainer';

// The upload half of the in-memory fake worker (fake-worker.ts): content-addressed, resumable,
// validated uploads, and the faults that break them on purpose.

export interface FakeWorkerFaults {
  /** Break the next N uploads after this many bytes of chunks (the partial bytes are kept). */
  dropUploadAfterBytes?: number;
  dropUploads?: number;
  /** End the next N watch streams with UNAVAILABLE after this many events. */
  dropWatchAfterEvents?: number;
  dropWatches?: number;
  /** Store the next N submitted runs, then answer UNAVAILABLE as if the response were lost. */
  loseSubmitResponses?: number;
  /** Serve checkpoint bytes that do not match their manifest hashes. */
  corruptCheckpoints?: boolean;
}

export function failure(
  code: status,
  details: string,
  reason: string,
  retryable = false,
  line?: number,
): ServiceError {
  const metadata = new Metadata();
  metadata.set('midspec-reason', reason);
  metadata.set('midspec-retryable', String(retryable));
  if (line !== undefined) metadata.set('midspec-line', String(line));
  return Object.assign(new Error(details), { code, details, metadata });
}

/**
 * Checks a dataset's lines as its bytes arrive, as the reference worker does: `feed` returns the
 * first bad line (number and problem), so an upload can be refused before the rest is sent.
 */
function lineChecker(format: 'text' | 'chat') {
  let carry = Buffer.alloc(0);
  let line = 0;
  let records = 0;
  const check = (bytes: Buffer): { line: number; problem: string } | undefined => {
    line += 1;
    const text = bytes.toString('utf8');
    if (!text.trim()) return undefined;
    let problem: string | undefined;
    try {
      problem = checkRecord(JSON.parse(text), format);
    } catch {
      problem = 'not valid JSON';
    }
    if (problem) return { line, problem };
    records += 1;
    return undefined;
  };
  return {
    feed(chunk: Buffer) {
      const bytes = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      let start = 0;
      for (let newline = bytes.indexOf(10); newline !== -1; newline = bytes.indexOf(10, start)) {
        const bad = check(bytes.subarray(start, newline));
        if (bad) return bad;
        start = newline + 1;
      }
      carry = Buffer.from(bytes.subarray(start));
      return undefined;
    },
    finish() {
      const bad = carry.length > 0 ? check(carry) : undefined;
      carry = Buffer.alloc(0);
      return { bad, records };
    },
  };
}

/** What the upload handlers count and which faults they obey. */
export interface FakeUploadState {
  faults: FakeWorkerFaults;
  uploadedBytes: number;
  uploadCalls: number;
}

export function fakeUploadHandlers(
  state: FakeUploadState,
  datasets: Map<string, Dataset>,
  contents?: Map<string, Buffer>,
): Pick<WorkerServer, 'getUploadStatus' | 'uploadDataset'> {
  const partial = new Map<string, Buffer[]>();
  return {
    getUploadStatus: (call, callback) => {
      const sha = call.request.sha256;
      if (!/^[0-9a-f]{64}$/.test(sha))
        return callback(
          failure(
            status.INVALID_ARGUMENT,
            'sha256 must be 64 hex digits',
            'ERROR_REASON_INVALID_REQUEST',
          ),
        );
      const dataset = datasets.get(sha);
      if (dataset)
        return callback(null, { complete: true, receivedBytes: dataset.sizeBytes, dataset });
      const held = (partial.get(sha) ?? []).reduce((sum, chunk) => sum + chunk.length, 0);
      callback(null, { complete: false, receivedBytes: held, dataset: undefined });
    },
    uploadDataset: (call, callback) => {
      state.uploadCalls += 1;
      let header: UploadHeader | undefined;
      let chunks: Buffer[] = [];
      let lines: ReturnType<typeof lineChecker> | undefined;
      let received = 0;
      let failed = false;
      const drop =
        state.faults.dropUploads && state.faults.dropUploads > 0
          ? state.faults.dropUploadAfterBytes
          : undefined;
      if (drop !== undefined) state.faults.dropUploads = (state.faults.dropUploads ?? 1) - 1;
      const fail = (error: ServiceError) => {
        if (failed) return;
        failed = true;
        callback(error);
      };
      const refuse = (bad: { line: number; problem: string }) => {
        if (header) partial.delete(header.sha256);
        fail(
          failure(
            status.INVALID_ARGUMENT,
            `line ${bad.line}: ${bad.problem}`,
            'ERROR_REASON_INVALID_DATA',
            false,
            bad.line,
          ),
        );
      };
      call.on(
        'data',
        (message: { part?: { $case: string; header?: UploadHeader; chunk?: Buffer } }) => {
          if (failed) return;
          const part = message.part;
          if (!header) {
            if (part?.$case !== 'header' || !part.header)
              return fail(
                failure(
                  status.INVALID_ARGUMENT,
                  'the first message must be a header',
                  'ERROR_REASON_INVALID_REQUEST',
                ),
              );
            header = part.header;
            if (
              !/^[0-9a-f]{64}$/.test(header.sha256) ||
              !/^[A-Za-z0-9._-]+$/.test(header.name) ||
              header.format === DatasetFormat.DATASET_FORMAT_UNSPECIFIED
            )
              return fail(
                failure(
                  status.INVALID_ARGUMENT,
                  'invalid upload header',
                  'ERROR_REASON_INVALID_REQUEST',
                ),
              );
            const existing = datasets.get(header.sha256);
            if (existing) {
              failed = true;
              return callback(null, { dataset: existing, alreadyExisted: true });
            }
            const held = partial.get(header.sha256) ?? [];
            const heldBytes = held.reduce((sum, chunk) => sum + chunk.length, 0);
            if (header.offset !== 0 && header.offset !== heldBytes)
              return fail(
                failure(
                  status.FAILED_PRECONDITION,
                  `offset ${header.offset} does not match the ${heldBytes} bytes held`,
                  'ERROR_REASON_BAD_STATE',
                ),
              );
            chunks = header.offset === 0 ? [] : held;
            received = header.offset;
            partial.set(header.sha256, chunks);
            lines = lineChecker(
              header.format === DatasetFormat.DATASET_FORMAT_TEXT ? 'text' : 'chat',
            );
            // The held bytes of a resumed upload are checked again, before the new ones.
            for (const chunk of chunks) {
              const bad = lines.feed(chunk);
              if (bad) return refuse(bad);
            }
            return;
          }
          const chunk = part?.chunk ?? Buffer.alloc(0);
          chunks.push(Buffer.from(chunk));
          received += chunk.length;
          state.uploadedBytes += chunk.length;
          const bad = lines?.feed(chunk);
          if (bad) return refuse(bad);
          if (drop !== undefined && received - header.offset >= drop) {
            fail(
              failure(
                status.UNAVAILABLE,
                'connection dropped (fault injected)',
                'ERROR_REASON_INTERNAL',
                true,
              ),
            );
          }
        },
      );
      // A cancelled stream (a broken connection) keeps its bytes for a resume.
      call.on('cancelled', () => {
        failed = true;
      });
      call.on('end', () => finish());
      const finish = () => {
        if (call.cancelled) return;
        if (failed || !header)
          return fail(
            failure(status.INVALID_ARGUMENT, 'no header', 'ERROR_REASON_INVALID_REQUEST'),
          );
        const bytes = Buffer.concat(chunks);
        // As the reference worker: a stream that ends short is an interrupted upload, kept for a resume.
        if (bytes.length < header.sizeBytes)
          return fail(
            failure(
              status.FAILED_PRECONDITION,
              `the upload stream ended after ${bytes.length} of ${header.sizeBytes} bytes; resume from there`,
              'ERROR_REASON_BAD_STATE',
              true,
            ),
          );
        const sha = createHash('sha256').update(bytes).digest('hex');
        if (bytes.length !== header.sizeBytes || sha !== header.sha256) {
          partial.delete(header.sha256);
          return fail(
            failure(
              status.INVALID_ARGUMENT,
              `sha256/size mismatch: got ${sha}, ${bytes.length} bytes`,
              'ERROR_REASON_CHECKSUM_MISMATCH',
            ),
          );
        }
        const { bad, records } = (lines as ReturnType<typeof lineChecker>).finish();
        if (bad) return refuse(bad);
        partial.delete(header.sha256);
        const dataset: Dataset = {
          id: sha,
          name: header.name,
          format: header.format,
          sha256: sha,
          sizeBytes: bytes.length,
          numRecords: records,
          createdAt: new Date(),
        };
        datasets.set(sha, dataset);
        contents?.set(sha, bytes);
        callback(null, { dataset, alreadyExisted: false });
      };
    },
  };
}
