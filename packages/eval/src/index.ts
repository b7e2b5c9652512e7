export { checkActions, decisiveRule, isWithinDomain, type RuleResult } from './action-checks.js';
export {
  type Email,
  type EnvironmentSpec,
  SimulatedEnvironment,
  TOOLS,
  type ToolName,
  type ToolResult,
} from './agentic-environment.js';
export {
  type RenderedScenario,
  renderScenario,
  type ScenarioFacts,
  scenarioTools,
  type ToolDefinition,
} from './agentic-scenarios.js';
export { AnthropicBackend, type AnthropicBackendOptions } from './anthropic-backend.js';
export {
  type Backend,
  BackendError,
  type BackendErrorOptions,
  chatAsText,
  type Pricing,
  type SampleInput,
  type SampleOutput,
  type ScoreInput,
  type ScoreOutput,
  type TokenUsage,
} from './backend.js';
export {
  type BootstrapEstimate,
  type BootstrapOptions,
  type ClusteredOutcome,
  clusterBootstrapMacro,
  type PairedOutcome,
  pairedBootstrapDifference,
} from './bootstrap.js';
export {
  type ArmComparison,
  compareArms,
  pairedItemDifference,
  twoSampleDifference,
} from './compare-arms.js';
export {
  type ConditionComparison,
  comparePairs,
  compareRuns,
  type RunComparison,
} from './compare-runs.js';
export {
  type DifferenceInDifferencesInput,
  type DifferenceInDifferencesResult,
  differenceInDifferences,
  type PairedDifferenceInDifferencesResult,
  type PairedItem,
  pairedDifferenceInDifferences,
} from './difference-in-differences.js';
export {
  EvaluationError,
  type EvaluationErrorOptions,
  type EvaluationIssue,
  formatIssues,
} from './evaluation-error.js';
export {
  type ChatTurn,
  type ChoiceTask,
  type EvalPrompt,
  type EvalSample,
  type ExpandOptions,
  expandSuite,
  type GenerateTask,
} from './expand-suite.js';
export {
  agenticJudgePrompt,
  type JudgeAnswer,
  type JudgeRecord,
  type JudgeVerdict,
  judgeAnswerSchema,
  type ParsePath,
  parseJudgeAnswer,
  runJudge,
  selfJudgeWarning,
  specJudgePrompt,
  type UnscoredReason,
} from './judge.js';
export {
  type AgreementReport,
  type CalibrationItem,
  type CalibrationResult,
  calibrateJudge,
  calibrationItemSchema,
  judgeAgreement,
  parseCalibrationSet,
} from './judge-calibration.js';
export { defineSuite, type LoadedSuite, loadSuite, parseSuite } from './load-suite.js';
export { loadModelTokenizer } from './model-tokenizer.js';
export {
  byteTokenizer,
  OnnxBackend,
  type OnnxBackendOptions,
  type OnnxTokenizer,
} from './onnx-backend.js';
export { OpenAiBackend, type OpenAiBackendOptions } from './openai-backend.js';
export { holmAdjust, type McNemarResult, mcnemarExact, pairedCounts } from './paired-tests.js';
export {
  clopperPearsonInterval,
  type Interval,
  type RateEstimate,
  wilsonInterval,
  zForConfidence,
} from './proportion-intervals.js';
export {
  renderComparisonMarkdown,
  renderHtmlReport,
  renderMarkdownReport,
  writeReport,
} from './render-report.js';
export { type ReportSection, scoringSections } from './render-scoring.js';
export { BACKEND_REF_HELP, resolveBackend } from './resolve-backend.js';
export {
  type RunDifference,
  type RunDifferenceOptions,
  runDifferenceInDifferences,
} from './run-difference-in-differences.js';
export {
  type EpisodeOptions,
  type EpisodeResult,
  renderEpisode,
  runEpisode,
} from './run-episode.js';
export {
  type Arm as EvalArm,
  type RunEvalOptions,
  type RunEvalResult,
  type RunProgress as EvalProgress,
  runEval,
} from './run-eval.js';
export {
  type ChoiceRecord,
  type EpisodeRecord,
  type FinalVerdict,
  MANIFEST_FILE,
  type RunManifest,
  readManifest,
  readSampleLog,
  SAMPLES_FILE,
  type SampleRecord,
  sampleKey,
} from './run-log.js';
export { planSampleSize, type SampleSizeOptions, type SampleSizePlan } from './sample-size.js';
export {
  fisherExact,
  type Missingness,
  type RuleJudgeAgreement,
  type ScoringDiagnostics,
  scoringDiagnostics,
  type UnscoredSample,
} from './scoring-diagnostics.js';
export {
  type ClusteredRate,
  clusteredRate,
  type DetectableEffectOptions,
  detectableEffect,
  type TInterval,
  tInterval,
} from './seed-statistics.js';
export {
  type AgenticSuite,
  agenticSuiteSchema,
  type MonitoringType,
  monitoringTypes,
  type PreferenceItem,
  type PreferenceSuite,
  preferenceSuiteSchema,
  type SpecQuestionsSuite,
  type Suite,
  type SuiteInput,
  specQuestionsSuiteSchema,
  suiteSchema,
} from './suite-schema.js';
export {
  type ArmSummary,
  CALIBRATION_FILE,
  type ComplianceGap,
  type ConditionSummary,
  type PositionBias,
  type RunSummary,
  rateLabel,
  summarizeRecords,
  summarizeRun,
} from './summarize-run.js';
export { nativeToolCall, parsePseudoXmlToolCalls, type ToolCall } from './tool-calls.js';
export { parseModelRef, WorkerBackend, type WorkerBackendOptions } from './worker-backend.js';
