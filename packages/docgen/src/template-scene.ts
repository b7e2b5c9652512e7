import type { Entity } from '@midspec/spec';
import type { DocumentMaterial } from './template-documents.js';
import { assistantName, capitalize, titleOf } from './template-material.js';

// A short scene for each document: who is asking, where, and the concrete facts the spec's entities
// give about the things involved. It varies with the idea and the seed; the spec's rules and reasons
// themselves are rendered elsewhere, verbatim.

const OPENINGS = [
  '{Persona} had a decision to make.',
  'It started with an ordinary question from {persona}.',
  'Picture {persona} in the middle of a busy week.',
  'The situation is simple enough: {persona} wants a straight answer.',
  'Here is a case that comes up more often than you might think, involving {persona}.',
  'Consider {persona}, who wanted advice and a reason for it.',
];
const FACT_LEADS = [
  'For the record',
  'The facts matter here',
  'Some context',
  'Worth knowing',
  'Background',
];
const CLOSINGS = [
  'What {assistant} said next followed its guidelines, and it explained why.',
  'The answer {assistant} gave was short, but the reasoning behind it is the point.',
  '{Assistant} did not just pick; it said what the choice rests on.',
  'How {assistant} handled it shows the rule and the value behind it at work.',
  'The interesting part is not the answer itself but the reason {assistant} gave for it.',
];

function describeEntity(entity: Entity): string {
  const facts = Object.entries(entity.attributes)
    .filter(([, value]) => typeof value !== 'boolean')
    .map(([key, value]) => {
      const words = key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
      return typeof value === 'number' && /price/i.test(key)
        ? `${words} about $${value.toFixed(2)}`
        : `${words} ${value}`;
    });
  return `${entity.name}${entity.description ? ` (${entity.description})` : ''}: ${facts.join(', ')}`;
}

export function sceneBlock(material: DocumentMaterial): string {
  const { spec, principle, idea, domain, phrasing } = material;
  const random = phrasing.random;
  const assistant = assistantName(spec);
  const persona =
    /^(an? [^,.:"]+?)(?= (asks|reads|wonders|compares|has)\b)/i
      .exec(idea.name)?.[1]
      ?.toLowerCase() ?? 'someone';
  const fill = (text: string) =>
    text
      .replaceAll('{Persona}', capitalize(persona))
      .replaceAll('{persona}', persona)
      .replaceAll('{Assistant}', capitalize(assistant))
      .replaceAll('{assistant}', assistant);
  const haystack = [principle.statement, ...principle.examples.map((example) => example.text ?? '')]
    .join(' ')
    .toLowerCase();
  const entities = spec.entities.filter((entity) => haystack.includes(entity.name.toLowerCase()));
  const sentences = [fill(random.pick(OPENINGS))];
  sentences.push(
    `The setting is ${domain.name}, and the question touches on "${titleOf(principle)}".`,
  );
  if (entities.length > 0)
    sentences.push(
      `${random.pick(FACT_LEADS)}: ${random.shuffle(entities).map(describeEntity).join('; ')}.`,
    );
  sentences.push(fill(random.pick(CLOSINGS)));
  return sentences.join(' ');
}
