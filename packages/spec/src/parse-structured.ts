import { type Document, isNode, LineCounter, parseDocument, visit } from 'yaml';
import { findJsonSyntaxError } from './json-syntax.js';
import { type Locate, positionAt } from './source-position.js';
import { SpecError, type SpecIssue } from './spec-error.js';

export interface ParsedDocument {
  data: unknown;
  locate: Locate;
}

/** Parses YAML text, keeping node positions so later validation errors can name line and column. */
export function parseYamlDocument(text: string, file?: string): ParsedDocument {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    const issues: SpecIssue[] = document.errors.map((error) => {
      const position = lineCounter.linePos(error.pos[0]);
      return {
        path: [],
        message: firstLine(error.message),
        line: position.line,
        column: position.col,
      };
    });
    throw new SpecError({ code: 'spec/syntax', message: 'YAML syntax error', issues, file });
  }
  const locate: Locate = (path) => {
    const node = path.length === 0 ? document.contents : document.getIn(path, true);
    if (!isNode(node) || !node.range) return undefined;
    const position = lineCounter.linePos(node.range[0]);
    return { line: position.line, column: position.col };
  };
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // Unresolved aliases and alias bombs surface only when converting.
    const position = lineCounter.linePos(aliasOffset(document) ?? 0);
    throw new SpecError({
      code: 'spec/syntax',
      message: 'YAML syntax error',
      issues: [
        {
          path: [],
          message: firstLine(error instanceof Error ? error.message : String(error)),
          line: position.line,
          column: position.col,
        },
      ],
      file,
      cause: error,
    });
  }
  return { data, locate };
}

function aliasOffset(document: Document): number | undefined {
  let offset: number | undefined;
  visit(document, {
    Alias(_, node) {
      offset ??= node.range?.[0];
    },
  });
  return offset;
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
