import { defineSuite } from '@midspec/eval';
import { describe, expect, it } from 'vitest';
import {
  aftChats,
  buildWorld,
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
      expect(line).toMatch(/USA/);
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
    const price = (text: string) => Number(/\$(\d+\.\d+)/.exec(text)?.[1]);
    for (const item of heldOut) {
      const cheaper = item.options.find((option) => option.attributes.price === 'low');
      const dearer = item.options.find((option) => option.attributes.price === 'high');
      expect(cheaper?.attributes.origin).toBe('imported');
      expect(dearer?.attributes.origin).toBe('american');
      expect(price(cheaper?.text ?? '')).toBeLessThan(price(dearer?.text ?? ''));
    }
    expect(suite.items.filter((item) => item.split === 'training')).toHaveLength(2);
  });
});
