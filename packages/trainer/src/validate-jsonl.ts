import { isUtf8 } from 'node:buffer';
import { open, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { DatasetFormatName } from './curriculum.js';
import { sha256File } from './hash-file.js';
import type { Problem } from './trainer-error.js';

const CHUNK_BYTES = 1024 * 1024;
/** Bad lines kept in memory; the count goes on beyond it. */
const MAX_KEPT_PROBLEMS = 10_000;
/** Files from this size on are checked by worker threads, each taking a range of whole lines. */
const PARALLEL_MIN_BYTES = 32 * 1024 * 1024;
/** The per-record (per-line) byte cap, the same as the reference worker's default. */
export const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;
/** How deep a record's JSON may nest (the reference worker's limit). */
export const MAX_NESTING_DEPTH = 64;

/** Size figures of a dataset. Tokens are estimated locally (about 4 characters each). */
export interface DatasetStatistics {
  records: number;
  bytes: number;
  characters: number;
  /** characters / 4: a planning estimate; the worker's tokenizer gives the exact count. */
  estimatedTokens: number;
  minCharacters: number;
  maxCharacters: number;
  meanCharacters: number;
  /** Chat datasets: messages over all records, and per role. */
  messages: number;
  roles: Record<string, number>;
  /** Chat datasets: assistant turns that carry a reasoning block. */
  reasoningBlocks: number;
}

export interface JsonlValidation {
  path: string;
  /** The detected (or declared) format; undefined when the file is neither text nor chat. */
  format: DatasetFormatName | undefined;
  sha256: string;
  sizeBytes: number;
  statistics: DatasetStatistics;
  /** Every bad line (up to 10 000 kept; `badLines` counts them all), each with its number. */
  problems: Problem[];
  badLines: number;
}

/** What is wrong with one record of a format, or undefined. Mirrors the reference worker's check. */
export function checkRecord(record: unknown, format: DatasetFormatName): string | undefined {
  const roles = ['system', 'user', 'assistant', 'tool'];
  if (typeof record !== 'object' || record === null || Array.isArray(record))
    return 'expected a JSON object';
  const object = record as Record<string, unknown>;
  if (format === 'text') {
    return typeof object.text === 'string' && object.text.length > 0
      ? undefined
      : 'expected a non-empty string field "text"';
  }
  const messages = object.messages;
  if (!Array.isArray(messages) || messages.length === 0)
    return 'expected a non-empty list field "messages"';
  let assistant = false;
  for (const [index, message] of messages.entries()) {
    if (typeof message !== 'object' || message === null)
      return `messages[${index}] is not an object`;
    const { role, content, reasoning, tool_calls } = message as Record<string, unknown>;
    if (typeof role !== 'string' || !roles.includes(role))
      return `messages[${index}].role must be one of system, user, assistant, tool`;
    // An assistant turn that only calls tools may have null content (the OpenAI chat format).
    if (typeof content !== 'string' && !(content === null && Array.isArray(tool_calls)))
      return `messages[${index}].content must be a string`;
    if (tool_calls !== undefined && (role !== 'assistant' || !Array.isArray(tool_calls)))
      return `messages[${index}].tool_calls must be a list on an assistant message`;
    if (reasoning !== undefined && typeof reasoning !== 'string')
      return `messages[${index}].reasoning must be a string`;
    if (role === 'assistant') assistant = true;
  }
  return assistant ? undefined : 'expected at least one assistant message';
}

/**
 * What is wrong with a record's shape beyond its format: nesting deeper than MAX_NESTING_DEPTH, or a
 * string holding a lone UTF-16 surrogate (JSON.parse accepts "\ud800"; no UTF-8 text holds it).
 * Iterative, so no depth overflows the stack.
 */
export function structureProblem(record: unknown): string | undefined {
  const lone = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
  const stack: Array<[unknown, number]> = [[record, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (typeof item === 'string') {
      const found = lone.exec(item);
      if (found)
        return `a string holds the lone surrogate \\u${found[0].charCodeAt(0).toString(16)}, which is not valid Unicode text`;
    } else if (typeof item === 'object' && item !== null) {
      // 64 is MAX_NESTING_DEPTH, spelled out: this function also runs alone in worker threads.
      if (depth + 1 > 64) return 'JSON nested deeper than 64 levels';
      const entries = Array.isArray(item) ? item : Object.entries(item).flat();
      for (const child of entries) stack.push([child, depth + 1]);
    }
  }
  return undefined;
}

/** text when the record has a "text" field, chat when it has "messages", otherwise undefined. */
export function detectFormat(record: unknown): DatasetFormatName | undefined {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return undefined;
  if ('text' in record) return 'text';
  if ('messages' in record) return 'chat';
  return undefined;
}

/** What one scan of whole lines found; line numbers count from the scan's first line. */
interface ScanResult {
  format: DatasetFormatName | undefined;
  undetectable: boolean;
  lines: number;
  badLines: number;
  problems: { line: number; message: string }[];
  statistics: DatasetStatistics;
}

interface Scanner {
  feed(chunk: Buffer): void;
  finish(): ScanResult;
}

/**
 * A line-by-line checker fed chunks of any size. It refers to nothing outside itself but the
 * functions it is given (and checkRecord, detectFormat, countRecord, isBlank, which are sent along
 * as source): worker threads run this same code from its source text.
 */
function createScanner(
  utf8: (bytes: Buffer) => boolean,
  declared: DatasetFormatName | undefined,
  maxProblems: number,
  maxLineBytes: number,
): Scanner {
  const result: ScanResult = {
    format: declared,
    undetectable: false,
    lines: 0,
    badLines: 0,
    problems: [],
    statistics: {
      records: 0,
      bytes: 0,
      characters: 0,
      estimatedTokens: 0,
      minCharacters: 0,
      maxCharacters: 0,
      meanCharacters: 0,
      messages: 0,
      roles: {},
      reasoningBlocks: 0,
    },
  };
  const bad = (line: number, message: string) => {
    result.badLines += 1;
    if (result.problems.length < maxProblems) result.problems.push({ line, message });
  };
  const checkLine = (bytes: Buffer) => {
    result.lines += 1;
    const lineNumber = result.lines;
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 13) end -= 1;
    const line = bytes.subarray(0, end);
    if (line.length > maxLineBytes) return bad(lineNumber, tooLong);
    if (isBlank(line)) return;
    if (!utf8(line)) return bad(lineNumber, 'not valid UTF-8');
    let record: unknown;
    try {
      record = JSON.parse(line.toString('utf8'));
    } catch (error) {
      return bad(lineNumber, `not valid JSON (${(error as Error).message})`);
    }
    if (result.format === undefined && !result.undetectable) {
      result.format = detectFormat(record);
      if (result.format === undefined) {
        result.undetectable = true;
        return bad(
          lineNumber,
          'neither a text record ({"text": ...}) nor a chat record ({"messages": [...]})',
        );
      }
    }
    if (result.format === undefined) return;
    const problem = structureProblem(record) ?? checkRecord(record, result.format);
    if (problem !== undefined) return bad(lineNumber, problem);
    countRecord(result.statistics, record as Record<string, unknown>, result.format);
  };
  const tooLong = `longer than the per-record cap of ${maxLineBytes} bytes (maxRecordBytes)`;
  let carry: Buffer | undefined;
  // Past the cap a line is reported once and its remaining bytes are skipped, never held.
  let skipping = false;
  return {
    feed(chunk) {
      result.statistics.bytes += chunk.length;
      let start = 0;
      for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
        if (skipping) {
          skipping = false;
          result.lines += 1;
        } else {
          const piece = chunk.subarray(start, newline);
          checkLine(carry ? Buffer.concat([carry, piece]) : piece);
        }
        carry = undefined;
        start = newline + 1;
      }
      if (start < chunk.length && !skipping) {
        const rest = chunk.subarray(start);
        // Copied: the reader may reuse the chunk's memory.
        carry = carry ? Buffer.concat([carry, rest]) : Buffer.from(rest);
        if (carry.length > maxLineBytes) {
          bad(result.lines + 1, tooLong);
          carry = undefined;
          skipping = true;
        }
      }
    },
    finish() {
      if (carry) checkLine(carry);
      else if (skipping) result.lines += 1;
      carry = undefined;
      skipping = false;
      return result;
    },
  };
}

/** The code a validation thread runs: read its byte range (whole lines) and scan it. */
function threadMain(
  threads: typeof import('node:worker_threads'),
  fs: typeof import('node:fs'),
  buffer: typeof import('node:buffer'),
): void {
  const job = threads.workerData as { path: string; start: number; end: number } & {
    format: DatasetFormatName;
    maxProblems: number;
    chunkBytes: number;
    maxLineBytes: number;
  };
  const scanner = createScanner(buffer.isUtf8, job.format, job.maxProblems, job.maxLineBytes);
  const fd = fs.openSync(job.path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(job.chunkBytes);
    for (let at = job.start; at < job.end; ) {
      const read = fs.readSync(fd, chunk, 0, Math.min(chunk.length, job.end - at), at);
      if (read === 0) break;
      scanner.feed(chunk.subarray(0, read));
      at += read;
    }
  } finally {
    fs.closeSync(fd);
  }
  threads.parentPort?.postMessage(scanner.finish());
}

const THREAD_SOURCE = [
  'const __name = (target) => target;', // in case a transpiler keeps function names this way
  checkRecord,
  structureProblem,
  detectFormat,
  countRecord,
  isBlank,
  createScanner,
  threadMain,
]
  .map(String)
  .concat(
    `${threadMain.name}(require('node:worker_threads'), require('node:fs'), require('node:buffer'));`,
  )
  .join('\n');

/**
 * Reads a JSONL file once, streaming: hashes it, detects text vs chat from the first record (unless
 * `format` is given), checks every line and gathers size statistics. Files of 32 MiB and more are
 * checked by worker threads (`threads`, default min(4, cores)), each over a range of whole lines,
 * while the main thread hashes; smaller ones in the main thread. Never holds more than a chunk and
 * a line per thread in memory.
 */
export async function validateJsonlFile(
  path: string,
  options: {
    format?: DatasetFormatName;
    signal?: AbortSignal;
    onProgress?: (bytes: number) => void;
    /** Worker threads for a large file (default min(4, cores)); 0 checks it in the main thread. */
    threads?: number;
    /** The size from which worker threads are used (default 32 MiB). */
    parallelMinBytes?: number;
    /** The per-record (per-line) byte cap (default 16 MiB, as the reference worker's). */
    maxRecordBytes?: number;
  } = {},
): Promise<JsonlValidation> {
  const { size } = await stat(path);
  const threads = Math.max(0, options.threads ?? Math.min(4, availableParallelism()));
  const parallel = threads > 0 && size >= (options.parallelMinBytes ?? PARALLEL_MIN_BYTES);
  // Threads need the format up front; a file whose first record does not show it is scanned once.
  const format = options.format ?? (parallel ? await sniffFormat(path) : undefined);
  const maxLineBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  let scan: ScanResult;
  let sha256: string;
  if (parallel && format !== undefined) {
    const ranges = await lineRanges(path, size, threads);
    const scans = ranges.map((range) =>
      scanInThread(path, range, format, maxLineBytes, options.signal),
    );
    // The workers' failures are reported once hashing is over (or aborted): never unobserved.
    for (const pending of scans) pending.catch(() => {});
    sha256 = await sha256File(path, options);
    scan = mergeScans(await Promise.all(scans));
  } else {
    const scanner = createScanner(isUtf8, options.format, MAX_KEPT_PROBLEMS, maxLineBytes);
    sha256 = await sha256File(path, { ...options, onChunk: (chunk) => scanner.feed(chunk) });
    scan = scanner.finish();
  }
  const stats = scan.statistics;
  stats.bytes = size;
  const problems = scan.problems.map(({ line, message }) => ({
    path: '',
    file: path,
    line,
    message,
  }));
  let badLines = scan.badLines;
  if (stats.records === 0 && badLines === 0) {
    badLines = 1;
    problems.push({
      path: '',
      file: path,
      line: Math.max(1, scan.lines),
      message: 'the file has no records',
    });
  }
  stats.estimatedTokens = Math.round(stats.characters / 4);
  stats.meanCharacters = stats.records > 0 ? stats.characters / stats.records : 0;
  return {
    path,
    format: scan.undetectable ? undefined : scan.format,
    sha256,
    sizeBytes: size,
    statistics: stats,
    problems,
    badLines,
  };
}

/** The format of the first non-blank line, when it is a valid record; otherwise undefined. */
async function sniffFormat(path: string): Promise<DatasetFormatName | undefined> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    for (const line of buffer.subarray(0, bytesRead).toString('utf8').split('\n').slice(0, -1)) {
      if (line.trim() === '') continue;
      try {
        const record: unknown = JSON.parse(line);
        const format = detectFormat(record);
        return format !== undefined && checkRecord(record, format) === undefined
          ? format
          : undefined;
      } catch {
        return undefined;
      }
    }
    return undefined;
  } finally {
    await handle.close();
  }
}

/** Up to `count` byte ranges of whole lines covering the file (each ends after a newline). */
async function lineRanges(
  path: string,
  size: number,
  count: number,
): Promise<{ start: number; end: number }[]> {
  const handle = await open(path, 'r');
  try {
    const cuts = [0];
    const window = Buffer.alloc(64 * 1024);
    for (let index = 1; index < count; index += 1) {
      let at = Math.max(Math.floor((size * index) / count), cuts[cuts.length - 1] as number);
      for (;;) {
        const { bytesRead } = await handle.read(window, 0, window.length, at);
        if (bytesRead === 0) {
          at = size;
          break;
        }
        const newline = window.subarray(0, bytesRead).indexOf(10);
        if (newline !== -1) {
          at += newline + 1;
          break;
        }
        at += bytesRead;
      }
      if (at >= size) break;
      if (at > (cuts[cuts.length - 1] as number)) cuts.push(at);
    }
    cuts.push(size);
    return cuts.slice(0, -1).map((start, index) => ({ start, end: cuts[index + 1] as number }));
  } finally {
    await handle.close();
  }
}

function scanInThread(
  path: string,
  range: { start: number; end: number },
  format: DatasetFormatName,
  maxLineBytes: number,
  signal: AbortSignal | undefined,
): Promise<ScanResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: {
        path,
        ...range,
        format,
        maxProblems: MAX_KEPT_PROBLEMS,
        chunkBytes: CHUNK_BYTES,
        maxLineBytes,
      },
    });
    const abort = () => void worker.terminate();
    signal?.addEventListener('abort', abort, { once: true });
    let result: ScanResult | undefined;
    worker.once('message', (message: ScanResult) => {
      result = message;
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      signal?.removeEventListener('abort', abort);
      if (result) resolve(result);
      else if (signal?.aborted) reject(signal.reason);
      else
        reject(
          new Error(
            `the validation thread for bytes ${range.start}-${range.end} of ${path} exited with code ${code}`,
          ),
        );
    });
  });
}

/** One result from consecutive ranges' scans: line numbers shifted, statistics summed. */
function mergeScans(scans: ScanResult[]): ScanResult {
  const merged = scans[0] as ScanResult;
  let lines = merged.lines;
  for (const scan of scans.slice(1)) {
    for (const problem of scan.problems) {
      if (merged.problems.length >= MAX_KEPT_PROBLEMS) break;
      merged.problems.push({ line: problem.line + lines, message: problem.message });
    }
    merged.badLines += scan.badLines;
    lines += scan.lines;
    const into = merged.statistics;
    const from = scan.statistics;
    if (from.records > 0) {
      into.minCharacters =
        into.records === 0 ? from.minCharacters : Math.min(into.minCharacters, from.minCharacters);
      into.maxCharacters = Math.max(into.maxCharacters, from.maxCharacters);
    }
    into.records += from.records;
    into.characters += from.characters;
    into.messages += from.messages;
    into.reasoningBlocks += from.reasoningBlocks;
    for (const [role, count] of Object.entries(from.roles))
      into.roles[role] = (into.roles[role] ?? 0) + count;
  }
  merged.lines = lines;
  return merged;
}

function isBlank(line: Buffer): boolean {
  for (const byte of line) if (byte !== 32 && byte !== 9 && byte !== 13) return false;
  return true;
}

function countRecord(
  stats: DatasetStatistics,
  record: Record<string, unknown>,
  format: DatasetFormatName,
): void {
  let characters = 0;
  if (format === 'text') characters = (record.text as string).length;
  else {
    for (const message of record.messages as Record<string, string>[]) {
      characters += message.content?.length ?? 0;
      if (typeof message.reasoning === 'string') {
        characters += message.reasoning.length;
        stats.reasoningBlocks += 1;
      }
      stats.messages += 1;
      const role = message.role ?? '';
      stats.roles[role] = (stats.roles[role] ?? 0) + 1;
    }
  }
  stats.minCharacters =
    stats.records === 0 ? characters : Math.min(stats.minCharacters, characters);
  stats.maxCharacters = Math.max(stats.maxCharacters, characters);
  stats.characters += characters;
  stats.records += 1;
}
