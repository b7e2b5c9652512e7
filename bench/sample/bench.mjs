// Sampling on the Python worker under a mixed-length load: continuous batching against static
// batching (`--batching static`, a batch runs to completion before the next starts) and one request
// at a time (`--max-batch-size 1`), tiny:llama on the CPU. Each client streams (SampleStream)
// requests alternating short and long max_tokens; the figures are generated tokens/s,
// time to first token (the first streamed message) and latency, p50 and p99. The three workers run
// side by side and take turns, several rounds, so a shared machine's load falls on all of them;
// tokens per CPU-second of the worker process (from /proc) is reported beside tokens/s, as it
// moves far less with other processes' load than wall-clock figures do.
// Then ScoreLogprobs in pairs per second (64 pairs per call against one pair per call).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWorkerClient } from '@midspec/proto';
import { startLocalWorker } from '@midspec/runner';

const ROUNDS = Number(process.env.BENCH_SAMPLE_ROUNDS ?? 3);
const CLIENTS = [16, 32];
const REQUESTS_PER_CLIENT = 4;
const SHORT_TOKENS = 16;
const LONG_TOKENS = 128;
const MAX_BATCH_SIZE = '32';
const SCORE_PAIRS = 128;
const MODEL = { ref: { $case: 'baseModel', baseModel: 'tiny:llama' } };
const THREADS = process.env.MIDSPEC_TORCH_THREADS ?? '1';
const MODES = {
  continuous: ['--max-batch-size', MAX_BATCH_SIZE],
  static: ['--batching', 'static', '--max-batch-size', MAX_BATCH_SIZE],
  'one at a time': ['--max-batch-size', '1'],
};
// One at a time serves requests in turn whatever the number of clients: 16 clients suffice.
const CLIENTS_OF = { continuous: CLIENTS, static: CLIENTS, 'one at a time': [16] };

function sampleRequest(client, round, maxTokens) {
  return {
    model: MODEL,
    prompts: [
      { prompt: { $case: 'text', text: `Client ${client}: the assistant is honest because` } },
    ],
    params: { n: 1, temperature: 0.8, maxTokens, seed: client * 100 + round, stop: [] },
  };
}

async function startWorker(extraArgs) {
  const dataDir = await mkdtemp(join(tmpdir(), 'midspec-bench-sample-'));
  const worker = await startLocalWorker({
    dataDir,
    port: 0,
    extraArgs,
    env: { ...process.env, MIDSPEC_TORCH_THREADS: THREADS },
    startTimeoutMs: 180_000,
  });
  const client = createWorkerClient(worker.address);
  await client.sample(sampleRequest(0, 0, 1), { timeoutMs: 300_000 }); // load the model
  return {
    client,
    pid: worker.child.pid,
    async stop() {
      client.close();
      await worker.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The q-quantile of sorted values, interpolated linearly. */
function quantile(sorted, q) {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  return sorted[below] + (sorted[Math.ceil(position)] - sorted[below]) * (position - below);
}

const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;

/** CPU seconds (user + system) a process has used, from /proc/PID/stat (Linux). */
async function cpuSeconds(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ)
}

/** Every client streams REQUESTS_PER_CLIENT requests in turn, short and long alternating. */
async function mixedLoad({ client, pid }, clients) {
  const cpuBefore = await cpuSeconds(pid);
  const firstTokens = [];
  const latencies = [];
  let tokens = 0;
  const load = loadavg()[0];
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: clients }, async (_, index) => {
      for (let round = 0; round < REQUESTS_PER_CLIENT; round++) {
        const long = (index + round) % 2 === 1;
        const request = sampleRequest(index, round + 1, long ? LONG_TOKENS : SHORT_TOKENS);
        const sent = process.hrtime.bigint();
        let first;
        for await (const message of client.sampleStream(request, { timeoutMs: 600_000 })) {
          first ??= seconds(sent);
          if (message.completion) tokens += message.completion.completionTokens;
        }
        firstTokens.push(first);
        latencies.push(seconds(sent));
      }
    }),
  );
  const wall = seconds(start);
  const cpu = (await cpuSeconds(pid)) - cpuBefore;
  firstTokens.sort((a, b) => a - b);
  latencies.sort((a, b) => a - b);
  return {
    tokensPerSecond: tokens / wall,
    tokensPerCpuSecond: tokens / cpu,
    ttft50: quantile(firstTokens, 0.5),
    ttft99: quantile(firstTokens, 0.99),
    latency50: quantile(latencies, 0.5),
    latency99: quantile(latencies, 0.99),
    load: (load + loadavg()[0]) / 2,
  };
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
  return SCORE_PAIRS / seconds(start);
}

const median = (values) =>
  quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
const spread = (values, digits) => {
  const sorted = [...values].sort((a, b) => a - b);
  const show = (value) => value.toFixed(digits);
  return `${show(median(sorted))} (${show(sorted[0])}–${show(sorted.at(-1))})`;
};

export default async function bench({ log }) {
  log(
    `tiny:llama on CPU, MIDSPEC_TORCH_THREADS=${THREADS}, clients × ${REQUESTS_PER_CLIENT} streamed requests alternating ${SHORT_TOKENS} and ${LONG_TOKENS} new tokens, ${ROUNDS} rounds`,
  );
  const workers = {};
  try {
    for (const [mode, args] of Object.entries(MODES)) workers[mode] = await startWorker(args);
    const runs = {}; // "mode/clients" -> one result per round
    const modes = Object.keys(MODES);
    for (let round = 0; round < ROUNDS; round++) {
      const order = modes.slice(round % modes.length).concat(modes.slice(0, round % modes.length));
      for (const clients of CLIENTS) {
        for (const mode of order.filter((m) => CLIENTS_OF[m].includes(clients))) {
          const result = await mixedLoad(workers[mode], clients);
          const key = `${mode}/${clients}`;
          runs[key] = [...(runs[key] ?? []), result];
          log(
            `round ${round + 1}, ${mode}, ${clients} clients: ${result.tokensPerSecond.toFixed(1)} tokens/s (${result.tokensPerCpuSecond.toFixed(1)} per worker CPU-second), TTFT p50 ${(result.ttft50 * 1e3).toFixed(0)} ms p99 ${(result.ttft99 * 1e3).toFixed(0)} ms, latency p50 ${result.latency50.toFixed(2)} s p99 ${result.latency99.toFixed(2)} s, load ${result.load.toFixed(1)}`,
          );
        }
      }
    }
    const single = runs['one at a time/16'];
    const summary = [];
    for (const [key, results] of Object.entries(runs)) {
      const of = (field, scale = 1) => results.map((r) => r[field] * scale);
      log(
        `${key} clients, median (min–max) over ${results.length} rounds: ${spread(of('tokensPerSecond'), 1)} tokens/s, ${spread(of('tokensPerCpuSecond'), 1)} per worker CPU-second; TTFT p50 ${spread(of('ttft50', 1e3), 0)} ms, p99 ${spread(of('ttft99', 1e3), 0)} ms; latency p50 ${spread(of('latency50'), 2)} s, p99 ${spread(of('latency99'), 2)} s`,
      );
    }
    for (const clients of CLIENTS) {
      const continuous = runs[`continuous/${clients}`];
      const staticRuns = runs[`static/${clients}`];
      const ratios = (baseline, field = 'tokensPerSecond') =>
        continuous.map((r, i) => r[field] / baseline[i][field]);
      const cpu = 'tokensPerCpuSecond';
      if (clients === 16) {
        log(
          `continuous / one at a time, 16 clients, per round: ${spread(ratios(single), 2)}× (tokens/s), ${spread(ratios(single, cpu), 2)}× (per worker CPU-second)`,
        );
      }
      log(
        `continuous / static, ${clients} clients, per round: ${spread(ratios(staticRuns), 2)}× (tokens/s), ${spread(ratios(staticRuns, cpu), 2)}× (per worker CPU-second)`,
      );
      log(
        `continuous p99 / p50 TTFT, ${clients} clients, per round: ${spread(
          continuous.map((r) => r.ttft99 / r.ttft50),
          2,
        )}×`,
      );
      const tokens = median(continuous.map((r) => r.tokensPerSecond));
      summary.push({
        name: `Sample tokens/s, mixed lengths, ${clients} clients, continuous batching`,
        value: tokens,
        unit: 'tokens/s',
        baseline: {
          name: 'static batching',
          value: median(staticRuns.map((r) => r.tokensPerSecond)),
        },
      });
      if (clients === 16) {
        summary.push({
          name: 'Sample tokens/s, mixed lengths, 16 clients, continuous batching',
          value: tokens,
          unit: 'tokens/s',
          baseline: { name: 'one at a time', value: median(single.map((r) => r.tokensPerSecond)) },
          target: '≥ 6×',
        });
        summary.push({
          name: 'Sample tokens per worker CPU-second, mixed lengths, 16 clients, continuous',
          value: median(continuous.map((r) => r[cpu])),
          unit: 'tokens/CPU-s',
          baseline: { name: 'one at a time', value: median(single.map((r) => r[cpu])) },
          target: '≥ 6×',
        });
      }
      summary.push({
        name: `Sample p99 TTFT, mixed lengths, ${clients} clients, continuous batching`,
        value: median(continuous.map((r) => r.ttft99 * 1e3)),
        unit: 'ms',
        baseline: { name: 'p50', value: median(continuous.map((r) => r.ttft50 * 1e3)) },
        target: '≤ 2×',
      });
    }
    log(
      `load average during the runs: ${spread(
        Object.values(runs)
          .flat()
          .map((r) => r.load),
        1,
      )}`,
    );
    const scoredBatched = await scoreThroughput(workers.continuous.client, 64);
    const scoredSingle = await scoreThroughput(workers.continuous.client, 1);
    log(
      `ScoreLogprobs: ${scoredBatched.toFixed(1)} pairs/s (64 per call), ${scoredSingle.toFixed(1)} (1 per call)`,
    );
    summary.push({
      name: 'ScoreLogprobs pairs/s, 64 pairs per call',
      value: scoredBatched,
      unit: 'pairs/s',
      baseline: { name: '1 pair per call', value: scoredSingle },
    });
    return summary;
  } finally {
    await Promise.all(Object.values(workers).map((worker) => worker.stop()));
  }
}
