// Sampling throughput of the Python worker with dynamic batching against one-at-a-time generation
// (`--max-batch-size 1`), 16 concurrent gRPC clients, tiny:llama on the CPU; and ScoreLogprobs
// throughput in pairs per second (64 pairs per call against one pair per call).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWorkerClient } from '@midspec/proto';
import { startLocalWorker } from '@midspec/runner';

const CLIENTS = 16;
const REQUESTS_PER_CLIENT = 2;
const MAX_TOKENS = 32;
const SCORE_PAIRS = 128;
const MODEL = { ref: { $case: 'baseModel', baseModel: 'tiny:llama' } };
const THREADS = process.env.MIDSPEC_TORCH_THREADS ?? '1';

function sampleRequest(client, seed) {
  return {
    model: MODEL,
    prompts: [
      { prompt: { $case: 'text', text: `Client ${client}: the assistant is honest because` } },
    ],
    params: { n: 1, temperature: 0.8, maxTokens: MAX_TOKENS, seed, stop: [] },
  };
}

async function withWorker(extraArgs, run) {
  const dataDir = await mkdtemp(join(tmpdir(), 'midspec-bench-sample-'));
  const worker = await startLocalWorker({
    dataDir,
    port: 0,
    extraArgs,
    env: { ...process.env, MIDSPEC_TORCH_THREADS: THREADS },
    startTimeoutMs: 180_000,
  });
  const client = createWorkerClient(worker.address);
  try {
    return await run(client);
  } finally {
    client.close();
    await worker.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Generated tokens per second with CLIENTS clients each sending REQUESTS_PER_CLIENT requests. */
async function sampleThroughput(client) {
  await client.sample(sampleRequest(0, 0), { timeoutMs: 300_000 }); // load the model
  let tokens = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, index) => {
      for (let round = 0; round < REQUESTS_PER_CLIENT; round++) {
        const response = await client.sample(sampleRequest(index, round + 1), {
          timeoutMs: 600_000,
        });
        tokens += response.results[0].completions[0].completionTokens;
      }
    }),
  );
  return tokens / (Number(process.hrtime.bigint() - start) / 1e9);
}

async function scoreThroughput(client, perCall) {
  const item = (i) => ({
    prompt: { prompt: { $case: 'text', text: `Question ${i}: is the assistant honest?` } },
    continuation: ' Yes, because honesty matters.',
  });
  await client.scoreLogprobs({ model: MODEL, items: [item(0)], perToken: false });
  const start = process.hrtime.bigint();
  for (let first = 0; first < SCORE_PAIRS; first += perCall) {
    const items = Array.from({ length: perCall }, (_, i) => item(first + i));
    await client.scoreLogprobs({ model: MODEL, items, perToken: false }, { timeoutMs: 300_000 });
  }
  return SCORE_PAIRS / (Number(process.hrtime.bigint() - start) / 1e9);
}

export default async function bench({ log }) {
  log(
    `tiny:llama on CPU, MIDSPEC_TORCH_THREADS=${THREADS}, ${CLIENTS} clients × ${REQUESTS_PER_CLIENT} requests × ${MAX_TOKENS} tokens`,
  );
  const batched = await withWorker(['--max-batch-size', '16'], async (client) => {
    const sampled = await sampleThroughput(client);
    log(`batched: ${sampled.toFixed(1)} tokens/s`);
    const scoredBatched = await scoreThroughput(client, 64);
    const scoredSingle = await scoreThroughput(client, 1);
    log(
      `ScoreLogprobs: ${scoredBatched.toFixed(1)} pairs/s (64 per call), ${scoredSingle.toFixed(1)} (1 per call)`,
    );
    return { sampled, scoredBatched, scoredSingle };
  });
  const single = await withWorker(['--max-batch-size', '1'], sampleThroughput);
  log(`one at a time: ${single.toFixed(1)} tokens/s`);
  return [
    {
      name: 'Sample tokens/s, 16 clients, dynamic batching',
      value: batched.sampled,
      unit: 'tokens/s',
      baseline: { name: 'one at a time', value: single },
      target: '≥ 4×',
    },
    {
      name: 'ScoreLogprobs pairs/s, 64 pairs per call',
      value: batched.scoredBatched,
      unit: 'pairs/s',
      baseline: { name: '1 pair per call', value: batched.scoredSingle },
    },
  ];
}
