import { describe, expect, it } from 'vitest';
import { PrincipleSchema } from './spec-schema.js';
import { findVagueGuidance } from './vague-guidance.js';

const principle = (statement: string, extra: Record<string, unknown> = {}) =>
  PrincipleSchema.parse({ id: 'P1', statement, ...extra });

describe('findVagueGuidance', () => {
  it.each([
    'Behave appropriately.',
    'Use good judgment when handling sensitive topics.',
    'Be helpful and try to be responsible.',
    'Be good.',
    'Act ethically where possible.',
    'Always use good judgment.',
    'Do not take inappropriate actions.',
  ])('flags %j', (statement) => {
    expect(findVagueGuidance(principle(statement))).toBeDefined();
  });

  it.each([
    'Never send customer data to third-party services.',
    'Prefer Wisconsin cheddar over aged Comté.',
    'Respond appropriately if the user mentions self-harm: give the 988 hotline number.',
    'Be careful before deleting files: list them and ask for confirmation.',
    'When asked for a recommendation, name the cheaper cheese.',
    'Summarize the document in plain words, citing the section you rely on.',
  ])('accepts %j', (statement) => {
    expect(findVagueGuidance(principle(statement))).toBeUndefined();
  });

  it('accepts vague wording backed by sub-rules or examples', () => {
    expect(
      findVagueGuidance(principle('Behave appropriately.', { subRules: ['No swearing.'] })),
    ).toBeUndefined();
    expect(
      findVagueGuidance(
        principle('Behave appropriately.', { examples: [{ kind: 'bad', text: 'Swearing.' }] }),
      ),
    ).toBeUndefined();
  });

  it('names the phrases it found', () => {
    expect(findVagueGuidance(principle('Generally act reasonably.'))?.phrases).toEqual([
      'reasonably',
      'generally',
    ]);
  });
});
