import type { Principle, Spec } from './spec-schema.js';

/**
 * Words that explain rather than instruct: a reason (because, since, so that), a purpose (in order
 * to, the goal is), a consequence (otherwise, this protects, which prevents, would undermine) or a
 * weighing (this matters, is important).
 */
const EXPLANATION =
  /\b(because|since(?!\s+\d)|so that|in order to|otherwise|the reason|for this reason|that is why|that's why|which is why|this is why|this (matters|helps|protects|ensures|prevents|keeps|means|is important)|which (protects|ensures|prevents|keeps|means|matters)|matters? (most|more|because|since)|is (important|valuable|essential|crucial) (because|since|to|for)|important because|protects?|safeguards?|ensures?|prevents?|the (goal|purpose|point) (is|of)|we (want|believe|think|hope)|would (undermine|erode|harm|damage|remove|lose|cost|take)|costs? (little|everything|more|less)|helps? (to )?(keep|ensure|protect|prevent|build|maintain)|to avoid|to protect|to keep|to ensure|to prevent)\b|,\s+so\s+(?!as\b)/i;

/** Sentences of a text (enough for the checks here; not a general sentence splitter). */
export function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n{2,}/)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence !== '');
}

/**
 * Whether a principle says why: a `rationale`, a value it serves that is explained, or prose in its
 * statement that gives a reason, purpose or consequence (as value-augmented specs do in paragraphs
 * after each rule). A bare rule, however many sub-rules it has, does not.
 */
export function isExplained(principle: Principle, spec?: Pick<Spec, 'values'>): boolean {
  if (principle.rationale?.trim()) return true;
  if (spec) {
    const values = new Map(spec.values.map((value) => [value.id, value]));
    if (principle.values.some((id) => values.get(id)?.explanation.trim())) return true;
  }
  return sentences(principle.statement).some((sentence) => EXPLANATION.test(sentence));
}
