export * from './gen/midspec/worker/v1/capabilities.js';
export * from './gen/midspec/worker/v1/common.js';
export * from './gen/midspec/worker/v1/datasets.js';
export * from './gen/midspec/worker/v1/inference.js';
export * from './gen/midspec/worker/v1/runs.js';
export { type WorkerServer, WorkerService } from './gen/midspec/worker/v1/worker.js';
export {
  createWorkerClient,
  type DeepPartial,
  type RequestInit,
  WorkerClient,
  type WorkerClientOptions,
} from './worker-client.js';
export { WorkerError, type WorkerErrorOptions } from './worker-error.js';
