import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hashValue } from '@midspec/core';

/** sha256 over the canonical JSON of a step's inputs: the same inputs give the same key anywhere. */
export function stepKey(inputs: unknown): string {
  return hashValue(inputs);
}

/** A step's folder under the run's output, named by what it is and the start of its key. */
export function stepDir(outDir: string, kind: string, name: string, key: string): string {
  return join(outDir, kind, `${name}-${key.slice(0, 12)}`);
}

export interface CachedStep<T> {
  value: T;
  /** True when a finished step with the same key was found and nothing was redone. */
  cached: boolean;
  dir: string;
}

const MARKER = 'step.json';

/**
 * Runs `produce` in the step's folder unless a finished step with the same key is there. The marker
 * is written last (to a temporary name, then renamed), so a step cut short by a crash is redone —
 * and the pipelines it calls resume from their own artifacts.
 */
export async function cachedStep<T>(
  dir: string,
  key: string,
  produce: (dir: string) => Promise<T>,
): Promise<CachedStep<T>> {
  const marker = join(dir, MARKER);
  try {
    const found = JSON.parse(await readFile(marker, 'utf8')) as { key: string; value: T };
    if (found.key === key) return { value: found.value, cached: true, dir };
  } catch {
    // No finished step here: produce it.
  }
  await mkdir(dir, { recursive: true });
  const value = await produce(dir);
  const temporary = `${marker}.${process.pid}.tmp`;
  await writeFile(
    temporary,
    `${JSON.stringify({ key, finishedAt: new Date().toISOString(), value }, null, 2)}\n`,
  );
  await rename(temporary, marker);
  return { value, cached: false, dir };
}

export async function writeJsonl(path: string, records: unknown[]): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, records.map((record) => `${JSON.stringify(record)}\n`).join(''));
  await rename(temporary, path);
}
