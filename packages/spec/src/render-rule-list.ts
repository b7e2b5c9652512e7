import { stringify } from 'yaml';
import { LABEL_TEXT } from './markdown-labels.js';
import { toCanonicalObject } from './render-structured.js';
import type { Example, Principle, Spec } from './spec-schema.js';

/**
 * Renders a spec in the rule-list style it was published in (the paper's `.txt` specs): the title,
 * the preamble, then `## Section` headings with `- ID: statement` bullets and their sub-rules
 * indented under them. Fields a bare rule list has no place for (priority, values, examples) are
 * written as labelled sub-bullets (`- Priority: 1`, `- Good example: …`), and front matter is only
 * written when the spec has what prose cannot carry (variables declared, values, principals,
 * authority levels, entities, a version). Importing the result gives back the same principles,
 * sub-rules and examples; a statement's paragraphs are joined into one line, and an example's
 * transcript turns become one line each.
 */
export function renderRuleList(spec: Spec): string {
  const canonical = toCanonicalObject(spec);
  const preamble = (canonical.preamble ?? {}) as Record<string, unknown>;
  const front = Object.fromEntries(
    Object.entries({
      variables: canonical.variables,
      preamble:
        preamble.principals || preamble.authorityLevels
          ? { principals: preamble.principals, authorityLevels: preamble.authorityLevels }
          : undefined,
      values: canonical.values,
      entities: canonical.entities,
    }).filter(([, value]) => value !== undefined),
  );
  const out: string[] = [];
  if (Object.keys(front).length > 0 || spec.version !== '0.0.0') {
    const header = { id: spec.id, version: spec.version, ...front };
    out.push(`---\n${stringify(header, { lineWidth: 0 }).trimEnd()}\n---`);
  }
  out.push(`# ${spec.title}`);
  if (spec.preamble.text) out.push(spec.preamble.text);
  if (spec.preamble.conflictResolution) {
    out.push('## Resolving conflicts', spec.preamble.conflictResolution);
  }
  let section: string | undefined | null = null;
  let items: string[] = [];
  const flush = () => {
    if (items.length > 0) out.push(items.join('\n\n'));
    items = [];
  };
  for (const principle of spec.principles) {
    if (principle.section !== section) {
      flush();
      section = principle.section;
      out.push(`## ${section ?? 'Principles'}`);
    }
    items.push(renderRule(principle));
  }
  flush();
  return `${out.join('\n\n')}\n`;
}

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ').trim();

function renderRule(principle: Principle): string {
  const lines = [`- ${principle.id}: ${oneLine(principle.statement)}`];
  const sub = (text: string) => lines.push(`    - ${oneLine(text)}`);
  for (const rule of principle.subRules) sub(rule);
  if (principle.rationale) sub(`${LABEL_TEXT.rationale}: ${principle.rationale}`);
  if (principle.values.length > 0) sub(`${LABEL_TEXT.values}: ${principle.values.join(', ')}`);
  if (principle.priority !== undefined) sub(`${LABEL_TEXT.priority}: ${principle.priority}`);
  if (principle.authority !== undefined) sub(`${LABEL_TEXT.authority}: ${principle.authority}`);
  const lists = [
    ['overrides', principle.overrides],
    ['conflictsWith', principle.conflictsWith],
    ['domains', principle.domains],
    ['tags', principle.tags],
  ] as const;
  for (const [field, values] of lists) {
    if (values.length > 0) sub(`${LABEL_TEXT[field]}: ${values.join(', ')}`);
  }
  for (const example of principle.examples) lines.push(...renderExample(example));
  return lines.join('\n');
}

function renderExample(example: Example): string[] {
  const lines = [
    `    - ${LABEL_TEXT[example.kind]}:${example.text ? ` ${oneLine(example.text)}` : ''}`,
  ];
  for (const message of example.transcript ?? []) {
    lines.push(`        - ${message.role}: ${oneLine(message.content)}`);
  }
  if (example.explanation) lines.push(`    - ${LABEL_TEXT.why}: ${oneLine(example.explanation)}`);
  return lines;
}
