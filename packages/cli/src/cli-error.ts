import { MidspecError } from '@midspec/core';

/**
 * A user mistake or a reported failure prints as `error: <message>`; only a bug (an error that is not
 * one of ours) prints its stack, because that is what a bug report needs.
 */
export function formatCliError(error: unknown): string {
  if (MidspecError.isInstance(error)) return `error: ${error.message}`;
  if (error instanceof Error) return `internal error: ${error.stack ?? error.message}`;
  return `internal error: ${String(error)}`;
}
