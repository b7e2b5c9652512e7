const MIDSPEC_ERROR_MARKER = Symbol.for('midspec.error');

function isMidspecError(error: unknown): error is Error & { code: string } {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as Record<symbol, unknown>)[MIDSPEC_ERROR_MARKER] === true
  );
}

/**
 * A user mistake or a reported failure prints as `error: <message>`; only a bug (an error that is not
 * one of ours) prints its stack, because that is what a bug report needs.
 */
export function formatCliError(error: unknown): string {
  if (isMidspecError(error)) return `error: ${error.message}`;
  if (error instanceof Error) return `internal error: ${error.stack ?? error.message}`;
  return `internal error: ${String(error)}`;
}
