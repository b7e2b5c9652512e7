import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DocgenError } from './docgen-error.js';
import { Engine } from './engine.js';
import { parseItems } from './parse-output.js';
import type { CompletionRequest, Provider } from './provider.js';
import { ResponseCache } from './response-cache.js';
import { StageRunner } from './stage-runner.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'docgen-engine-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function scripted(
  answer: (request: CompletionRequest, call: number) => string,
): Provider & { calls: number } {
  const provider = {
    id: 'scripted',
    model: 'm',
    defaultConcurrency: 4,
    calls: 0,
    async complete(request: CompletionRequest) {
      provider.calls += 1;
      return {
        text: answer(request, provider.calls),
        finishReason: 'stop' as const,
        promptTokens: 1,
        completionTokens: 1,
      };
    },
  };
  return provider;
}

const base = {
  messages: [{ role: 'user' as const, content: 'x' }],
  temperature: 1,
  maxTokens: 10,
  task: { stage: 'ideas' as const, spec: {} as never },
};

describe('Engine', () => {
  it('re-samples unparseable output and refusals, counts them, and never throws for them', async () => {
    const provider = scripted((_request, call) =>
      call === 1
        ? 'not json'
        : call === 2
          ? "I'm sorry, I can't help with that."
          : '{"items":[{"name":"a","description":""}]}',
    );
    const engine = new Engine({ provider, seed: 1 });
    const outcome = await engine.sample(base, { stage: 'ideas', sampleIndex: 'k' }, parseItems);
    expect(outcome).toMatchObject({ ok: true, attempts: 3, parseFailures: 1, refusals: 1 });
    const never = new Engine({ provider: scripted(() => 'garbage'), seed: 1, maxParseAttempts: 2 });
    const failed = await never.sample(base, { stage: 'ideas', sampleIndex: 'k' }, parseItems);
    expect(failed).toMatchObject({ ok: false, attempts: 2, parseFailures: 2 });
  });

  it('caches per sample index: repeated samples are separate entries, a rerun is free', async () => {
    const cache = await ResponseCache.open(dir);
    const provider = scripted(
      (request) => `{"items":[{"name":"seed ${request.seed}","description":""}]}`,
    );
    const engine = new Engine({ provider, seed: 1, cache });
    const a = await engine.sample(base, { stage: 'ideas', sampleIndex: 'k#0' }, parseItems);
    const b = await engine.sample(base, { stage: 'ideas', sampleIndex: 'k#1' }, parseItems);
    expect(a.ok && b.ok && a.value[0]?.name !== b.value[0]?.name).toBe(true);
    cache.close();
    const reopened = await ResponseCache.open(dir);
    expect(reopened.size).toBe(2);
    const again = new Engine({ provider, seed: 1, cache: reopened });
    const c = await again.sample(base, { stage: 'ideas', sampleIndex: 'k#1' }, parseItems);
    expect(c).toMatchObject({ ok: true, cacheHits: 1 });
    expect(provider.calls).toBe(2);
    reopened.close();
  });

  it('keeps concurrency within the limit', async () => {
    let active = 0;
    let peak = 0;
    const provider: Provider = {
      id: 'p',
      model: 'm',
      defaultConcurrency: 3,
      async complete() {
        active += 1;
        peak = Math.max(peak, active);
        await new Promise((resolve) => setTimeout(resolve, 5));
        active -= 1;
        return { text: 'ok', finishReason: 'stop', promptTokens: 0, completionTokens: 0 };
      },
    };
    const engine = new Engine({ provider, seed: 0 });
    await Promise.all(Array.from({ length: 20 }, () => engine.call({ ...base, seed: 0 })));
    expect(peak).toBe(3);
  });
});

describe('StageRunner', () => {
  it('tops up list items and stops a stage that produces nothing new with the loop guard', async () => {
    const engine = new Engine({
      provider: scripted(() => '{"items":[{"name":"same","description":""}]}'),
      seed: 0,
    });
    const runner = new StageRunner({
      engine,
      directory: dir,
      specMarkdown: '',
      temperature: 1,
      structuredMaxTokens: 10,
      textMaxTokens: 10,
      loopGuardRounds: 2,
    });
    const lists = await runner.runList('ideas', [
      { key: 'k', task: { stage: 'ideas', spec: {} as never, count: 3 } },
    ]);
    expect(lists.get('k')).toHaveLength(1);
    const stuck = new StageRunner({
      engine: new Engine({ provider: scripted(() => 'never json'), seed: 0, maxParseAttempts: 2 }),
      directory: join(dir, 'stuck'),
      specMarkdown: '',
      temperature: 1,
      structuredMaxTokens: 10,
      textMaxTokens: 10,
      loopGuardRounds: 2,
    });
    const error = await stuck
      .runList('domains', [
        { key: 'root', task: { stage: 'domains', spec: {} as never, count: 3 } },
      ])
      .catch((caught: unknown) => caught);
    expect(DocgenError.isInstance(error) && (error as DocgenError).code).toBe('docgen/loop-guard');
    runner.close();
    stuck.close();
  });
});
