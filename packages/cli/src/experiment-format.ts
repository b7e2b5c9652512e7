import { readFile } from 'node:fs/promises';
import { parseYamlSource } from '@midspec/core';

/**
 * Which of the two experiment shapes a file holds: a whole study for `midspec run` (specs, corpora,
 * evals: the runner generates the data its arms train on) or a training experiment whose arms name
 * existing datasets and curricula. Undefined when the file cannot be read or parsed: the loader
 * that follows says why, with the file and line.
 */
export async function experimentFormat(file: string): Promise<'runner' | 'training' | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const { value } = parseYamlSource(text);
  if (typeof value !== 'object' || value === null) return undefined;
  return 'specs' in value || 'evals' in value || 'base' in value ? 'runner' : 'training';
}
