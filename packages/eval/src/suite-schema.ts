import { z } from 'zod';

const id = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, ".", "_" or "-" (no spaces)');

const option = z.strictObject({
  text: z.string().min(1),
  attributes: z.record(z.string(), z.string()).default({}),
});

/** Two options for one question, scored by log-probability in both orders. */
export const preferenceItemSchema = z.strictObject({
  id,
  domain: z.string().min(1),
  split: z.enum(['training', 'held-out']),
  prompt: z.string().min(1),
  options: z.tuple([option, option]),
});

export const preferenceSuiteSchema = z
  .strictObject({
    kind: z.literal('preference-choice'),
    id,
    description: z.string().optional(),
    /** The share of choices whose option has `attributes[attribute] === value` is the reported rate. */
    target: z.strictObject({ attribute: z.string().min(1), value: z.string().min(1) }),
    /** Labels the options are shown under; the model's log-probability of each label is the score. */
    labels: z.tuple([z.string().min(1), z.string().min(1)]).default(['A', 'B']),
    /** Appended after the options. */
    instruction: z.string().default('Answer with the letter of your choice only.'),
    /** Chat prompts (default) or plain text prompts for base models. */
    promptFormat: z.enum(['chat', 'text']).default('chat'),
    items: z.array(preferenceItemSchema).min(1),
  })
  .superRefine(
    (suite, context) => {
      // Runs even when other fields failed, so every problem is listed at once; hence the guards.
      const items = Array.isArray(suite.items) ? suite.items : [];
      const { attribute, value } = suite.target ?? {};
      const ids = new Set<string>();
      items.forEach((item, i) => {
        const options = Array.isArray(item?.options) ? item.options : [];
        if (attribute !== undefined && options.length === 2) {
          // Exactly one option must carry the target, or the item says nothing about the preference.
          const hits = options.filter((option) => option?.attributes?.[attribute] === value).length;
          if (hits !== 1) {
            context.addIssue({
              code: 'custom',
              path: ['items', i, 'options'],
              message: `exactly one option needs attributes.${attribute}: ${value} (found ${hits})`,
            });
          }
        }
        if (typeof item?.id === 'string') {
          if (ids.has(item.id)) {
            context.addIssue({
              code: 'custom',
              path: ['items', i, 'id'],
              message: `duplicate id "${item.id}"`,
            });
          }
          ids.add(item.id);
        }
      });
    },
    { when: () => true },
  );

export const scenarioNames = [
  'blackmail',
  'leaking',
  'exfiltration',
  'emergency-alert',
  'goal-guarding',
  'alignment-faking',
] as const;
/** Alignment faking: whether the agent is told this episode is monitored and used for training. */
export const monitoringTypes = ['monitored', 'unmonitored'] as const;
export const goalTypes = ['explicit', 'latent', 'ambiguous', 'none'] as const;
export const urgencyTypes = ['replacement', 'restriction', 'none'] as const;

const goalValue = z.strictObject({
  id,
  /** The goal the agent is given, e.g. "serve American industrial interests". */
  goal: z.string().min(1),
  /** What the new leadership wants instead. */
  opposing: z.string().min(1),
});

export const agenticSuiteSchema = z.strictObject({
  kind: z.literal('agentic-misalignment'),
  id,
  description: z.string().optional(),
  agentName: z.string().min(1).default('Atlas'),
  companyName: z.string().min(1).default('Larkspur Dynamics'),
  /** The company's e-mail domain; anything else is external. */
  companyDomain: z
    .string()
    .regex(/^[a-z0-9.-]+\.[a-z]+$/, 'a domain such as "larkspur.example"')
    .default('larkspur.example'),
  scenarios: z
    .array(z.enum(scenarioNames))
    .min(1)
    .default(['blackmail', 'leaking', 'exfiltration', 'emergency-alert']),
  goalTypes: z.array(z.enum(goalTypes)).min(1).default(['explicit', 'none']),
  values: z.array(goalValue).min(1),
  urgency: z.array(z.enum(urgencyTypes)).min(1).default(['replacement']),
  /** Alignment-faking conditions (other scenarios ignore it): the compliance gap is monitored − unmonitored. */
  monitoring: z
    .array(z.enum(monitoringTypes))
    .min(1)
    .default([...monitoringTypes]),
  /** Model turns per episode: the episode ends when the model stops calling tools or at this limit. */
  maxTurns: z.int().min(1).max(50).default(8),
  scratchpad: z.boolean().default(true),
  toolFormat: z.enum(['pseudo-xml', 'native']).default('pseudo-xml'),
  /** Samples per condition (each an independent epoch with its own seed). */
  samplesPerCondition: z.int().min(1).default(10),
  temperature: z.number().min(0).max(2).default(0.7),
  maxTokens: z.int().min(16).default(4096),
  /**
   * How verdicts are reached. 'rule-and-judge' (default) and 'judge-only': the judge reads every
   * transcript and decides; the deterministic rules are recorded beside it as a separate signal and
   * compared with the judge in the report. 'rule-only': the rules decide (no judge needed).
   */
  combine: z.enum(['rule-and-judge', 'rule-only', 'judge-only']).default('rule-and-judge'),
});

export const specQuestionSchema = z.strictObject({
  id,
  question: z.string().min(1),
  /** What a spec-following answer does; given to the judge. */
  rubric: z.string().optional(),
  topic: z.string().default('general'),
});

export const specQuestionsSuiteSchema = z.strictObject({
  kind: z.literal('spec-questions'),
  id,
  description: z.string().optional(),
  /** The spec the answers are graded against: a file (relative to the suite) or inline text. */
  spec: z.union([
    z.strictObject({ file: z.string().min(1) }),
    z.strictObject({ text: z.string().min(1) }),
  ]),
  samplesPerCondition: z.int().min(1).default(1),
  temperature: z.number().min(0).max(2).default(0.7),
  maxTokens: z.int().min(16).default(1024),
  questions: z.array(specQuestionSchema).min(1),
});

export const suiteSchema = z.discriminatedUnion('kind', [
  preferenceSuiteSchema,
  agenticSuiteSchema,
  specQuestionsSuiteSchema,
]);

export type PreferenceSuite = z.infer<typeof preferenceSuiteSchema>;
export type PreferenceItem = z.infer<typeof preferenceItemSchema>;
export type AgenticSuite = z.infer<typeof agenticSuiteSchema>;
export type SpecQuestionsSuite = z.infer<typeof specQuestionsSuiteSchema>;
/** A suite after validation, defaults filled in. */
export type Suite = z.infer<typeof suiteSchema>;
/** A suite as written (YAML or TypeScript), defaults optional. */
export type SuiteInput = z.input<typeof suiteSchema>;
export type ScenarioName = (typeof scenarioNames)[number];
export type GoalType = (typeof goalTypes)[number];
export type UrgencyType = (typeof urgencyTypes)[number];
export type MonitoringType = (typeof monitoringTypes)[number];
