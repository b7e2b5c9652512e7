/** Thrown by a command that has already reported its outcome and wants a given exit code. */
export class CliExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}
