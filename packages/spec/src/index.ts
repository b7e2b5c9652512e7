export { inferAuthorityLevels } from './authority-levels.js';
export { fingerprintSpec } from './fingerprint.js';
export { SPEC_JSON_SCHEMA_ID, specJsonSchema } from './json-schema.js';
export {
  LINT_CODES,
  type LintCode,
  type LintDiagnostic,
  type LintSeverity,
} from './lint-codes.js';
export {
  assertNoLintErrors,
  type LintFileResult,
  type LintOptions,
  lintSpec,
  lintSpecFile,
} from './lint-spec.js';
export { formatLintSummary, type LintSummary, summarizeLint } from './lint-summary.js';
export {
  DEFAULT_MAX_SPEC_BYTES,
  detectFormat as detectSpecFormat,
  type LoadedSpec,
  type LoadSpecOptions,
  loadSpec,
  type ParseSpecOptions,
  parseSpec,
  type SpecFormat,
  validateSpecData,
} from './load-spec.js';
export { buildPriorityOrder, type PriorityOrder } from './priority-order.js';
export { isExplained } from './rationale-prose.js';
export { renderMarkdown } from './render-markdown.js';
export { renderRuleList } from './render-rule-list.js';
export { renderJson, renderYaml, toCanonicalObject } from './render-structured.js';
export type { Locate, SourcePosition } from './source-position.js';
export { formatPath, SpecError, type SpecErrorCode, type SpecIssue } from './spec-error.js';
export {
  type ChatMessage,
  ChatMessageSchema,
  type Entity,
  EntitySchema,
  type Example,
  ExampleSchema,
  type Preamble,
  PreambleSchema,
  type Principal,
  PrincipalSchema,
  type Principle,
  PrincipleSchema,
  type Spec,
  type SpecInput,
  SpecSchema,
  type TemplateVariable,
  TemplateVariableSchema,
  type Value,
  ValueSchema,
} from './spec-schema.js';
export {
  findPlaceholders,
  type PlaceholderUse,
  renderSpec,
  unusedValues,
} from './template-variables.js';
export { findVagueGuidance, VAGUE_PHRASES, type VaguenessFinding } from './vague-guidance.js';
