/** An output stream as commands use it: text in, and whether it is a terminal (for progress bars). */
export interface CliOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Where a command reads its environment and writes its output; tests pass their own. */
export interface CliIo {
  stdout: CliOutput;
  stderr: CliOutput;
  env: NodeJS.ProcessEnv;
  cwd: string;
}
