import { CliExit } from './cli-exit.js';
import type { CliIo } from './cli-io.js';

/** What a shell reports for a command ended by SIGINT (128 + 2). */
export const INTERRUPTED_EXIT_CODE = 130;

/**
 * Runs a command's body with Ctrl-C turned into an abort of `signal`: the body's calls are
 * cancelled, its `finally` blocks stop what it started (a local worker among them), and the command
 * ends with one line and exit code 130 instead of the cancelled call's error. A second Ctrl-C exits
 * at once.
 */
export async function interruptible<T>(
  io: CliIo,
  hint: string,
  body: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const onInterrupt = () => {
    if (controller.signal.aborted) process.exit(INTERRUPTED_EXIT_CODE);
    controller.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onInterrupt);
  try {
    return await body(controller.signal);
  } catch (error) {
    // What the body failed with after the abort (a cancelled call, a stopped worker) is its echo.
    if (!controller.signal.aborted) throw error;
    io.stderr.write(`${io.stderr.isTTY ? '\n' : ''}interrupted — ${hint}\n`);
    throw new CliExit(INTERRUPTED_EXIT_CODE);
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}
