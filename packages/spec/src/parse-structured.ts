import { isNode, LineCounter, parseDocument } from 'yaml';
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
  return { data: document.toJS({ maxAliasCount: 100 }), locate };
}

/**
 * Parses JSON strictly (so YAML-only syntax in a .json file is an error), then reads positions through
 * the YAML parser, of which JSON is a subset.
 */
export function parseJsonDocument(text: string, file?: string): ParsedDocument {
  try {
    JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const match = /at position (\d+)/.exec(message);
    const position = positionAt(text, match ? Number(match[1]) : text.length);
    throw new SpecError({
      code: 'spec/syntax',
      message: 'JSON syntax error',
      issues: [
        {
          path: [],
          message: firstLine(message.replace(/ \(line \d+ column \d+\)/, '')),
          ...position,
        },
      ],
      file,
    });
  }
  return parseYamlDocument(text, file);
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
