import {
  FinishReason,
  LossMask,
  type ModelRef,
  type Prompt,
  type RunSpec,
  StageKind,
} from '@midspec/proto';

// The fake worker's "model": smoothed word counts. Training adds the counted words of a stage's
// data, so a trained checkpoint really scores its documents higher than the base model does. That
// lets the conformance suite's semantic checks (a stage lowers loss on its documents, SFT learns
// only assistant tokens, a chained adapter starts from the previous stage) pass for a fake that
// keeps the contract and fail for one that trains nothing (`trainsNothing`).

const VOCABULARY = 50_000;

export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

export class WordModel {
  private readonly counts = new Map<string, number>();
  private total = 0;

  clone(): WordModel {
    const copy = new WordModel();
    for (const [word, count] of this.counts) copy.counts.set(word, count);
    copy.total = this.total;
    return copy;
  }

  learn(text: string): void {
    for (const word of words(text)) {
      this.counts.set(word, (this.counts.get(word) ?? 0) + 1);
      this.total += 1;
    }
  }

  /** Natural-log probability of each word of `text` (add-one smoothing). */
  tokenLogprobs(text: string): { token: string; logprob: number }[] {
    return words(text).map((token) => ({
      token,
      logprob: Math.log(((this.counts.get(token) ?? 0) + 1) / (this.total + VOCABULARY)),
    }));
  }

  /** The most frequent words, for a deterministic greedy "sample". */
  top(count: number): string[] {
    return [...this.counts.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, count)
      .map(([word]) => word);
  }
}

/** The model after each stage of `spec`, trained from `base` on the datasets' contents (JSON
 * lines). Each stage continues from the one before, as a chained adapter (or a merged one) does. */
export function trainWordModels(
  base: WordModel,
  spec: RunSpec,
  contents: Map<string, Buffer>,
): WordModel[] {
  const models: WordModel[] = [];
  let model = base;
  for (const stage of spec.stages) {
    model = model.clone();
    const assistantOnly =
      stage.lossMask === LossMask.LOSS_MASK_ASSISTANT_ONLY ||
      (stage.lossMask === LossMask.LOSS_MASK_UNSPECIFIED &&
        stage.kind === StageKind.STAGE_KIND_SFT);
    for (const source of stage.data) {
      const data = contents.get(source.datasetId)?.toString('utf8') ?? '';
      for (const line of data.split('\n')) {
        if (!line.trim()) continue;
        const record = JSON.parse(line) as {
          text?: string;
          messages?: { role: string; content: string }[];
        };
        if (typeof record.text === 'string') model.learn(record.text);
        for (const message of record.messages ?? [])
          if (!assistantOnly || message.role === 'assistant') model.learn(message.content);
      }
    }
    models.push(model);
  }
  return models;
}

export function promptText(prompt: Prompt | undefined): string {
  if (prompt?.prompt?.$case === 'text') return prompt.prompt.text;
  if (prompt?.prompt?.$case === 'chat')
    return prompt.prompt.chat.messages.map((message) => message.content).join('\n');
  return '';
}

/** Token ids of the fake's word "tokenizer": a stable hash of each word. */
export function wordIds(text: string): number[] {
  return words(text).map((word) => {
    let hash = 0;
    for (const char of word) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) % VOCABULARY;
    return hash;
  });
}

export function sampleWords(
  model: WordModel,
  maxTokens: number,
): {
  text: string;
  finishReason: FinishReason;
  completionTokens: number;
} {
  const chosen = model.top(maxTokens > 0 ? maxTokens : 16);
  return {
    text: chosen.join(' '),
    finishReason: FinishReason.FINISH_REASON_LENGTH,
    completionTokens: chosen.length,
  };
}

/** Which of a run's stage models a checkpoint reference means (the fake's checkpoint ids are
 * `stage-<n>-step-<k>`, 1-based, and `final`); undefined for a base model. */
export function checkpointStage(ref: ModelRef | undefined, stages: number): number | undefined {
  if (ref?.ref?.$case !== 'checkpoint') return undefined;
  const match = /^stage-(\d+)-/.exec(ref.ref.checkpoint.checkpointId);
  return match ? Number(match[1]) - 1 : stages - 1;
}
