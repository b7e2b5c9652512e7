export { assertCapabilities, capabilityProblems } from './check-capabilities.js';
export { type ConnectedWorker, connectWorker } from './connect-worker.js';
export type {
  AdapterSettings,
  Curriculum,
  CurriculumStage,
  DatasetFormatName,
  DatasetRef,
  StageKindName,
} from './curriculum.js';
export { CurriculumBuilder, curriculum } from './curriculum-builder.js';
export {
  type AdapterInput,
  type ArmInput,
  armInputSchema,
  type CurriculumInput,
  curriculumInputSchema,
  type DataSourceInput,
  type DatasetInput,
  type ExperimentArmInput,
  type ExperimentInput,
  experimentArmInputSchema,
  experimentInputSchema,
  type StageInput,
} from './curriculum-schema.js';
export {
  type DownloadedCheckpoint,
  type DownloadProgress,
  downloadCheckpoint,
  listCheckpoints,
} from './download-checkpoint.js';
export { runIdempotencyKey } from './idempotency-key.js';
export { defineCurriculum, loadCurriculum, parseCurriculum } from './load-curriculum.js';
export {
  type Arm,
  checkExperiment,
  curriculumExperiment,
  type Experiment,
  loadTrainingExperiment,
  type ParseExperimentOptions,
  parseExperiment,
} from './load-experiment.js';
export {
  type PlannedDataset,
  type PlannedRun,
  planToJson,
  planTrainingExperiment,
  runName,
  type TrainingPlan,
} from './plan-experiment.js';
export {
  FINAL_STATES,
  type RunStateName,
  runStateName,
  type TrainerRunEvent,
  toTrainerEvent,
} from './run-events.js';
export { getMetricHistory } from './run-metrics.js';
export {
  findPlannedRuns,
  type SubmitExperimentOptions,
  type SubmitOptions,
  type SubmittedRun,
  submitExperiment,
  submitRun,
} from './submit-runs.js';
export { toRunSpec } from './to-run-spec.js';
export {
  formatProblem,
  type Problem,
  TrainerError,
  type TrainerErrorCode,
} from './trainer-error.js';
export {
  type UploadDatasetOptions,
  type UploadedDataset,
  type UploadProgress,
  uploadDataset,
} from './upload-dataset.js';
export {
  checkRecord,
  type DatasetStatistics,
  detectFormat as detectDatasetFormat,
  type JsonlValidation,
  validateJsonlFile,
} from './validate-jsonl.js';
export {
  DEFAULT_RECONNECT_WINDOW_MS,
  type WaitForRunOptions,
  type WatchRunOptions,
  waitForRun,
  watchRun,
  watchRunEvents,
} from './watch-run.js';
