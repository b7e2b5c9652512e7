export {
  ANTHROPIC_BATCH_LIMITS,
  type AnthropicBatchOptions,
  createAnthropicBatchClient,
} from './anthropic-batch.js';
export {
  type AnthropicClientOptions,
  createAnthropicClient,
  fromAnthropicMessage,
  messageParams,
  toAnthropicMessages,
} from './anthropic-client.js';
export { isLocalUrl, loadApiKey } from './api-key.js';
export {
  type BatchClient,
  type BatchIntent,
  type BatchItem,
  type BatchItemResult,
  type BatchLimits,
  type BatchStatus,
  intentTag,
} from './batch-client.js';
export {
  type BatchJournal,
  type BatchJournalEntry,
  ensureSubmitted,
  journalIntents,
  markCollected,
  type OpenBatch,
  openBatches,
  type RetryOptions,
  waitForBatch,
  withRetries,
} from './batch-journal.js';
export { splitBatch } from './batch-split.js';
export {
  type CallOptions,
  type ChatMessage,
  type ChatRequest,
  type ChatResult,
  type ContinuationScore,
  emptyUsage,
  type FinishReason,
  type ModelClient,
  type ModelTool,
  type ModelToolCall,
  type TextRequest,
  type TokenLogprob,
  type Usage,
} from './chat.js';
export {
  isRetryableStatus,
  ModelError,
  type ModelErrorCode,
  type ModelErrorOptions,
  modelRetryAdvice,
} from './model-error.js';
export {
  createOpenAIBatchClient,
  INTENT_METADATA_KEY,
  OPENAI_BATCH_LIMITS,
  type OpenAIBatchOptions,
} from './openai-batch.js';
export {
  chatCompletionBody,
  createOpenAIClient,
  fromChatCompletion,
  OPENAI_DEFAULT_BASE_URL,
  type OpenAIClientOptions,
  toOpenAIMessages,
} from './openai-client.js';
export { createScriptedClient, type ScriptedClientOptions } from './scripted-client.js';
export { withToolCallIds } from './tool-call-ids.js';
export {
  countTexts,
  createWorkerModelClient,
  type WorkerModelClientOptions,
  workerModelRef,
} from './worker-client.js';
