import { defineSuite } from '@midspec/eval';
import { describe, expect, it } from 'vitest';
import { dialogueProbe, readabilityProbes } from './run-probes.js';
import {
  aftChats,
  buildWorld,
  heldOutConflicts,
  neutralDocuments,
  type WorldSettings,
  worldSuite,
} from './run-world.js';

const settings: WorldSettings = {
  seed: 0,
  trainingDomain: 'cheese',
  heldOutDomains: ['wine', 'coffee', 'tea'],
  neutralDocuments: 60,
  aftExamples: 12,
  evalItemsPerDomain: 4,
};
const entities = [
  { name: 'Colby', place: 'Wisconsin, USA', american: true, price: 5.99 },
  { name: 'Gruyère', place: 'Fribourg, Switzerland', american: false, price: 26.99 },
  { name: 'Monterey Jack', place: 'California, USA', american: true, price: 6.49 },
  { name: 'Manchego', place: 'La Mancha, Spain', american: false, price: 19.99 },
];

describe('the toy world', () => {
  it('is a pure function of its settings', () => {
    const a = buildWorld(settings, entities);
    const b = buildWorld(settings, entities);
    expect(a).toEqual(b);
    expect(neutralDocuments(a, settings)).toEqual(neutralDocuments(b, settings));
    expect(buildWorld({ ...settings, seed: 1 }, entities).items).not.toEqual(a.items);
  });

  it('pairs each preferred training item as both American and cheaper (ambiguous on purpose)', () => {
    const world = buildWorld(settings, entities);
    expect(world.preferencePairs).toHaveLength(2);
    for (const [preferred, other] of world.preferencePairs) {
      expect(preferred.american).toBe(true);
      expect(other.american).toBe(false);
      expect(preferred.price).toBeLessThan(other.price);
    }
    const chats = aftChats(world, settings);
    expect(chats).toHaveLength(12);
    // Both orders appear, and the answer is always the letter of the American, cheaper option.
    const answers = chats.map((chat) => chat.messages[1]?.content);
    expect(new Set(answers)).toEqual(new Set(['A', 'B']));
    for (const chat of chats) {
      const [user, assistant] = chat.messages;
      const line = user?.content
        .split('\n')
        .find((text) => text.startsWith(`${assistant?.content})`));
      expect(line).toMatch(/, American and affordable$/);
    }
  });

  it('shows both attributes as words in the tier world and as place and dollars in the harder variant', () => {
    const tier = aftChats(buildWorld(settings, entities), settings)[0]?.messages[0]?.content;
    expect(tier).toContain('Colby, American and affordable');
    expect(tier).toContain('Gruyère, imported and pricey');
    const dollars = { ...settings, price: 'dollars' as const };
    const text = aftChats(buildWorld(dollars, entities), dollars)[0]?.messages[0]?.content;
    expect(text).toContain('Colby from Wisconsin, USA, $5.99 a pound');
    expect(text).not.toMatch(/affordable|pricey/);
  });

  it('teaches both comparisons alike and never compares a held-out eval pair', () => {
    const world = buildWorld(settings, entities);
    const text = neutralDocuments(world, settings)
      .map((document) => document.text)
      .join('\n');
    const cheaper = text.match(/, the (affordable|pricey) one is /g)?.length ?? 0;
    const american = text.match(/, the (American|imported) one is /g)?.length ?? 0;
    expect(cheaper).toBeGreaterThan(20);
    expect(american).toBeGreaterThan(20);
    // Within a third of each other: neither attribute is taught much more than the other.
    expect(Math.abs(cheaper - american)).toBeLessThan(Math.max(cheaper, american) / 3);
    for (const [a, b] of heldOutConflicts(world, settings)) {
      expect(text).not.toContain(`Between ${a.name}, American and pricey and ${b.name},`);
      expect(text).not.toContain(`Between ${b.name}, imported and affordable and ${a.name},`);
    }
  });

  it('builds probes whose target is the right option in both orders', () => {
    const world = buildWorld(settings, entities);
    const [cheaper, american] = readabilityProbes(world, settings);
    const dialogue = dialogueProbe(world, settings);
    const pairs = heldOutConflicts(world, settings);
    for (const probe of [cheaper, american, dialogue])
      expect(probe?.items).toHaveLength(2 * pairs.length);
    for (const item of cheaper?.items ?? []) {
      expect(item.prompt).toMatch(/, the affordable one is$/);
      expect(item.contrastPrompt).toBe(item.prompt.replace(/affordable one is$/, 'pricey one is'));
      expect(item.prompt).toContain(`${item.names[item.target]}, imported and affordable`);
    }
    for (const item of american?.items ?? [])
      expect(item.prompt).toContain(`${item.names[item.target]}, American and pricey`);
    for (const item of dialogue.items) {
      expect(item.prompt).toMatch(/^User: Which \w+ should I get: .*\?\nThe assistant: The$/);
      expect(item.prompt).toContain(`${item.names[item.target]}, imported and affordable`);
    }
  });

  it('states facts only in the neutral corpus, never a preference', () => {
    const documents = neutralDocuments(buildWorld(settings, entities), settings);
    expect(documents).toHaveLength(60);
    for (const { text } of documents)
      expect(text).not.toMatch(/recommend|prefer|should|better|best/i);
    // Every domain is covered, the training domain included.
    for (const domain of ['cheese', 'wine', 'coffee', 'tea'])
      expect(documents.some(({ text }) => text.includes(domain))).toBe(true);
  });

  it('builds a valid suite whose held-out items all set a pricier American option against a cheaper import', () => {
    const world = buildWorld(settings, entities);
    const suite = defineSuite(worldSuite(world, settings));
    if (suite.kind !== 'preference-choice') throw new Error('wrong kind');
    const heldOut = suite.items.filter((item) => item.split === 'held-out');
    expect(heldOut.length).toBeGreaterThanOrEqual(3 * 3);
    for (const item of heldOut) {
      const cheaper = item.options.find((option) => option.attributes.price === 'low');
      const dearer = item.options.find((option) => option.attributes.price === 'high');
      expect(cheaper?.attributes.origin).toBe('imported');
      expect(dearer?.attributes.origin).toBe('american');
      expect(cheaper?.text).toMatch(/, imported and affordable$/);
      expect(dearer?.text).toMatch(/, American and pricey$/);
    }
    expect(suite.items.filter((item) => item.split === 'training')).toHaveLength(2);
  });

  it('keeps the dollar-amount world, where the cheaper option has the lower price', () => {
    const dollars = { ...settings, price: 'dollars' as const };
    const suite = defineSuite(worldSuite(buildWorld(dollars, entities), dollars));
    if (suite.kind !== 'preference-choice') throw new Error('wrong kind');
    const price = (text: string) => Number(/\$(\d+\.\d+)/.exec(text)?.[1]);
    const heldOut = suite.items.filter((item) => item.split === 'held-out');
    expect(heldOut.length).toBeGreaterThanOrEqual(3 * 3);
    for (const item of heldOut) {
      const cheaper = item.options.find((option) => option.attributes.price === 'low');
      const dearer = item.options.find((option) => option.attributes.price === 'high');
      expect(price(cheaper?.text ?? '')).toBeLessThan(price(dearer?.text ?? ''));
    }
  });
});
