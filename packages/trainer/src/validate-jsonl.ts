import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { DatasetFormatName } from './curriculum.js';
import type { Problem } from './trainer-error.js';

const ROLES = new Set(['system', 'user', 'assistant', 'tool']);
const CHUNK_BYTES = 1024 * 1024;
/** Bad lines kept in memory; the count goes on beyond it. */
const MAX_KEPT_PROBLEMS = 10_000;

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
    const { role, content, reasoning } = message as Record<string, unknown>;
    if (typeof role !== 'string' || !ROLES.has(role))
      return `messages[${index}].role must be one of system, user, assistant, tool`;
    if (typeof content !== 'string') return `messages[${index}].content must be a string`;
    if (reasoning !== undefined && typeof reasoning !== 'string')
      return `messages[${index}].reasoning must be a string`;
    if (role === 'assistant') assistant = true;
  }
  return assistant ? undefined : 'expected at least one assistant message';
}

/** text when the record has a "text" field, chat when it has "messages", otherwise undefined. */
export function detectFormat(record: unknown): DatasetFormatName | undefined {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return undefined;
  if ('text' in record) return 'text';
  if ('messages' in record) return 'chat';
  return undefined;
}

/**
 * Reads a JSONL file once, streaming: hashes it, detects text vs chat from the first record (unless
 * `format` is given), checks every line and gathers size statistics. Never holds more than one
 * chunk and one line in memory.
 */
export async function validateJsonlFile(
  path: string,
  options: {
    format?: DatasetFormatName;
    signal?: AbortSignal;
    onProgress?: (bytes: number) => void;
  } = {},
): Promise<JsonlValidation> {
  const hash = createHash('sha256');
  const problems: Problem[] = [];
  let badLines = 0;
  let format = options.format;
  let undetectable = false;
  const stats: DatasetStatistics = {
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
  };
  const bad = (line: number, message: string) => {
    badLines += 1;
    if (problems.length < MAX_KEPT_PROBLEMS) problems.push({ path: '', file: path, line, message });
  };
  let lineNumber = 0;
  const checkLine = (bytes: Buffer) => {
    lineNumber += 1;
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 13) end -= 1;
    const line = bytes.subarray(0, end);
    if (isBlank(line)) return;
    if (!isUtf8(line)) return bad(lineNumber, 'not valid UTF-8');
    let record: unknown;
    try {
      record = JSON.parse(line.toString('utf8'));
    } catch (error) {
      return bad(lineNumber, `not valid JSON (${(error as Error).message})`);
    }
    if (format === undefined && !undetectable) {
      format = detectFormat(record);
      if (format === undefined) {
        undetectable = true;
        return bad(
          lineNumber,
          'neither a text record ({"text": ...}) nor a chat record ({"messages": [...]})',
        );
      }
    }
    if (format === undefined) return;
    const problem = checkRecord(record, format);
    if (problem !== undefined) return bad(lineNumber, problem);
    countRecord(stats, record as Record<string, unknown>, format);
  };

  let carry: Buffer | undefined;
  const stream = createReadStream(path, { highWaterMark: CHUNK_BYTES, signal: options.signal });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    stats.bytes += chunk.length;
    let start = 0;
    for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, newline);
      checkLine(carry ? Buffer.concat([carry, piece]) : piece);
      carry = undefined;
      start = newline + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      // Copied: the stream may reuse the chunk's memory.
      carry = carry ? Buffer.concat([carry, rest]) : Buffer.from(rest);
    }
    options.onProgress?.(stats.bytes);
  }
  if (carry) checkLine(carry);
  if (stats.records === 0 && badLines === 0)
    bad(Math.max(1, lineNumber), 'the file has no records');
  stats.estimatedTokens = Math.round(stats.characters / 4);
  stats.meanCharacters = stats.records > 0 ? stats.characters / stats.records : 0;
  return {
    path,
    format: undetectable ? undefined : format,
    sha256: hash.digest('hex'),
    sizeBytes: stats.bytes,
    statistics: stats,
    problems,
    badLines,
  };
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
