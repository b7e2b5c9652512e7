// Every package defines its errors on this base. Markers are registered symbols (`Symbol.for`), so
// `isInstance` recognises errors made by another copy of the package (duplicate installs), where
// `instanceof` fails.
const BASE_MARKER = 'midspec.error';

export interface MidspecErrorOptions {
  /** Machine-readable, `<package>/<what>`, e.g. `trainer/invalid-curriculum`. */
  code: string;
  message: string;
  cause?: unknown;
}

export class MidspecError extends Error {
  override readonly name: string = 'MidspecError';
  readonly code: string;

  constructor({ code, message, cause }: MidspecErrorOptions) {
    super(message, { cause });
    this.code = code;
    markError(this, BASE_MARKER);
  }

  static isInstance(error: unknown): error is MidspecError {
    return hasErrorMarker(error, BASE_MARKER);
  }
}

/**
 * Tags an error with a subclass's marker. A subclass calls this in its constructor and checks
 * `hasErrorMarker` in its own `isInstance`, so that `isInstance` of a subclass is true only for that
 * subclass (and its own subclasses), never for any other midspec error.
 */
export function markError(error: Error, marker: string): void {
  Object.defineProperty(error, Symbol.for(marker), { value: true });
}

export function hasErrorMarker(error: unknown, marker: string): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as Record<symbol, unknown>)[Symbol.for(marker)] === true
  );
}
