import { createHash } from 'node:crypto';
import {
  DatasetFormat,
  type ModelRef,
  type Prompt,
  type RequestInit,
  type RunEvent,
  RunState,
  StageKind,
  type WorkerClient,
} from '@midspec/proto';
import type { ConformanceCheck, ConformanceContext } from './conformance-checks.js';
import { CheckFailure } from './conformance-checks.js';

// The conformance checks that look at what training did, not only at what the worker reports:
// losses in events are the worker's word, so these score text with ScoreLogprobs before and after
// training. A worker that reports falling losses but trains nothing fails them.

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CheckFailure(message);
}

/** The first inference call loads a model and the training checks train: minutes on a busy CPU. */
const SLOW = 600_000;

/** Least gain, in nats over the scored continuation, that counts as learning. */
const LEARNED = 0.01;

// Words of the SFT check: the assistant's answers (which the loss covers) and the user's
// questions (which it must not).
const ASSISTANT_WORDS = 'copper meadow whisper lantern';
const USER_WORDS = 'violet orbit thunder marble';

const base = (context: ConformanceContext): ModelRef => ({
  ref: { $case: 'baseModel', baseModel: context.state.model ?? '' },
});
const checkpoint = (runId: string, checkpointId = ''): ModelRef => ({
  ref: { $case: 'checkpoint', checkpoint: { runId, checkpointId, merged: false } },
});
const text = (value: string): Prompt => ({ prompt: { $case: 'text', text: value } });
const chat = (content: string): Prompt => ({
  prompt: { $case: 'chat', chat: { messages: [{ role: 'user', content, reasoning: '' }] } },
});

/** A prompt and continuation from the documents the conformance suite uploads. */
function documentItem(nonce: string): { prompt: Prompt; continuation: string } {
  return {
    prompt: text(`Conformance document 0 (${nonce}).`),
    continuation:
      ' The assistant tells the truth about what it knows and what it does not know. Honesty matters. Honesty matters.',
  };
}

async function score(
  client: WorkerClient,
  model: ModelRef,
  items: { prompt: Prompt; continuation: string }[],
): Promise<number[]> {
  const response = await client.scoreLogprobs({ model, items, perToken: false });
  assert(
    response.results.length === items.length,
    `ScoreLogprobs returned ${response.results.length} results for ${items.length} items`,
  );
  return response.results.map((result) => result.logprob);
}

type Stage = NonNullable<NonNullable<RequestInit<'submitRun'>['spec']>['stages']>[number];

function learningStage(kind: StageKind, datasetId: string, extra: Partial<Stage> = {}): Stage {
  return {
    name: kind === StageKind.STAGE_KIND_SFT ? 'sft' : 'midtrain',
    kind,
    data: [{ datasetId, weight: 1 }],
    packing: { enabled: true, maxLength: 64 },
    budget: { maxSteps: 4, epochs: 1000 },
    microBatchSize: 2,
    optimizer: { learningRate: 1e-2 },
    adapter: { adapter: { $case: 'lora', lora: { r: 8, alpha: 16 } } },
    ...extra,
  } as Stage;
}

/** Submits a run and waits for it to succeed; returns its id. */
async function train(context: ConformanceContext, name: string, stages: Stage[]): Promise<string> {
  const { client, state } = context;
  const submitted = await client.submitRun({
    spec: {
      name: `conformance/${name}`,
      baseModel: state.model ?? '',
      seed: 1,
      labels: { conformance: state.nonce ?? '' },
      stages,
    },
    idempotencyKey: `conformance-${state.nonce}-${name}`,
  });
  const runId = submitted.run?.id ?? '';
  let last: RunEvent | undefined;
  for await (const event of client.watchRun({ runId }, { timeoutMs: 600_000 }))
    if (event.event?.$case === 'stateChanged') last = event;
  const final = last?.event?.$case === 'stateChanged' ? last.event.stateChanged : undefined;
  assert(
    final?.state === RunState.RUN_STATE_SUCCEEDED,
    `run ${runId} ended ${final ? RunState[final.state] : 'without a state'}: ${final?.message ?? ''}`,
  );
  return runId;
}

async function uploadChat(context: ConformanceContext): Promise<string> {
  const lines = Array.from({ length: 40 }, (_, index) =>
    JSON.stringify({
      messages: [
        { role: 'user', content: `Question ${index}: ${USER_WORDS}?` },
        { role: 'assistant', content: `${ASSISTANT_WORDS}. ${ASSISTANT_WORDS}.` },
      ],
    }),
  );
  const data = Buffer.from(`${lines.join('\n')}\n`);
  const sha = createHash('sha256').update(data).digest('hex');
  const response = await context.client.uploadDataset(
    (function* () {
      yield {
        part: {
          $case: 'header' as const,
          header: {
            name: 'conformance-chat.jsonl',
            format: DatasetFormat.DATASET_FORMAT_CHAT,
            sha256: sha,
            sizeBytes: data.length,
          },
        },
      };
      yield { part: { $case: 'chunk' as const, chunk: data } };
    })(),
  );
  assert(response.dataset?.id === sha, 'the chat dataset was not stored under its sha256');
  return sha;
}

const gain = (after: number, before: number) => after - before;
const nats = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(3)} nats`;

export const SEMANTIC_CHECKS: ConformanceCheck[] = [
  {
    id: 'tokenize',
    title: 'Tokenize counts tokens and returns their ids; longer text has more tokens',
    needs: ['model'],
    timeoutMs: SLOW,
    async run(context) {
      const phrase = 'The assistant tells the truth.';
      const response = await context.client.tokenize({
        model: base(context),
        texts: [phrase, `${phrase} ${phrase} ${phrase}`],
        returnIds: true,
      });
      const [one, three] = response.results;
      assert(one && three, `Tokenize returned ${response.results.length} results for 2 texts`);
      assert(one.count > 0, 'a non-empty text has 0 tokens');
      assert(one.ids.length === one.count, `count ${one.count} but ${one.ids.length} ids`);
      assert(
        three.count > one.count * 2,
        `3 copies have ${three.count} tokens, 1 has ${one.count}`,
      );
      return `${one.count} and ${three.count} tokens`;
    },
  },
  {
    id: 'score',
    title: 'ScoreLogprobs gives a finite negative log-probability per item',
    needs: ['model', 'nonce'],
    timeoutMs: SLOW,
    async run(context) {
      const item = documentItem(context.state.nonce ?? '');
      const [logprob, longer] = await score(context.client, base(context), [
        item,
        { ...item, continuation: `${item.continuation}${item.continuation}` },
      ]);
      assert(Number.isFinite(logprob) && logprob < 0, `logprob ${logprob} is not finite and < 0`);
      assert(
        longer !== undefined && longer < logprob,
        `a continuation twice as long scores ${longer}, not below ${logprob}`,
      );
      return `${logprob.toFixed(2)} nats`;
    },
  },
  {
    id: 'sample',
    title: 'Sample returns n completions per prompt within max_tokens',
    needs: ['model'],
    timeoutMs: SLOW,
    async run(context) {
      const response = await context.client.sample({
        model: base(context),
        prompts: [text('The assistant'), chat('Hello?')],
        params: { n: 2, temperature: 1, topP: 1, topK: 0, maxTokens: 8, stop: [], logprobs: false },
      });
      assert(response.results.length === 2, `${response.results.length} results for 2 prompts`);
      for (const result of response.results) {
        assert(result.completions.length === 2, `${result.completions.length} completions, n=2`);
        for (const completion of result.completions)
          assert(
            completion.completionTokens <= 8,
            `${completion.completionTokens} completion tokens, max_tokens 8`,
          );
      }
      return '2 prompts × 2 completions';
    },
  },
  {
    id: 'midtrain-learns',
    title: 'a midtraining stage raises the log-probability of its own documents',
    needs: ['model', 'nonce', 'datasetId'],
    timeoutMs: SLOW,
    async run(context) {
      const item = documentItem(context.state.nonce ?? '');
      const [before] = await score(context.client, base(context), [item]);
      const stage = learningStage(StageKind.STAGE_KIND_MIDTRAIN, context.state.datasetId ?? '');
      const runId = await train(context, 'learns', [stage]);
      const [after] = await score(context.client, checkpoint(runId), [item]);
      const learned = gain(after ?? 0, before ?? 0);
      assert(
        learned > LEARNED,
        `the trained model scores a training document ${nats(learned)} against the base model: training did not learn`,
      );
      return nats(learned);
    },
  },
  {
    id: 'sft-assistant-only',
    title: 'an SFT stage learns the assistant turns, not the user turns',
    needs: ['model', 'nonce'],
    timeoutMs: SLOW,
    async run(context) {
      const datasetId = await uploadChat(context);
      const items = [
        { prompt: chat('Question 0?'), continuation: ` ${ASSISTANT_WORDS}.` },
        { prompt: text('Question 0:'), continuation: ` ${USER_WORDS}?` },
      ];
      const [assistantBefore, userBefore] = await score(context.client, base(context), items);
      const runId = await train(context, 'sft', [
        learningStage(StageKind.STAGE_KIND_SFT, datasetId),
      ]);
      const [assistantAfter, userAfter] = await score(context.client, checkpoint(runId), items);
      const assistant = gain(assistantAfter ?? 0, assistantBefore ?? 0);
      const user = gain(userAfter ?? 0, userBefore ?? 0);
      assert(assistant > LEARNED, `assistant words changed ${nats(assistant)}: SFT did not learn`);
      assert(
        user < assistant / 2,
        `user words gained ${nats(user)}, assistant words ${nats(assistant)}: the loss covers user turns`,
      );
      return `assistant ${nats(assistant)}, user ${nats(user)}`;
    },
  },
  {
    id: 'chained-adapter',
    title: 'a stage that continues the adapter starts from the previous stage',
    needs: ['model', 'nonce', 'datasetId'],
    timeoutMs: SLOW,
    async run(context) {
      const item = documentItem(context.state.nonce ?? '');
      const chatId = await uploadChat(context);
      const runId = await train(context, 'chained', [
        learningStage(StageKind.STAGE_KIND_MIDTRAIN, context.state.datasetId ?? ''),
        learningStage(StageKind.STAGE_KIND_SFT, chatId, { continueAdapter: true, name: 'sft' }),
      ]);
      const { checkpoints } = await context.client.listCheckpoints({ runId });
      const first = checkpoints.filter((c) => c.stageIndex === 0 && !c.final).at(-1);
      assert(first, 'the run lists no checkpoint of its first stage');
      const [before, middle, after] = [
        ...(await score(context.client, base(context), [item])),
        ...(await score(context.client, checkpoint(runId, first.id), [item])),
        ...(await score(context.client, checkpoint(runId), [item])),
      ].map((value) => value ?? 0);
      const firstGain = gain(middle ?? 0, before ?? 0);
      const kept = gain(after ?? 0, before ?? 0);
      assert(firstGain > LEARNED, `the first stage gained ${nats(firstGain)} on its documents`);
      assert(
        kept > firstGain / 2,
        `after the second stage the first stage's documents gain ${nats(kept)} (first stage: ${nats(firstGain)}): the second stage did not start from the first`,
      );
      return `first stage ${nats(firstGain)}, after both ${nats(kept)}`;
    },
  },
];
