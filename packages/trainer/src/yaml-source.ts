import { readFile } from 'node:fs/promises';
import { formatValuePath, parseYamlSource as parseSource, parseValuePath } from '@midspec/core';
import type { z } from 'zod';
import { type Problem, TrainerError, type TrainerErrorCode } from './trainer-error.js';

/** A parsed YAML (or JSON) file that can say on which line a path of its value is. */
export interface YamlSource {
  value: unknown;
  file: string | undefined;
  lineOf(path: readonly PropertyKey[]): number | undefined;
}

export function parseYamlSource(
  text: string,
  file: string | undefined,
  code: TrainerErrorCode,
): YamlSource {
  const source = parseSource(text);
  if (source.problems.length > 0) {
    throw new TrainerError({
      code,
      summary: `${file ?? 'input'} is not valid YAML`,
      problems: source.problems.map((problem) => ({
        path: '',
        message: problem.message,
        ...(file !== undefined && { file }),
        line: problem.line,
      })),
    });
  }
  return { value: source.value, file, lineOf: (path) => source.locate(path)?.line };
}

export async function readYamlSource(file: string, code: TrainerErrorCode): Promise<YamlSource> {
  const text = await readFile(file, 'utf8').catch((error: unknown) => {
    throw new TrainerError({
      code,
      summary: `cannot read ${file}: ${(error as Error).message}`,
      cause: error,
    });
  });
  return parseYamlSource(text, file, code);
}

/** Every zod issue as a problem with its path (and line, when the value came from a file). */
export function zodProblems(error: z.ZodError, source?: YamlSource): Problem[] {
  return error.issues.flatMap((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    return keys.map((key) => {
      const path = key === undefined ? issue.path : [...issue.path, key];
      const line = source?.lineOf(path);
      return {
        path: formatValuePath(path),
        message: key === undefined ? issue.message : `unknown key "${key}"`,
        ...(source?.file !== undefined && { file: source.file }),
        ...(line !== undefined && { line }),
      };
    });
  });
}

/** Adds the file and line to problems found after the schema (semantic checks). */
export function locateProblems(problems: Problem[], source?: YamlSource): Problem[] {
  if (!source) return problems;
  return problems.map((problem) => {
    const path = parseValuePath(problem.path);
    const line = problem.line ?? source.lineOf(path);
    return {
      ...problem,
      ...(source.file !== undefined && { file: source.file }),
      ...(line !== undefined && { line }),
    };
  });
}
