import type { Backend, SampleInput, SampleOutput, ScoreInput, ScoreOutput } from './backend.js';
import { BackendError } from './backend.js';

/** A scripted in-process backend for tests and offline examples: each call is answered by a function. */
export class ScriptedBackend implements Backend {
  readonly id: string;
  readonly limiterKey: string;
  readonly pricing = { inputPerMillion: 1, outputPerMillion: 2 };
  calls = 0;

  constructor(
    readonly model: string,
    private readonly answer: (
      input: SampleInput,
      call: number,
    ) => string | Partial<SampleOutput> | Error,
    private readonly score?: (item: ScoreInput) => number,
  ) {
    this.id = `scripted:${model}`;
    this.limiterKey = this.id;
  }

  async sample(input: SampleInput): Promise<SampleOutput> {
    const answer = this.answer(input, this.calls++);
    if (answer instanceof Error) throw answer;
    const output = typeof answer === 'string' ? { text: answer } : answer;
    return {
      text: '',
      toolCalls: [],
      finishReason: 'stop',
      usage: { inputTokens: 100, outputTokens: 20 },
      ...output,
    };
  }

  async scoreLogprobs(items: ScoreInput[]): Promise<ScoreOutput[]> {
    this.calls++;
    if (!this.score)
      throw new BackendError({
        backend: this.id,
        message: 'no scores',
        retryable: false,
        unsupported: true,
      });
    const score = this.score;
    return items.map((item) => ({
      logprob: score(item),
      continuationTokens: 1,
      usage: { inputTokens: 10, outputTokens: 0 },
    }));
  }

  async close(): Promise<void> {}
}
