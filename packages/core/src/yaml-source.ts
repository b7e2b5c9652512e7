import { type Document, isMap, isNode, LineCounter, parseDocument, visit } from 'yaml';

/** A 1-based line and column in a text file. */
export interface SourcePosition {
  line: number;
  column: number;
}

/** A YAML syntax error with where it is. */
export interface YamlSyntaxProblem extends SourcePosition {
  /** The parser's message, first line only. */
  message: string;
}

/** A path into a parsed value: `['stages', 1, 'optimizer']`. */
export type ValuePath = readonly PropertyKey[];

export interface YamlSource {
  /** The plain JavaScript value (undefined when there are syntax problems). */
  value: unknown;
  /** Every syntax error (duplicate keys included when `uniqueKeys` is on); empty when it parsed. */
  problems: YamlSyntaxProblem[];
  /**
   * Where a path of the value is written. With `nearest` (the default), a path that does not exist
   * points at the deepest part that does — a missing field at its object, an unknown key at the key —
   * which is where a validation error about it should point. Without, only an exact node counts.
   */
  locate(path: ValuePath, options?: { nearest?: boolean }): SourcePosition | undefined;
}

export interface ParseYamlOptions {
  /** Report duplicate keys as syntax problems (default true). */
  uniqueKeys?: boolean;
  /** Most alias expansions before the document counts as an alias bomb (default 100). */
  maxAliasCount?: number;
}

/**
 * Parses YAML (or JSON) text keeping node positions, so that every later validation problem can name
 * its line and column. It never throws: each package turns `problems` into its own error.
 */
export function parseYamlSource(text: string, options: ParseYamlOptions = {}): YamlSource {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: options.uniqueKeys ?? true,
  });
  const at = (offset: number): SourcePosition => {
    const position = lineCounter.linePos(offset);
    return { line: position.line, column: position.col };
  };
  const locate: YamlSource['locate'] = (path, locateOptions = {}) =>
    locateIn(document, path, locateOptions.nearest ?? true, at);
  const problems = document.errors.map((error) => ({
    message: firstLine(error.message),
    ...at(error.pos[0]),
  }));
  if (problems.length > 0) return { value: undefined, problems, locate };
  try {
    const value = document.toJS({ maxAliasCount: options.maxAliasCount ?? 100 });
    return { value, problems, locate };
  } catch (error) {
    // Unresolved aliases and alias bombs surface only when converting.
    const message = firstLine(error instanceof Error ? error.message : String(error));
    return { value: undefined, problems: [{ message, ...at(firstAliasOffset(document)) }], locate };
  }
}

function locateIn(
  document: Document,
  path: ValuePath,
  nearest: boolean,
  at: (offset: number) => SourcePosition,
): SourcePosition | undefined {
  for (let depth = path.length; depth >= 0; depth -= 1) {
    const node =
      depth === 0 ? document.contents : document.getIn(path.slice(0, depth) as unknown[], true);
    if (isNode(node) && node.range) {
      if (depth < path.length && isMap(node)) {
        // An unknown key: point at the key itself, not at its whole object.
        const key = path[depth];
        const pair = node.items.find(
          (item) => isNode(item.key) && (item.key as { value?: unknown }).value === key,
        );
        if (pair && isNode(pair.key) && pair.key.range) return at(pair.key.range[0]);
      }
      return at(node.range[0]);
    }
    if (!nearest) return undefined;
  }
  return undefined;
}

function firstAliasOffset(document: Document): number {
  let offset = 0;
  let found = false;
  visit(document, {
    Alias(_, node) {
      if (!found && node.range) {
        offset = node.range[0];
        found = true;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return offset;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

/** `['stages', 1, 'optimizer']` → `stages[1].optimizer` */
export function formatValuePath(path: ValuePath): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** `stages[1].optimizer` → `['stages', 1, 'optimizer']` (the inverse of `formatValuePath`). */
export function parseValuePath(path: string): PropertyKey[] {
  const parts: PropertyKey[] = [];
  for (const match of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (match[2] !== undefined) parts.push(Number(match[2]));
    else if (match[1] !== undefined) parts.push(match[1]);
  }
  return parts;
}
