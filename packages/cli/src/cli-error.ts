import { MidspecError } from '@midspec/core';

/**
 * A user mistake or a reported failure prints as `error: <message>`; only a bug (an error that is not
 * one of ours) prints its stack, because that is what a bug report needs.
 */
export function formatCliError(error: unknown): string {
  if (MidspecError.isInstance(error)) return `error: ${error.message}`;
  const file = fileError(error);
  if (file) return `error: ${file}`;
  if (error instanceof Error) return `internal error: ${error.stack ?? error.message}`;
  return `internal error: ${String(error)}`;
}

const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
  EEXIST: 'already exists',
};

/** A file system error as the file and the reason, never a raw `ENOENT: …` with a stack. */
function fileError(error: unknown): string | undefined {
  const { code, path } = (error ?? {}) as { code?: unknown; path?: unknown };
  if (typeof code !== 'string' || typeof path !== 'string') return undefined;
  const reason = FILE_ERRORS[code];
  return reason ? `${path}: ${reason}` : undefined;
}
