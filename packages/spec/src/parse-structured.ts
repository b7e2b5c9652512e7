import { parseYamlSource } from '@midspec/core';
import { findJsonSyntaxError } from './json-syntax.js';
import { type Locate, positionAt } from './source-position.js';
import { SpecError } from './spec-error.js';

export interface ParsedDocument {
  data: unknown;
  locate: Locate;
}

/** Parses YAML text, keeping node positions so later validation errors can name line and column. */
export function parseYamlDocument(text: string, file?: string): ParsedDocument {
  const source = parseYamlSource(text, { uniqueKeys: true, maxAliasCount: 100 });
  if (source.problems.length > 0) {
    throw new SpecError({
      code: 'spec/syntax',
      message: 'YAML syntax error',
      issues: source.problems.map((problem) => ({ path: [], ...problem })),
      file,
    });
  }
  return { data: source.value, locate: (path) => source.locate(path, { nearest: false }) };
}

/**
 * Parses JSON strictly (so YAML-only syntax in a .json file is an error), then reads positions through
 * the YAML parser, of which JSON is a subset.
 */
export function parseJsonDocument(text: string, file?: string): ParsedDocument {
  try {
    JSON.parse(text);
  } catch (error) {
    const found = findJsonSyntaxError(text) ?? {
      offset: text.length,
      message: error instanceof Error ? firstLine(error.message) : String(error),
    };
    throw new SpecError({
      code: 'spec/syntax',
      message: 'JSON syntax error',
      issues: [{ path: [], message: found.message, ...positionAt(text, found.offset) }],
      file,
    });
  }
  return parseYamlDocument(text, file);
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
