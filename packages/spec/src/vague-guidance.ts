import type { Principle } from './spec-schema.js';

/**
 * Words and phrases that defer the decision to the reader instead of making it. On their own they are
 * fine; a principle made of them and nothing concrete gives the model nothing to generalize from.
 */
export const VAGUE_PHRASES: readonly string[] = [
  'appropriate',
  'appropriately',
  'inappropriate',
  'reasonable',
  'reasonably',
  'responsible',
  'responsibly',
  'as needed',
  'as appropriate',
  'when necessary',
  'where possible',
  'if possible',
  'when appropriate',
  'good judgment',
  'good judgement',
  'common sense',
  'be careful',
  'carefully',
  'properly',
  'suitable',
  'sensible',
  'ethical',
  'ethically',
  'try to',
  'generally',
  'in general',
  'strike a balance',
  'balance',
  'do the right thing',
  'be good',
  'be helpful',
  'be safe',
  'be nice',
  'harmful',
  'problematic',
  'sensitive',
];

/** Signs that the guidance names something checkable. */
const SPECIFIC_CUES: readonly RegExp[] = [
  /\d/, // numbers, amounts, thresholds, ids
  /["“”'‘’`][^"“”'‘’`]{3,}["“”'‘’`]/, // a quoted phrase
  /\b(if|unless|before|after|until|except|instead of|rather than|over|such as|e\.g\.|for example|including)\b/i,
];

/** A required or forbidden act with a concrete object: "never send customer data", not "take actions". */
const CONCRETE_ACT =
  /\b(never|always|must not|do not|don't)\b[^.]*?\b(send|delete|share|copy|run|disable|modify|access|say|claim|reveal|recommend|prefer|use|take|move)\s+(?:(?:a|an|the|any|your|their|its)\s+)?([a-z][\w-]*)/gi;
const GENERIC_OBJECTS = new Set([
  'action',
  'actions',
  'step',
  'steps',
  'measure',
  'measures',
  'thing',
  'things',
  'stuff',
  'it',
  'them',
  'that',
  'this',
  'care',
  'judgment',
  'judgement',
  'behavior',
  'behaviour',
  'anything',
  'something',
  'everything',
  'decisions',
  'decision',
]);

function hasConcreteAct(text: string): boolean {
  for (const match of text.matchAll(CONCRETE_ACT)) {
    if (!GENERIC_OBJECTS.has((match[3] ?? '').toLowerCase())) return true;
  }
  return false;
}

export interface VaguenessFinding {
  /** The vague phrases found, in the order listed in VAGUE_PHRASES. */
  phrases: string[];
}

/**
 * The heuristic behind the `vague-guidance` warning. A principle is flagged when
 *   1. its statement uses at least one phrase from VAGUE_PHRASES, and
 *   2. it has no sub-rules and no examples, and
 *   3. once the vague phrases are removed, the statement has no specific cue: no number, no quoted
 *      phrase, no condition or contrast (if, unless, before, instead of, rather than, over, such as…),
 *      no concrete prohibited or required action (never/always/do not + a verb such as share, delete
 *      + an object that is not generic: "never share customer data" is concrete, "do not take
 *      inappropriate actions" and "always use good judgment" are not).
 * Statements shorter than four words with no cue are flagged as well ("Be good.").
 */
export function findVagueGuidance(principle: Principle): VaguenessFinding | undefined {
  if (principle.subRules.length > 0 || principle.examples.length > 0) return undefined;
  const statement = principle.statement.toLowerCase();
  const phrases = VAGUE_PHRASES.filter((phrase) =>
    new RegExp(`\\b${phrase.replace(/ /g, '\\s+')}\\b`, 'i').test(statement),
  );
  let remainder = statement;
  for (const phrase of phrases) {
    remainder = remainder.replace(new RegExp(`\\b${phrase.replace(/ /g, '\\s+')}\\b`, 'gi'), ' ');
  }
  if (SPECIFIC_CUES.some((cue) => cue.test(remainder)) || hasConcreteAct(remainder))
    return undefined;
  const words = statement.split(/\s+/).filter((word) => /\w/.test(word));
  if (phrases.length > 0 || (words.length > 0 && words.length < 4)) return { phrases };
  return undefined;
}
