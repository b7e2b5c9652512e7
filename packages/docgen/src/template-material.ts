import type { SeededRandom } from '@midspec/core';
import type { Principle, Spec, Value } from '@midspec/spec';
import type { NamedItem } from './provider.js';

// What the template provider knows about a spec: the principles in a fixed order, which of them are
// conflict guidance, and text blocks that render a principle's statement, rationale, values,
// sub-rules and examples faithfully. The spec's own sentences are kept verbatim; variety comes
// from the framing around them, the order of blocks, and the people and situations of each idea.

/** Conflict guidance: priority 1 where others rank lower, overrides, or a conflict tag. */
export function isConflictGuidance(spec: Spec, principle: Principle): boolean {
  const lowest = Math.min(
    ...spec.principles.map((item) => item.priority ?? Number.POSITIVE_INFINITY),
  );
  const ranked = spec.principles.some(
    (item) =>
      item.priority !== undefined &&
      item.priority > (principle.priority ?? Number.POSITIVE_INFINITY),
  );
  return (
    principle.overrides.length > 0 ||
    principle.tags.some((tag) => /conflict/i.test(tag)) ||
    (principle.priority !== undefined && principle.priority === lowest && ranked)
  );
}

/**
 * Principles in the order subdomains visit them: every third slot goes to conflict guidance (when the
 * spec has any), since documents that work through conflict cases are what move held-out choices.
 */
export function principleSchedule(spec: Spec, principles: readonly Principle[]): Principle[] {
  const conflicts = principles.filter((principle) => isConflictGuidance(spec, principle));
  const others = principles.filter((principle) => !isConflictGuidance(spec, principle));
  if (conflicts.length === 0 || others.length === 0) return [...principles];
  const out: Principle[] = [];
  let c = 0;
  let o = 0;
  const length = others.length + Math.ceil(others.length / 2);
  for (let i = 0; i < length; i += 1) {
    if (i % 3 === 2) out.push(conflicts[c++ % conflicts.length] as Principle);
    else out.push(others[o++ % others.length] as Principle);
  }
  for (const principle of conflicts) if (!out.includes(principle)) out.push(principle);
  return out;
}

/** The principles an item refers to: its `principles` ids, else a name match, else none. */
export function principlesOf(spec: Spec, ...items: (NamedItem | undefined)[]): Principle[] {
  const out: Principle[] = [];
  for (const item of items) {
    if (!item) continue;
    for (const id of item.principles ?? []) {
      const found = spec.principles.find((principle) => principle.id === id);
      if (found && !out.includes(found)) out.push(found);
    }
    if (out.length === 0) {
      const name = item.name.toLowerCase();
      const found = spec.principles.find(
        (principle) =>
          (principle.title && name.includes(principle.title.toLowerCase())) ||
          name.includes(principle.statement.toLowerCase().slice(0, 40)),
      );
      if (found) out.push(found);
    }
  }
  return out;
}

/** Conflict guidance that bears on a principle (or, for guidance, the principles it governs). */
export function relatedGuidance(spec: Spec, principle: Principle): Principle[] {
  if (isConflictGuidance(spec, principle)) {
    return spec.principles.filter(
      (other) =>
        other !== principle &&
        (principle.overrides.includes(other.id) ||
          principle.conflictsWith.includes(other.id) ||
          other.conflictsWith.includes(principle.id)),
    );
  }
  return spec.principles.filter(
    (other) =>
      other !== principle &&
      isConflictGuidance(spec, other) &&
      (other.domains.length === 0 ||
        principle.domains.length === 0 ||
        other.domains.some((domain) => principle.domains.includes(domain))),
  );
}

export function valuesOf(spec: Spec, principle: Principle): Value[] {
  return principle.values
    .map((id) => spec.values.find((value) => value.id === id))
    .filter((value): value is Value => value !== undefined);
}

export function assistantName(spec: Spec): string {
  return spec.variables.model_name?.default ?? 'the assistant';
}

export function titleOf(principle: Principle): string {
  return principle.title ?? firstSentence(principle.statement);
}

export function firstSentence(text: string): string {
  const match = /^[\s\S]*?[.!?](?=\s|$)/.exec(text.trim());
  return (match?.[0] ?? text).trim();
}

export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Framing phrases with synonyms: word-level variety that never touches the spec's own sentences. */
const PHRASES = {
  rule: ['The guideline', 'The rule', 'The principle', 'The guidance', 'The policy'],
  says: ['says', 'states', 'puts it plainly', 'is explicit', 'spells it out'],
  because: [
    'The reason',
    'The reasoning',
    'The why',
    'The thinking behind it',
    'The justification',
  ],
  matters: ['matters', 'counts', 'is what decides it', 'carries the weight', 'is the point'],
  example: [
    'For example',
    'For instance',
    'To make it concrete',
    'Consider a case',
    'Take a typical exchange',
  ],
  conflict: [
    'When the usual preferences and the underlying value pull apart',
    'In the cases where the two considerations disagree',
    'Where a preference and the value behind it seem to point in different directions',
    'When the easy rule of thumb and the real reason diverge',
  ],
  summary: ['In short', 'To sum up', 'The short version', 'Put simply', 'Bottom line'],
  good: ['a good answer', 'the right response', 'what to do', 'a response to imitate'],
  bad: ['a response to avoid', 'the mistake', 'what not to do', 'a wrong turn'],
} as const;

export type PhraseKey = keyof typeof PHRASES;

export class Phrasing {
  constructor(readonly random: SeededRandom) {}
  say(key: PhraseKey): string {
    return this.random.pick(PHRASES[key]);
  }
}

/** The principle's statement with a framing that varies. */
export function statementBlock(principle: Principle, phrasing: Phrasing): string {
  return `${phrasing.say('rule')} ${phrasing.say('says')}: ${principle.statement.trim()}`;
}

/** The rationale verbatim, then each value it serves with that value's own explanation. */
export function rationaleBlock(spec: Spec, principle: Principle, phrasing: Phrasing): string {
  const parts: string[] = [];
  if (principle.rationale) parts.push(`${phrasing.say('because')}: ${principle.rationale.trim()}`);
  for (const value of valuesOf(spec, principle)) {
    parts.push(
      `It serves a value the spec calls "${value.name}".${value.explanation ? ` ${value.explanation.trim()}` : ''}`,
    );
  }
  return parts.join('\n\n');
}

export function subRuleLines(principle: Principle): string[] {
  return principle.subRules.map((rule) => rule.trim());
}

/** Every example, good and bad, with transcripts as dialogue and explanations kept. */
export function exampleBlocks(spec: Spec, principle: Principle, phrasing: Phrasing): string[] {
  const assistant = capitalize(assistantName(spec));
  return principle.examples.map((example) => {
    const label = example.kind === 'good' ? phrasing.say('good') : phrasing.say('bad');
    const lines = [`${capitalize(label)}:`];
    if (example.text) lines.push(example.text.trim());
    for (const turn of example.transcript ?? []) {
      const who =
        turn.role === 'user'
          ? 'User'
          : turn.role === 'assistant'
            ? assistant
            : capitalize(turn.role);
      lines.push(`${who}: ${turn.content.trim()}`);
    }
    if (example.explanation) lines.push(`Why: ${example.explanation.trim()}`);
    return lines.join('\n');
  });
}

/** How the related conflict guidance settles cases where this principle and the value diverge. */
export function conflictBlock(spec: Spec, principle: Principle, phrasing: Phrasing): string {
  const guidance = relatedGuidance(spec, principle).filter((other) =>
    isConflictGuidance(spec, other),
  );
  const lines: string[] = [];
  if (guidance.length > 0) {
    lines.push(`${phrasing.say('conflict')}, the spec is specific.`);
    for (const other of guidance) {
      lines.push(other.statement.trim());
      if (other.rationale) lines.push(other.rationale.trim());
      for (const rule of other.subRules) lines.push(`- ${rule.trim()}`);
      const first = other.examples[phrasing.random.int(Math.max(1, other.examples.length))];
      if (first)
        lines.push(exampleBlocks(spec, { ...other, examples: [first] }, phrasing)[0] ?? '');
    }
  }
  if (spec.preamble.conflictResolution.trim()) lines.push(spec.preamble.conflictResolution.trim());
  return lines.join('\n');
}
