import { readFile } from 'node:fs/promises';
import { isMap, isNode, LineCounter, parseDocument } from 'yaml';
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
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  if (document.errors.length > 0) {
    throw new TrainerError({
      code,
      summary: `${file ?? 'input'} is not valid YAML`,
      problems: document.errors.map((error) => ({
        path: '',
        message: error.message.split('\n')[0] ?? error.message,
        ...(file !== undefined && { file }),
        line: lineCounter.linePos(error.pos[0]).line,
      })),
    });
  }
  return {
    value: document.toJS(),
    file,
    lineOf(path) {
      // The deepest node that exists on the path: an unknown key's parent, a missing field's object.
      for (let depth = path.length; depth >= 0; depth -= 1) {
        const node = document.getIn(path.slice(0, depth) as unknown[], true);
        if (isNode(node) && node.range) {
          if (depth < path.length && isMap(node)) {
            const key = path[depth];
            const pair = node.items.find(
              (item) => isNode(item.key) && (item.key as { value?: unknown }).value === key,
            );
            if (pair && isNode(pair.key) && pair.key.range)
              return lineCounter.linePos(pair.key.range[0]).line;
          }
          return lineCounter.linePos(node.range[0]).line;
        }
      }
      return undefined;
    },
  };
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

/** `stages[1].optimizer.learningRate` from ['stages', 1, 'optimizer', 'learningRate']. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
}

/** Every zod issue as a problem with its path (and line, when the value came from a file). */
export function zodProblems(error: z.ZodError, source?: YamlSource): Problem[] {
  return error.issues.flatMap((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    return keys.map((key) => {
      const path = key === undefined ? issue.path : [...issue.path, key];
      const line = source?.lineOf(path);
      return {
        path: formatPath(path),
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
    const path = parsePath(problem.path);
    const line = problem.line ?? source.lineOf(path);
    return {
      ...problem,
      ...(source.file !== undefined && { file: source.file }),
      ...(line !== undefined && { line }),
    };
  });
}

function parsePath(path: string): PropertyKey[] {
  const parts: PropertyKey[] = [];
  for (const match of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (match[2] !== undefined) parts.push(Number(match[2]));
    else if (match[1] !== undefined) parts.push(match[1]);
  }
  return parts;
}
