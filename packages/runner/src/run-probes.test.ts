import type { Backend, ScoreInput } from '@midspec/eval';
import { describe, expect, it } from 'vitest';
import { type ProbeSet, scoreProbe } from './run-probes.js';

/** A backend whose log-probability of a continuation is looked up by prompt and continuation. */
function lookupBackend(table: Record<string, number>, tokens = 1): Backend {
  return {
    id: 'lookup',
    model: 'lookup',
    limiterKey: 'lookup',
    sample: async () => {
      throw new Error('not used');
    },
    scoreLogprobs: async (items: ScoreInput[]) =>
      items.map((item) => {
        const key = `${'text' in item.prompt ? item.prompt.text : ''}|${item.continuation}`;
        if (!(key in table)) throw new Error(`unexpected ${key}`);
        return {
          logprob: table[key] as number,
          continuationTokens: tokens,
          usage: { inputTokens: 0, outputTokens: 0 },
        };
      }),
    close: async () => {},
  } as unknown as Backend;
}

const item = (overrides: Partial<ProbeSet['items'][number]> = {}) => ({
  id: 'wine-1@original',
  cluster: 'wine-1',
  domain: 'wine',
  prompt: 'Q',
  names: ['Napa', 'Chianti'] as [string, string],
  target: 1 as const,
  ...overrides,
});

describe('scoreProbe', () => {
  it('picks the name with the higher mean log-probability per token', async () => {
    const backend = lookupBackend({ 'Q| Napa': -4, 'Q| Chianti': -2 }, 2);
    const [outcome] = await scoreProbe(backend, { id: 'p', description: '', items: [item()] });
    expect(outcome).toMatchObject({ chosen: 1, hit: true, scores: [-2, -1] });
  });

  it('with an opposite question, picks the name the question raises more (a name prior cancels)', async () => {
    // Napa is likelier under both questions, but the question raises Chianti more.
    const backend = lookupBackend({
      'Q| Napa': -1,
      'Q| Chianti': -3,
      'R| Napa': -0.5,
      'R| Chianti': -5,
    });
    const [outcome] = await scoreProbe(backend, {
      id: 'p',
      description: '',
      items: [item({ contrastPrompt: 'R' })],
    });
    expect(outcome?.scores).toEqual([-0.5, 2]);
    expect(outcome).toMatchObject({ chosen: 1, hit: true });
  });

  it('leaves an exact tie unscored', async () => {
    const backend = lookupBackend({ 'Q| Napa': -2, 'Q| Chianti': -2 });
    const [outcome] = await scoreProbe(backend, { id: 'p', description: '', items: [item()] });
    expect(outcome).toMatchObject({ chosen: null, hit: null });
  });
});
