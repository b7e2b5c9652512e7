export {
  AdaptiveLimiter,
  type AdaptiveLimiterOptions,
  type RetryAdvice,
} from './adaptive-limiter.js';
export { type CallOptions, type CallSignal, callSignal } from './call-options.js';
export {
  hasErrorMarker,
  MidspecError,
  type MidspecErrorOptions,
  markError,
} from './midspec-error.js';
export { type HeaderSource, parseRetryAfter, retryAfterFromHeaders } from './retry-after.js';
export { SeededRandom, seededRandom } from './seeded-random.js';
export { sleep } from './sleep.js';
export { deriveSeed, hashValue, sha256, stableJson } from './stable-json.js';
export {
  formatValuePath,
  type ParseYamlOptions,
  parseValuePath,
  parseYamlSource,
  type SourcePosition,
  type ValuePath,
  type YamlSource,
  type YamlSyntaxProblem,
} from './yaml-source.js';
