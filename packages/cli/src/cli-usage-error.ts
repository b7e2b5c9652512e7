import { hasErrorMarker, MidspecError, markError } from '@midspec/core';

const CLI_USAGE_ERROR_MARKER = 'midspec.cli-usage-error';

/** A mistake in how the command was called or set up; printed without a stack trace. */
export class CliUsageError extends MidspecError {
  override readonly name = 'CliUsageError';
  constructor(message: string, cause?: unknown) {
    super({ code: 'cli/usage', message, cause });
    markError(this, CLI_USAGE_ERROR_MARKER);
  }

  static override isInstance(error: unknown): error is CliUsageError {
    return hasErrorMarker(error, CLI_USAGE_ERROR_MARKER);
  }
}
