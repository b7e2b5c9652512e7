// Batches and API keys come from the shared model-client layer.
export {
  type AnthropicBatchOptions,
  type BatchClient,
  createAnthropicBatchClient,
  createOpenAIBatchClient,
  loadApiKey,
  type OpenAIBatchOptions,
} from '@midspec/models';
export type { BatchJournalEntry } from './batch-runner.js';
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
export {
  type CreateProviderOptions,
  createProvider,
  PROVIDER_NAMES,
  type ProviderName,
} from './create-provider.js';
export { type DedupDrop, Deduplicator } from './dedup.js';
export {
  type ChatExample,
  type DemosResult,
  type GenerateDemosOptions,
  generateDemos,
} from './demos-pipeline.js';
export { DocgenError, type DocgenErrorCode, ProviderError } from './docgen-error.js';
export { Engine, type EngineOptions, type ParseOutcome, type SampleOutcome } from './engine.js';
export {
  formatPreview,
  type Preview,
  type PreviewLevel,
  type PreviewOptions,
  previewCorpus,
  previewDemos,
  type RequestCounter,
} from './preview.js';
export {
  DEFAULT_PRICES,
  loadPriceTable,
  type Price,
  type PriceTable,
  PriceTableSchema,
  priceFor,
  type TokenBill,
} from './price-table.js';
export type {
  CompletionRequest,
  CompletionResult,
  FinishReason,
  NamedItem,
  Provider,
  ProviderMessage,
  StageName,
  TaskContext,
} from './provider.js';
export { type AnthropicProviderOptions, createAnthropicProvider } from './provider-anthropic.js';
export { createOpenAIProvider, type OpenAIProviderOptions } from './provider-openai.js';
export { createTemplateProvider } from './provider-template.js';
export { createWorkerProvider, modelRef, type WorkerProviderOptions } from './provider-worker.js';
export { ResponseCache } from './response-cache.js';
export type { StageProgress, StageRecord } from './stage-runner.js';
export { TEMPLATE_DOC_TYPES } from './template-documents.js';
export type { TokenCounter, TokenStatistics } from './token-counter.js';
export { loadTokenizerJson } from './tokenizer-json.js';
export { formatYieldReport, type StageYield, type YieldReport } from './yield-report.js';
