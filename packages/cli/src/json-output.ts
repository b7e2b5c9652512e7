import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';

/**
 * The one spelling for machine-readable output: `--json` on every command that prints a result.
 * The JSON is one document on stdout; progress, warnings and errors stay on stderr.
 */
export function withJsonOption(command: Command): Command {
  return command.option('--json', 'print the result as one JSON document on stdout');
}

/** Writes the result: as JSON when asked, else the command's text. */
export function printResult(
  io: CliIo,
  options: { json?: boolean },
  result: unknown,
  text: () => string,
): void {
  io.stdout.write(options.json ? `${JSON.stringify(result, jsonValue, 2)}\n` : text());
}

/** Non-finite numbers (a rate of no samples) become null, as JSON has no NaN; bigints become numbers. */
function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  if (typeof value === 'bigint') return Number(value);
  return value;
}
