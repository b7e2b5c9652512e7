// Every package defines its errors on this base. The marker is a registered symbol, so `isInstance`
// recognises errors from another copy of the package (duplicate installs), where `instanceof` fails.
const MARKER = Symbol.for('midspec.error');

export interface MidspecErrorOptions {
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
    Object.defineProperty(this, MARKER, { value: true });
  }

  static isInstance(error: unknown): error is MidspecError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[MARKER] === true
    );
  }
}
