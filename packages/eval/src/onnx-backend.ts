import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CallOptions } from '@midspec/core';
import {
  type Backend,
  BackendError,
  chatAsText,
  type SampleOutput,
  type ScoreInput,
  type ScoreOutput,
} from './backend.js';
import type { EvalPrompt } from './expand-suite.js';
import { loadModelTokenizer, type OnnxTokenizer } from './model-tokenizer.js';
import { resolveOnnxRuntime } from './onnx-runtime.js';

export type { OnnxTokenizer };

/** UTF-8 bytes as token ids: the tokenizer of byte-level test models (chats flattened to text). */
export const byteTokenizer: OnnxTokenizer = { encode: (text) => [...Buffer.from(text, 'utf8')] };

/** Models pad their vocabulary (Qwen3: 151,669 tokens, 151,936 rows); more than this is a mismatch. */
const MAX_VOCABULARY_PADDING = 1024;

export interface OnnxBackendOptions {
  /** An exported causal LM: input_ids [batch, sequence] (attention_mask, position_ids optional) → logits [batch, sequence, vocab], no KV cache. */
  modelPath: string;
  /**
   * Default: the model's own, from tokenizer.json (and its chat template) beside model.onnx; an
   * error names the file when it is missing. byteTokenizer for byte-level test models.
   */
  tokenizer?: OnnxTokenizer;
  /** Prepended to every prompt, e.g. the BOS id. */
  prefixTokenIds?: number[];
  /** Worker threads in the pool (default: min(4, cores)). */
  threads?: number;
  /** onnxruntime intra-op threads per worker (default 1). */
  intraOpThreads?: number;
  inputName?: string;
  outputName?: string;
}

// Plain CommonJS so it runs with `eval: true` from sources and from the build alike.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.runtimePath);
const ready = ort.InferenceSession.create(workerData.modelPath, {
  intraOpNumThreads: workerData.intraOpThreads, executionProviders: ['cpu'],
});
ready.catch(() => {});
parentPort.on('message', async (job) => {
  try {
    const session = await ready;
    const results = [];
    for (const { ids, start } of job.items) {
      const shape = [1, ids.length];
      const feeds = { [workerData.inputName]: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), shape) };
      if (session.inputNames.includes('attention_mask')) {
        feeds.attention_mask = new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), shape);
      }
      if (session.inputNames.includes('position_ids')) {
        feeds.position_ids = new ort.Tensor('int64', BigInt64Array.from(ids, (_, i) => BigInt(i)), shape);
      }
      const output = await session.run(feeds);
      const logits = output[workerData.outputName] || output[session.outputNames[0]];
      const vocab = logits.dims[logits.dims.length - 1];
      const size = workerData.tokenizerSize;
      if (size && (size > vocab || vocab - size >= workerData.maxPadding)) {
        throw new Error('the tokenizer has ' + size + ' tokens but the model scores ' + vocab +
          ": tokenizer.json is not this model's (export them together)");
      }
      const data = logits.data;
      let total = 0;
      let greedy = true;
      for (let t = start; t < ids.length; t++) {
        if (ids[t] >= vocab) throw new Error('token id ' + ids[t] + ' is outside the vocabulary of ' + vocab);
        const offset = (t - 1) * vocab;
        let max = -Infinity;
        let argmax = 0;
        for (let v = 0; v < vocab; v++) if (data[offset + v] > max) { max = data[offset + v]; argmax = v; }
        let sum = 0;
        for (let v = 0; v < vocab; v++) sum += Math.exp(data[offset + v] - max);
        total += data[offset + ids[t]] - max - Math.log(sum);
        if (argmax !== ids[t]) greedy = false;
      }
      results.push({ logprob: total, tokens: ids.length - start, greedy });
    }
    parentPort.postMessage({ id: job.id, results });
  } catch (error) {
    parentPort.postMessage({ id: job.id, error: String((error && error.message) || error) });
  }
});
`;

interface Job {
  id: number;
  items: Array<{ ids: number[]; start: number }>;
  resolve: (results: Array<{ logprob: number; tokens: number }>) => void;
  reject: (error: Error) => void;
}

/**
 * Scores log-probabilities with an exported ONNX model in a pool of worker threads, on this machine,
 * with no server. Sampling is not offered: choice suites only need scores.
 */
export class OnnxBackend implements Backend {
  readonly id: string;
  readonly model: string;
  readonly limiterKey: string;
  readonly pricing = undefined;
  private readonly tokenizer: OnnxTokenizer;
  private readonly prefix: number[];
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Job[] = [];
  private readonly running = new Map<Worker, Job>();
  private nextId = 0;
  private closed = false;

  constructor(options: OnnxBackendOptions) {
    const modelPath = resolve(options.modelPath);
    this.model = modelPath;
    this.id = `onnx:${modelPath}`;
    this.limiterKey = this.id;
    this.tokenizer = options.tokenizer ?? loadModelTokenizer(dirname(modelPath));
    this.prefix = options.prefixTokenIds ?? [];
    const size = Math.max(1, options.threads ?? Math.min(4, availableParallelism()));
    const runtimePath = resolveOnnxRuntime();
    for (let i = 0; i < size; i++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: {
          runtimePath,
          modelPath,
          intraOpThreads: options.intraOpThreads ?? 1,
          inputName: options.inputName ?? 'input_ids',
          outputName: options.outputName ?? 'logits',
          tokenizerSize: this.tokenizer.size ?? 0,
          maxPadding: MAX_VOCABULARY_PADDING,
        },
      });
      worker.on(
        'message',
        (message: {
          id: number;
          error?: string;
          results?: Array<{ logprob: number; tokens: number }>;
        }) => {
          const job = this.running.get(worker);
          this.running.delete(worker);
          // Idle workers must not keep the process alive; busy ones must (see dispatch).
          worker.unref();
          this.idle.push(worker);
          if (job && job.id === message.id) {
            if (message.error) job.reject(new Error(message.error));
            else job.resolve(message.results ?? []);
          }
          this.dispatch();
        },
      );
      worker.on('error', (error) => {
        const job = this.running.get(worker);
        this.running.delete(worker);
        job?.reject(error);
      });
      worker.unref();
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  async sample(): Promise<SampleOutput> {
    throw new BackendError({
      backend: this.id,
      message:
        'the ONNX backend scores log-probabilities only; sample with the worker or an HTTP backend',
      retryable: false,
      unsupported: true,
    });
  }

  async scoreLogprobs(items: ScoreInput[], options: CallOptions = {}): Promise<ScoreOutput[]> {
    if (this.closed)
      throw new BackendError({ backend: this.id, message: 'closed', retryable: false });
    const encoded = items.map((item) => {
      const prompt = [...this.prefix, ...this.encodePrompt(item.prompt)];
      const continuation = this.tokenizer.encode(item.continuation, { addSpecialTokens: false });
      return {
        ids: [...prompt, ...continuation],
        start: prompt.length,
        continuationTokens: continuation.length,
      };
    });
    const invalid = encoded.findIndex((item) => item.start === 0 || item.continuationTokens === 0);
    if (invalid >= 0) {
      throw new BackendError({
        backend: this.id,
        message: `item ${invalid}: the prompt and the continuation must each have at least one token (set prefixTokenIds for an empty prompt)`,
        retryable: false,
      });
    }
    const results = await new Promise<Array<{ logprob: number; tokens: number }>>(
      (resolvePromise, rejectPromise) => {
        const job: Job = {
          id: this.nextId++,
          items: encoded.map(({ ids, start }) => ({ ids, start })),
          resolve: (value) => {
            cleanup();
            resolvePromise(value);
          },
          reject: (error) => {
            cleanup();
            rejectPromise(
              new BackendError({
                backend: this.id,
                message: error.message,
                retryable: false,
                cause: error,
              }),
            );
          },
        };
        // The worker cannot be interrupted mid-run; an aborted job is dropped from the queue, or its result discarded.
        const onAbort = () => {
          const queued = this.queue.indexOf(job);
          if (queued >= 0) this.queue.splice(queued, 1);
          job.reject(
            new Error(
              options.signal?.aborted ? 'aborted' : `timed out after ${options.timeoutMs} ms`,
            ),
          );
        };
        const timer =
          options.timeoutMs === undefined ? undefined : setTimeout(onAbort, options.timeoutMs);
        options.signal?.addEventListener('abort', onAbort, { once: true });
        const cleanup = () => {
          if (timer) clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
          job.resolve = () => {};
          job.reject = () => {};
        };
        if (options.signal?.aborted) return onAbort();
        this.queue.push(job);
        this.dispatch();
      },
    );
    return results.map((result) => ({
      logprob: result.logprob,
      continuationTokens: result.tokens,
      usage: { inputTokens: 0, outputTokens: 0 },
    }));
  }

  /** A chat through the model's chat template (as the worker renders it), text as it is. */
  private encodePrompt(prompt: EvalPrompt): number[] {
    if ('text' in prompt) return this.tokenizer.encode(prompt.text);
    if (this.tokenizer.renderChat) {
      return this.tokenizer.encode(this.tokenizer.renderChat(prompt.messages), {
        addSpecialTokens: false,
      });
    }
    if (this.tokenizer === byteTokenizer) return this.tokenizer.encode(chatAsText(prompt.messages));
    throw new BackendError({
      backend: this.id,
      message:
        'the model has no chat template (chat_template.jinja or tokenizer_config.json): score text prompts (promptFormat: text)',
      retryable: false,
      unsupported: true,
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('backend closed'));
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0 && this.idle.length > 0) {
      const worker = this.idle.pop() as Worker;
      const job = this.queue.shift() as Job;
      this.running.set(worker, job);
      worker.ref();
      worker.postMessage({ id: job.id, items: job.items });
    }
  }
}
