export {
  type ExperimentStep,
  type ExperimentStepKind,
  experimentSteps,
  type StepCache,
} from './experiment-steps.js';
export {
  type LocalWorker,
  type LocalWorkerOptions,
  resolveWorkerCommand,
  startLocalWorker,
  type WorkerCommand,
} from './local-worker.js';
export type { EvaluatedModel, PipelineResult as ExperimentResult } from './pipeline-state.js';
export type { ExperimentSource } from './resolve-experiment.js';
export {
  type LoadedRunConfig as LoadedExperiment,
  loadRunConfig as loadExperiment,
  type RunConfig as ExperimentConfig,
  type RunConfigInput as ExperimentConfigInput,
  runConfigSchema as experimentConfigSchema,
} from './run-config.js';
export {
  type ExperimentOutcome,
  type RunExperimentOptions,
  runExperiment,
} from './run-experiment.js';
export {
  type ExperimentPlan,
  formatExperimentPlan,
  type PlanLine,
  planExperiment,
} from './run-plan.js';
export {
  type ArmRow,
  type ContrastRow,
  type Estimate,
  type ExperimentReport,
  type ReportRecord,
  renderExperimentMarkdown,
  type SuiteReport,
  summarizeSuite,
} from './run-report.js';
export type { TrainedRun } from './run-training.js';
export { RunnerError, type RunnerErrorCode } from './runner-error.js';
export type { RunnerEvent, RunnerEventListener } from './runner-events.js';
