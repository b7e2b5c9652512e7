export type { CliIo } from './cli-io.js';
export { type LocalWorker, type LocalWorkerOptions, startLocalWorker } from './local-worker.js';
export { createProgram, runCli } from './program.js';
