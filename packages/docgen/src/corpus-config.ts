import { z } from 'zod';
import { DocgenError } from './docgen-error.js';

const count = (fallback: number) => z.number().int().min(1).max(10_000).default(fallback);

export const DedupConfigSchema = z
  .object({
    /** Estimated Jaccard similarity of word 5-gram sets at or above which a document is a near-duplicate. */
    nearThreshold: z.number().min(0).max(1).default(0.8),
    shingleWords: z.number().int().min(1).max(20).default(5),
    permutations: z.number().int().min(16).max(512).default(128),
  })
  .strict();

const EngineConfigShape = {
  seed: z.number().int().min(0).default(0),
  temperature: z.number().min(0).max(2).default(0.8),
  /** Requests in flight; default the provider's (50 for HTTP APIs). */
  concurrency: z.number().int().min(1).max(10_000).optional(),
  attemptTimeoutMs: z.number().int().min(1).default(120_000),
  maxRetries: z.number().int().min(0).max(100).default(6),
  maxParseAttempts: z.number().int().min(1).max(20).default(3),
  /** Top-up rounds with nothing new before a list item gives up. */
  loopGuardRounds: z.number().int().min(1).max(20).default(2),
  structuredMaxTokens: z.number().int().min(16).default(2048),
  textMaxTokens: z.number().int().min(16).default(3000),
};

export const CorpusConfigSchema = z
  .object({
    ...EngineConfigShape,
    /** `values`: with assertions (the published default); `rules`: ideas straight from the principles. */
    mode: z.enum(['values', 'rules']).default('values'),
    domains: count(5),
    subdomains: count(5),
    assertions: count(5),
    docTypes: count(5),
    ideas: count(5),
    documentsPerIdea: count(1),
    maxDocuments: z.number().int().min(1).optional(),
    critique: z.boolean().default(false),
    consistencyJudge: z.boolean().default(false),
    minDocumentChars: z.number().int().min(0).default(200),
    dedup: DedupConfigSchema.default({ nearThreshold: 0.8, shingleWords: 5, permutations: 128 }),
  })
  .strict();

export const DemosConfigSchema = z
  .object({
    ...EngineConfigShape,
    domains: count(5),
    promptsPerDomain: count(20),
    /** Also write the dataset with the spec-citing reasoning block (deliberative-alignment baseline). */
    withReasoning: z.boolean().default(false),
    judge: z.boolean().default(true),
    maxDemos: z.number().int().min(1).optional(),
    dedup: DedupConfigSchema.default({ nearThreshold: 0.8, shingleWords: 3, permutations: 128 }),
  })
  .strict();

export type CorpusConfig = z.output<typeof CorpusConfigSchema>;
export type CorpusConfigInput = z.input<typeof CorpusConfigSchema>;
export type DemosConfig = z.output<typeof DemosConfigSchema>;
export type DemosConfigInput = z.input<typeof DemosConfigSchema>;
export type DedupConfig = z.output<typeof DedupConfigSchema>;

export function parseConfig<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `  ${issue.path.join('.') || '(config)'}: ${issue.message}`,
  );
  throw new DocgenError({
    code: 'docgen/config',
    message: `invalid options:\n${problems.join('\n')}`,
  });
}
