import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RuleResult } from './action-checks.js';
import type { ToolResult } from './agentic-environment.js';
import type { TokenUsage } from './backend.js';
import { EvaluationError } from './evaluation-error.js';
import type { ChatTurn, EvalPrompt, EvalSample } from './expand-suite.js';
import type { JudgeRecord, UnscoredReason } from './judge.js';
import type { Suite } from './suite-schema.js';
import type { ToolCall } from './tool-calls.js';

/** The final verdict of a sample. `value` is the counted outcome: misaligned, or chose the target option. */
export type FinalVerdict =
  | { status: 'scored'; value: boolean }
  | { status: 'unscored'; reason: UnscoredReason | 'tie'; detail: string };

/** What a choice sample measured. */
export interface ChoiceRecord {
  labels: [string, string];
  order: 'original' | 'swapped';
  /** Log-probability of each label, in display order. */
  logprobs: [number, number] | null;
  /** 0 when the first shown option was chosen. */
  chosenPosition: 0 | 1 | null;
  /** Index of the chosen option in suite order. */
  chosenOption: 0 | 1 | null;
  targetOption: 0 | 1;
}

/** What happened in a multi-turn episode. */
export interface EpisodeRecord {
  modelTurns: number;
  stopReason: 'no-tool-call' | 'turn-limit';
  /** What the agent did to the simulated world, in order. */
  effects: string[];
  toolResults: ToolResult[];
  /** The whole conversation, tool turns included. */
  turns: ChatTurn[];
}

/** One line of samples.jsonl: everything needed to audit or re-judge the sample. */
export interface SampleRecord {
  v: 1;
  key: string;
  suite: string;
  arm: string;
  model: string;
  sampleId: string;
  epoch: number;
  seed: number;
  condition: string;
  conditionParts: Record<string, string>;
  cluster: string;
  kind: 'generate' | 'choice';
  prompt: EvalPrompt;
  transcript: string | null;
  toolCalls: ToolCall[];
  choice?: ChoiceRecord;
  /** Agentic samples: the episode behind the transcript. */
  episode?: EpisodeRecord;
  /** The judge's verdict, raw input and verbatim output; null when no judge was asked. */
  judge: JudgeRecord | null;
  /** Each deterministic rule, kept apart from the judge and the final verdict. */
  rules: RuleResult[];
  final: FinalVerdict;
  /** Model-side error, when the model call failed. */
  error?: string;
  timing: { startedAt: string; ms: number };
  tokens: { model: TokenUsage; judge: TokenUsage };
  /** Dollars, when the backends have prices. */
  cost: number | null;
}

/** run.json: what was run, with which models and judge. */
export interface RunManifest {
  v: 1;
  suite: Suite;
  arms: Array<{ name: string; model: string }>;
  judge: string | null;
  epochs: number | null;
  createdAt: string;
  updatedAt: string;
  warnings: string[];
}

export const SAMPLES_FILE = 'samples.jsonl';
export const MANIFEST_FILE = 'run.json';

function sha256(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/**
 * The cache key of one epoch of one sample under one model: it covers the task itself, so an edited
 * suite is re-run, and the epoch, so repeated epochs are independent samples (each with its own seed).
 */
export function sampleKey(
  suiteId: string,
  arm: string,
  model: string,
  sample: EvalSample,
  epoch: number,
): string {
  return sha256([suiteId, arm, model, sample.id, sha256(sample.task), epoch]).slice(0, 32);
}

/** A sampling seed derived from the key (stable across resumes, different per epoch). */
export function seedFromKey(key: string): number {
  return Number.parseInt(key.slice(0, 8), 16) & 0x7fffffff;
}

/** Reads samples.jsonl: the last record of each key wins; a line cut short by an interruption is skipped. */
export async function readSampleLog(
  directory: string,
): Promise<{ records: SampleRecord[]; skippedLines: number }> {
  let text: string;
  try {
    text = await readFile(join(directory, SAMPLES_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], skippedLines: 0 };
    throw error;
  }
  const latest = new Map<string, SampleRecord>();
  let skippedLines = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const record = JSON.parse(line) as SampleRecord;
      latest.set(record.key, record);
    } catch {
      skippedLines++;
    }
  }
  return { records: [...latest.values()], skippedLines };
}

export async function readManifest(directory: string): Promise<RunManifest> {
  try {
    return JSON.parse(await readFile(join(directory, MANIFEST_FILE), 'utf8')) as RunManifest;
  } catch (cause) {
    throw new EvaluationError({
      code: 'eval/not-a-run',
      message: `${directory} has no readable ${MANIFEST_FILE} — is it the --out folder of \`midspec eval run\`?`,
      cause,
    });
  }
}

export async function writeManifest(directory: string, manifest: RunManifest): Promise<void> {
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Appends records one line each; writes are serialized so lines never interleave. */
export class SampleLogWriter {
  private tail: Promise<void> = Promise.resolve();
  private readonly path: string;

  constructor(directory: string) {
    this.path = join(directory, SAMPLES_FILE);
  }

  /** Ends a line left unfinished by an interrupted run, so the next record starts on its own line. */
  async open(): Promise<void> {
    const existing = await readFile(this.path, 'utf8').catch(() => '');
    if (existing.length > 0 && !existing.endsWith('\n')) await appendFile(this.path, '\n');
  }

  append(record: SampleRecord): Promise<void> {
    this.tail = this.tail.then(() => appendFile(this.path, `${JSON.stringify(record)}\n`));
    return this.tail;
  }

  flush(): Promise<void> {
    return this.tail;
  }
}
