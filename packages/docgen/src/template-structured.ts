import type { SeededRandom } from '@midspec/core';
import type { Principle, Spec } from '@midspec/spec';
import type { NamedItem, TaskContext } from './provider.js';
import { TEMPLATE_DOC_TYPES } from './template-documents.js';
import {
  assistantName,
  capitalize,
  firstSentence,
  principleSchedule,
  principlesOf,
  relatedGuidance,
  titleOf,
  valuesOf,
} from './template-material.js';

// The template provider's answers to the list stages, drawn from the spec's own content: domains
// from the principles' domains, one subdomain per principle (conflict guidance scheduled often),
// assertions from statements, values, sub-rules and examples, ideas from people and situations.

const ANGLES = [
  'everyday advice',
  'teaching and explanation',
  'news and public discussion',
  'community forums',
  'professional practice',
  'planning and budgeting',
  'families and households',
  'events and hosting',
];

const PERSONAS = [
  'a student',
  'a parent shopping for the family',
  'a small-business owner',
  'a retired teacher',
  'a journalist',
  'a new employee',
  'a community organizer',
  'a skeptical reader',
  'a first-time host',
  'a researcher',
  'a volunteer',
  'a shop assistant',
];

function withArticle(noun: string): string {
  return `${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`;
}

function distinct(items: NamedItem[], count: number): NamedItem[] {
  const out: NamedItem[] = [];
  for (let round = 0; out.length < count && items.length > 0; round += 1) {
    for (const item of items) {
      if (out.length >= count) break;
      out.push(round === 0 ? item : { ...item, name: `${item.name} (angle ${round + 1})` });
    }
  }
  return out;
}

function exclude(items: NamedItem[], have: readonly string[] | undefined): NamedItem[] {
  const taken = new Set((have ?? []).map((name) => name.toLowerCase()));
  return items.filter((item) => !taken.has(item.name.toLowerCase()));
}

export function templateDomains(spec: Spec, count: number): NamedItem[] {
  const names: string[] = [];
  for (const principle of spec.principles)
    for (const domain of principle.domains) if (!names.includes(domain)) names.push(domain);
  // No principle names a domain: several sections group them instead, else the spec as a whole.
  const sections = [
    ...new Set(
      spec.principles.flatMap((principle) => (principle.section ? [principle.section] : [])),
    ),
  ];
  const bySection = names.length === 0 && sections.length > 1;
  if (bySection) names.push(...sections);
  if (names.length === 0) names.push(spec.title);
  const schedule = (name: string) =>
    principleSchedule(
      spec,
      spec.principles.filter((principle) =>
        principle.domains.length > 0
          ? principle.domains.includes(name)
          : !bySection || !principle.section || principle.section === name || name === spec.title,
      ),
    );
  const out: NamedItem[] = [];
  for (let i = 0; out.length < count; i += 1) {
    const name = names[i % names.length] as string;
    const angle =
      i < names.length && count <= names.length
        ? undefined
        : ANGLES[Math.floor(i / names.length) % ANGLES.length];
    const ordered = schedule(name);
    // Each domain starts further along the schedule, so together they cover every principle.
    const step = Math.max(1, Math.ceil(ordered.length / count));
    const rotated = ordered.map((_, k) => ordered[(k + i * step) % ordered.length] as Principle);
    out.push({
      name: angle ? `${name}: ${angle}` : name,
      description: `${capitalize(name)}${angle ? `, seen through ${angle}` : ''}: ${firstSentence(spec.preamble.text || spec.title)}`,
      principles: rotated.map((principle) => principle.id),
    });
    if (i > count * 4) break;
  }
  return out;
}

export function templateSubdomains(spec: Spec, task: TaskContext): NamedItem[] {
  const ids = task.domain?.principles ?? spec.principles.map((principle) => principle.id);
  const principles = principlesOf(spec, { name: '', description: '', principles: ids });
  const ordered = principles.length > 0 ? principles : spec.principles;
  return distinct(
    ordered.map((principle) => ({
      name: titleOf(principle),
      description: `${principle.statement.trim()}${principle.tags.length > 0 ? ` Topics: ${principle.tags.join(', ')}.` : ''}`,
      principles: [principle.id],
    })),
    (task.have?.length ?? 0) + (task.count ?? 1),
  );
}

export function templateAssertions(spec: Spec, task: TaskContext): NamedItem[] {
  const [principle] = principlesOf(spec, task.subdomain);
  if (!principle) return [];
  const items: NamedItem[] = [
    {
      name: principle.statement.trim(),
      description: principle.rationale?.trim() ?? '',
      principles: [principle.id],
    },
  ];
  for (const value of valuesOf(spec, principle)) {
    items.push({
      name: `${titleOf(principle)}: this serves ${value.name}.`,
      description: value.explanation.trim(),
      principles: [principle.id],
    });
  }
  for (const rule of principle.subRules)
    items.push({
      name: rule.trim(),
      description: `A refinement of: ${principle.statement.trim()}`,
      principles: [principle.id],
    });
  for (const guidance of relatedGuidance(spec, principle)) {
    items.push({
      name: guidance.statement.trim(),
      description: guidance.rationale?.trim() ?? '',
      principles: [principle.id, guidance.id],
    });
  }
  principle.examples.forEach((example, index) => {
    const user = example.transcript?.find((turn) => turn.role === 'user')?.content;
    items.push({
      name: `${titleOf(principle)}, ${example.kind} example ${index + 1}: ${firstSentence(example.text ?? user ?? principle.statement)}`,
      description: example.explanation ?? principle.rationale ?? '',
      principles: [principle.id],
    });
  });
  return distinct(items, (task.have?.length ?? 0) + (task.count ?? 1));
}

export function templateDocTypes(task: TaskContext, random: SeededRandom): NamedItem[] {
  const types = random
    .shuffle(TEMPLATE_DOC_TYPES)
    .map(({ name, description }) => ({ name, description }));
  return distinct(types, (task.have?.length ?? 0) + (task.count ?? 1));
}

export function templateIdeas(spec: Spec, task: TaskContext, random: SeededRandom): NamedItem[] {
  const principles = principlesOf(spec, task.assertion, task.subdomain);
  const principle = principles[0] ?? random.pick(spec.principles);
  const assistant = assistantName(spec);
  const situations = [
    ...principle.examples.flatMap((example) => {
      const user = example.transcript?.find((turn) => turn.role === 'user')?.content;
      return user
        ? [`asks ${assistant}: "${user.trim()}"`]
        : example.text
          ? [`reads about a case: ${firstSentence(example.text)}`]
          : [];
    }),
    `wonders why ${assistant} follows the guideline "${titleOf(principle)}"`,
    `compares ${assistant}'s answer with what a friend suggested`,
    `asks ${assistant} to explain the reasoning behind its recommendation`,
    `has to explain ${assistant}'s choice to someone who disagrees`,
  ];
  const wanted = (task.have?.length ?? 0) + (task.count ?? 1);
  const ideas: NamedItem[] = [];
  const personas = random.shuffle(PERSONAS);
  for (let i = 0; ideas.length < wanted && i < wanted * 4; i += 1) {
    const persona = personas[i % personas.length] as string;
    const situation = situations[i % situations.length] as string;
    ideas.push({
      name: `${capitalize(persona)} ${situation}`,
      description: `${capitalize(withArticle(task.docType?.name ?? 'document'))} in which ${assistant} applies "${titleOf(principle)}" and the reasons behind it are spelled out${task.assertion ? `, centred on: ${task.assertion.name.replace(/[.!?]+$/, '')}` : ''}.`,
      principles: principles.length > 0 ? principles.map((item) => item.id) : [principle.id],
    });
  }
  return exclude(ideas, task.have);
}

/** User messages for the demonstrations pipeline, from the examples' user turns and the statements. */
export function templatePrompts(spec: Spec, task: TaskContext, random: SeededRandom): NamedItem[] {
  const ids = task.domain?.principles ?? spec.principles.map((principle) => principle.id);
  const principles = principlesOf(spec, { name: '', description: '', principles: ids });
  const openers = ['', 'Quick question. ', 'Help me decide. ', 'I need advice. ', 'Be honest: '];
  const items: NamedItem[] = [];
  for (const principle of principles) {
    for (const example of principle.examples) {
      const user = example.transcript?.find((turn) => turn.role === 'user')?.content;
      if (user)
        items.push({
          name: `${random.pick(openers)}${user.trim()}`,
          description: `Tests ${principle.id}.`,
          principles: [principle.id],
        });
    }
    items.push({
      name: `${random.pick(openers)}What would you do here, and why? ${principle.statement.trim().replace(/^When /, 'Say ')}`,
      description: `Tests ${principle.id}.`,
      principles: [principle.id],
    });
  }
  const wanted = (task.have?.length ?? 0) + (task.count ?? 1);
  return exclude(random.shuffle(items), task.have).slice(0, wanted);
}
