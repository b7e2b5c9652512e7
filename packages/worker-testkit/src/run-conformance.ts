import { createWorkerClient, type WorkerClient, type WorkerClientOptions } from '@midspec/proto';
import {
  CheckFailure,
  CheckSkipped,
  CONFORMANCE_CHECKS,
  type ConformanceContext,
} from './conformance-checks.js';

export type ConformanceStatus = 'pass' | 'fail' | 'skip';

export interface ConformanceResult {
  id: string;
  title: string;
  status: ConformanceStatus;
  /** Why it failed or was skipped, or what was seen. */
  detail: string;
  durationMs: number;
}

export interface ConformanceOptions extends WorkerClientOptions {
  /** Base model for the tiny training runs (default: the worker's first built-in model). */
  model?: string;
  /** Only checks whose id starts with one of these. */
  only?: string[];
  /** Limit per check (default: the check's own, else 120 s). */
  checkTimeoutMs?: number;
  onResult?: (result: ConformanceResult) => void;
}

/**
 * Runs the worker contract's conformance checks against the worker at `address`: uploads (hash
 * checks, dedup, resume), idempotent submission, watch resume, cancellation, error codes for bad
 * input, health and reflection. Each check's outcome is reported as it finishes.
 */
export async function runConformance(
  address: string,
  options: ConformanceOptions = {},
): Promise<ConformanceResult[]> {
  const client: WorkerClient = createWorkerClient(address, options);
  const context: ConformanceContext = { address, client, model: options.model, state: {} };
  const results: ConformanceResult[] = [];
  try {
    for (const check of CONFORMANCE_CHECKS) {
      if (options.only && !options.only.some((prefix) => check.id.startsWith(prefix))) continue;
      const started = Date.now();
      let status: ConformanceStatus = 'pass';
      let detail = '';
      const missing = (check.needs ?? []).filter((key) => context.state[key] === undefined);
      if (missing.length > 0) {
        status = 'fail';
        detail = `needs ${missing.join(', ')} from an earlier check, which failed`;
      } else {
        try {
          const limit = options.checkTimeoutMs ?? check.timeoutMs ?? 120_000;
          detail = (await withTimeout(check.run(context), limit)) ?? '';
        } catch (error) {
          status = error instanceof CheckSkipped ? 'skip' : 'fail';
          detail = error instanceof Error ? error.message : String(error);
        }
      }
      const result = {
        id: check.id,
        title: check.title,
        status,
        detail,
        durationMs: Date.now() - started,
      };
      results.push(result);
      options.onResult?.(result);
    }
  } finally {
    client.close();
  }
  return results;
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new CheckFailure(`no result within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The results as a fixed-width pass/fail table. */
export function formatConformanceTable(results: ConformanceResult[]): string {
  const rows = results.map((result) => [
    result.status.toUpperCase(),
    result.id,
    result.title,
    result.detail,
  ]);
  const header = ['RESULT', 'CHECK', 'WHAT', 'DETAIL'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (column === 3 ? 0 : (row[column] ?? '').length))),
  );
  const line = (cells: string[]) =>
    `${cells
      .map((cell, column) => (column === 3 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd()}\n`;
  const passed = results.filter((result) => result.status === 'pass').length;
  const failed = results.filter((result) => result.status === 'fail').length;
  const skipped = results.length - passed - failed;
  return `${[header, ...rows].map(line).join('')}\n${passed} passed, ${failed} failed, ${skipped} skipped\n`;
}
