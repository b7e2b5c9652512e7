import { Command, CommanderError } from 'commander';
import { formatCliError } from './cli-error.js';
import { CliExit } from './cli-exit.js';
import type { CliIo } from './cli-io.js';
import { CliUsageError } from './cli-usage-error.js';
import { registerDocsCommands } from './command-docs.js';
import { registerEvalCommands } from './command-eval.js';
import { registerExperimentCommands } from './command-experiment.js';
import { registerRunCommand } from './command-run.js';
import { registerRunsCommands } from './command-runs.js';
import { registerSpecCommands } from './command-spec.js';
import { registerTrainCommand } from './command-train.js';
import { registerWorkerCommands } from './command-worker.js';

export function createProgram(io: CliIo): Command {
  const program = new Command('midspec')
    .description('Model Spec Midtraining: specs, documents, training, evaluation')
    .version('0.1.0')
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride()
    // One line, not the whole help: the error says what was wrong, the hint where to read more.
    .showHelpAfterError(USAGE_HINT);
  // Each command group lives in its own file (`command-<group>.ts`) and registers itself here.
  registerWorkerCommands(program, io);
  registerTrainCommand(program, io);
  registerRunsCommands(program, io);
  registerExperimentCommands(program, io);
  registerDocsCommands(program, io);
  registerSpecCommands(program, io);
  registerEvalCommands(program, io);
  registerRunCommand(program, io);
  return program;
}

/** Parses argv and runs the command; returns the exit code. User errors never print a stack trace. */
export async function runCli(argv: string[], io: CliIo = processIo()): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    // A command called wrongly (unknown option, missing argument) exits 2, as shells and getopt do.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
    if (error instanceof CliExit) return error.code;
    if (CliUsageError.isInstance(error)) {
      // The same shape as Commander's own usage errors: the mistake, then where to read more.
      io.stderr.write(`error: ${error.message}\n${USAGE_HINT}\n`);
      return USAGE_EXIT_CODE;
    }
    io.stderr.write(`${formatCliError(error)}\n`);
    return 1;
  }
}

/** What a command called wrongly exits with (the convention of getopt, bash and Python's argparse). */
export const USAGE_EXIT_CODE = 2;

const USAGE_HINT = '(add --help for usage)';

function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

export { CliExit } from './cli-exit.js';
