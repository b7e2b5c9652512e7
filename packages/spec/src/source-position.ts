/** A 1-based position in a source file. */
export interface SourcePosition {
  line: number;
  column: number;
}

/** Maps a property path in the parsed spec back to where it was written; undefined when unknown. */
export type Locate = (path: readonly (string | number)[]) => SourcePosition | undefined;

/**
 * Looks the path up, then its parents: a problem in a field that is missing is best reported where
 * the object that should hold it starts.
 */
export function locateNearest(
  locate: Locate,
  path: readonly (string | number)[],
): SourcePosition | undefined {
  for (let length = path.length; length >= 0; length--) {
    const found = locate(path.slice(0, length));
    if (found) return found;
  }
  return undefined;
}

/** A locator backed by a table of path keys, as the Markdown importers build. */
export class PositionTable {
  private readonly positions = new Map<string, SourcePosition>();

  set(path: readonly (string | number)[], position: SourcePosition): void {
    this.positions.set(path.join('\u0000'), position);
  }

  readonly locate: Locate = (path) => this.positions.get(path.join('\u0000'));
}

/** Converts a character offset into a 1-based line and column. */
export function positionAt(text: string, offset: number): SourcePosition {
  let line = 1;
  let lineStart = 0;
  for (let index = 0; index < offset && index < text.length; index++) {
    if (text.charCodeAt(index) === 10) {
      line++;
      lineStart = index + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
