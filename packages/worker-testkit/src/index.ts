export {
  CheckFailure,
  CheckSkipped,
  CONFORMANCE_CHECKS,
  type ConformanceCheck,
  type ConformanceContext,
} from './conformance-checks.js';
export { type FakeWorker, fakeCheckpointFiles, startFakeWorker } from './fake-worker.js';
export type { FakeWorkerFaults } from './fake-worker-uploads.js';
export {
  type ConformanceOptions,
  type ConformanceResult,
  type ConformanceStatus,
  formatConformanceTable,
  runConformance,
} from './run-conformance.js';
