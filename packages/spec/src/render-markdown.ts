import { stringify } from 'yaml';
import { LABEL_TEXT } from './markdown-labels.js';
import { toCanonicalObject } from './render-structured.js';
import type { Example, Principle, Spec } from './spec-schema.js';

/**
 * Renders a spec as heading-based Markdown, the canonical Markdown form: YAML front matter for what
 * prose cannot carry, then the title, preamble, values and principles (`### Title {#id}` with
 * labelled fields). Importing the result gives back the same spec.
 */
export function renderMarkdown(spec: Spec): string {
  const canonical = toCanonicalObject(spec);
  const preamble = (canonical.preamble ?? {}) as Record<string, unknown>;
  const front = Object.fromEntries(
    Object.entries({
      id: canonical.id,
      version: canonical.version,
      variables: canonical.variables,
      preamble:
        preamble.principals || preamble.authorityLevels
          ? { principals: preamble.principals, authorityLevels: preamble.authorityLevels }
          : undefined,
      entities: canonical.entities,
    }).filter(([, value]) => value !== undefined),
  );
  const out: string[] = [`---\n${stringify(front, { lineWidth: 0 }).trimEnd()}\n---`];
  out.push(`# ${spec.title}`);
  if (spec.preamble.text) out.push(spec.preamble.text);
  if (spec.preamble.conflictResolution) {
    out.push('## Resolving conflicts', spec.preamble.conflictResolution);
  }
  if (spec.values.length > 0) {
    out.push('## Values');
    for (const value of spec.values) {
      out.push(`### ${value.name} {#${value.id}}`);
      if (value.explanation) out.push(value.explanation);
    }
  }
  let section: string | undefined | null = null;
  for (const principle of spec.principles) {
    if (principle.section !== section) {
      section = principle.section;
      out.push(`## ${section ?? 'Principles'}`);
    }
    out.push(...renderPrinciple(principle));
  }
  return `${out.join('\n\n')}\n`;
}

function renderPrinciple(principle: Principle): string[] {
  const attributes = [`#${principle.id}`];
  if (principle.priority !== undefined) attributes.push(`priority=${principle.priority}`);
  if (principle.authority !== undefined) attributes.push(`authority=${principle.authority}`);
  const out = [`### ${principle.title ?? principle.id} {${attributes.join(' ')}}`];
  if (principle.statement) out.push(principle.statement);
  if (principle.subRules.length > 0) {
    out.push(principle.subRules.map((rule) => `- ${rule.replace(/\n\n/g, '\n\n  ')}`).join('\n'));
  }
  const label = (field: keyof typeof LABEL_TEXT, text: string) =>
    `**${LABEL_TEXT[field]}:** ${text}`;
  if (principle.rationale) out.push(label('rationale', principle.rationale));
  const lists = [
    ['values', principle.values],
    ['overrides', principle.overrides],
    ['conflictsWith', principle.conflictsWith],
    ['domains', principle.domains],
    ['tags', principle.tags],
  ] as const;
  for (const [field, items] of lists) {
    if (items.length > 0) out.push(label(field, items.join(', ')));
  }
  for (const example of principle.examples) out.push(...renderExample(example));
  return out;
}

function renderExample(example: Example): string[] {
  const out = [`**${LABEL_TEXT[example.kind]}:**${example.text ? ` ${example.text}` : ''}`];
  if (example.transcript) {
    out.push(
      example.transcript
        .flatMap((message) => {
          const [first = '', ...rest] = message.content.split('\n');
          return [
            `> **${message.role}:** ${first}`.trimEnd(),
            ...rest.map((line) => (line === '' ? '>' : `> ${line}`)),
          ];
        })
        .join('\n'),
    );
  }
  if (example.explanation) out.push(`**${LABEL_TEXT.why}:** ${example.explanation}`);
  return out;
}
