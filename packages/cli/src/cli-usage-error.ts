import { MidspecError } from '@midspec/proto';

/** A mistake in how the command was called or set up; printed without a stack trace. */
export class CliUsageError extends MidspecError {
  override readonly name = 'CliUsageError';
  constructor(message: string, cause?: unknown) {
    super({ code: 'cli/usage', message, cause });
  }
}
