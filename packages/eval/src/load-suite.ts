import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseYamlSource } from '@midspec/core';
import type { z } from 'zod';
import { EvaluationError, type EvaluationIssue, formatIssues } from './evaluation-error.js';
import { type Suite, type SuiteInput, suiteSchema } from './suite-schema.js';

/** A validated suite plus what was resolved from files next to it. */
export interface LoadedSuite {
  suite: Suite;
  /** The spec text of a spec-questions suite. */
  specText?: string;
  /** Where it came from, when loaded from a file. */
  file?: string;
}

function issuesFromZod(
  error: z.ZodError,
  lineOf: (path: PropertyKey[]) => number | undefined,
): EvaluationIssue[] {
  return error.issues.map((issue) => {
    const line = lineOf(issue.path);
    return {
      path: issue.path.map(String).join('.'),
      message: issue.message,
      ...(line === undefined ? {} : { line }),
    };
  });
}

/**
 * Validates a suite given as data (e.g. written in TypeScript). Throws an EvaluationError listing every
 * problem with its path.
 */
export function defineSuite(input: SuiteInput | unknown): Suite {
  const result = suiteSchema.safeParse(input);
  if (result.success) return result.data;
  const issues = issuesFromZod(result.error, () => undefined);
  throw new EvaluationError({
    code: 'eval/invalid-suite',
    message: `the suite has ${issues.length} problem${issues.length === 1 ? '' : 's'}:\n${formatIssues(issues)}`,
    issues,
  });
}

/** Parses suite YAML (or JSON); every problem is reported with its path and line. */
export function parseSuite(text: string, file?: string): Suite {
  const source = parseYamlSource(text);
  if (source.problems.length > 0) {
    const issues = source.problems.map((problem) => ({
      path: '',
      message: problem.message,
      line: problem.line,
    }));
    throw new EvaluationError({
      code: 'eval/invalid-suite',
      message: `${file ?? 'the suite'} is not valid YAML:\n${formatIssues(issues, file)}`,
      issues,
    });
  }
  const result = suiteSchema.safeParse(source.value);
  if (result.success) return result.data;
  const lineOf = (path: PropertyKey[]) => source.locate(path)?.line;
  const issues = issuesFromZod(result.error, lineOf);
  throw new EvaluationError({
    code: 'eval/invalid-suite',
    message: `${file ?? 'the suite'} has ${issues.length} problem${issues.length === 1 ? '' : 's'}:\n${formatIssues(issues, file)}`,
    issues,
  });
}

/** Reads and validates a suite file; a spec-questions suite's spec file is read too. */
export async function loadSuite(file: string): Promise<LoadedSuite> {
  const text = await readFile(file, 'utf8').catch((cause: unknown) => {
    throw new EvaluationError({
      code: 'eval/suite-not-found',
      message: `cannot read suite ${file}`,
      cause,
    });
  });
  const suite = parseSuite(text, file);
  return { suite, file, ...(await resolveSpecText(suite, dirname(resolve(file)))) };
}

/** The spec text of a spec-questions suite (inline, or read relative to `baseDirectory`). */
export async function resolveSpecText(
  suite: Suite,
  baseDirectory: string,
): Promise<{ specText?: string }> {
  if (suite.kind !== 'spec-questions') return {};
  if ('text' in suite.spec) return { specText: suite.spec.text };
  const path = resolve(baseDirectory, suite.spec.file);
  const specText = await readFile(path, 'utf8').catch((cause: unknown) => {
    throw new EvaluationError({
      code: 'eval/invalid-suite',
      message: `spec.file: cannot read ${path}`,
      issues: [{ path: 'spec.file', message: `cannot read ${path}` }],
      cause,
    });
  });
  return { specText };
}
