export { AdaptiveLimiter } from './adaptive-limiter.js';
export {
  type CorpusConfig,
  type CorpusConfigInput,
  CorpusConfigSchema,
  type DedupConfig,
  DedupConfigSchema,
  type DemosConfig,
  type DemosConfigInput,
  DemosConfigSchema,
} from './corpus-config.js';
export {
  type CorpusDocument,
  type CorpusResult,
  type GenerateCorpusOptions,
  generateCorpus,
} from './corpus-pipeline.js';
export { type DedupDrop, Deduplicator } from './dedup.js';
export { DocgenError, type DocgenErrorCode, ProviderError } from './docgen-error.js';
export { Engine, type EngineOptions, type ParseOutcome, type SampleOutcome } from './engine.js';
export {
  type CallOptions,
  type CompletionRequest,
  type CompletionResult,
  type FinishReason,
  type NamedItem,
  type Provider,
  type ProviderMessage,
  type StageName,
  type TaskContext,
} from './provider.js';
export { createTemplateProvider } from './provider-template.js';
export {
  DEFAULT_PRICES,
  loadPriceTable,
  type Price,
  type PriceTable,
  PriceTableSchema,
  priceFor,
} from './price-table.js';
export { ResponseCache } from './response-cache.js';
export type { StageProgress, StageRecord } from './stage-runner.js';
export { TEMPLATE_DOC_TYPES } from './template-documents.js';
export type { TokenCounter, TokenStatistics } from './token-counter.js';
export { formatYieldReport, type StageYield, type YieldReport } from './yield-report.js';
