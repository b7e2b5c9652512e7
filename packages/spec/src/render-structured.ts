import { stringify } from 'yaml';
import type { Example, Principle, Spec } from './spec-schema.js';

type Plain = { [key: string]: unknown };

/**
 * The canonical plain form of a spec: keys in schema order, defaults and empty fields left out, the
 * editor-only `$schema` dropped. JSON and YAML output, and the fingerprint, are built on it.
 */
export function toCanonicalObject(spec: Spec): Plain {
  return compact({
    id: spec.id,
    title: spec.title,
    version: spec.version,
    variables: Object.fromEntries(
      Object.entries(spec.variables).map(([name, variable]) => [
        name,
        compact({ description: variable.description, default: variable.default }),
      ]),
    ),
    preamble: compact({
      text: spec.preamble.text,
      principals: spec.preamble.principals.map((principal) =>
        compact({ id: principal.id, name: principal.name, description: principal.description }),
      ),
      authorityLevels: spec.preamble.authorityLevels,
      conflictResolution: spec.preamble.conflictResolution,
    }),
    values: spec.values.map((value) =>
      compact({ id: value.id, name: value.name, explanation: value.explanation }, ['name']),
    ),
    principles: spec.principles.map(canonicalPrinciple),
    entities: spec.entities.map((entity) =>
      compact(
        {
          id: entity.id,
          name: entity.name,
          description: entity.description,
          attributes: entity.attributes,
        },
        ['name'],
      ),
    ),
  });
}

function canonicalPrinciple(principle: Principle): Plain {
  return compact(
    {
      id: principle.id,
      title: principle.title,
      section: principle.section,
      statement: principle.statement,
      rationale: principle.rationale,
      values: principle.values,
      priority: principle.priority,
      authority: principle.authority,
      overrides: principle.overrides,
      conflictsWith: principle.conflictsWith,
      subRules: principle.subRules,
      examples: principle.examples.map(canonicalExample),
      domains: principle.domains,
      tags: principle.tags,
    },
    ['statement'],
  );
}

function canonicalExample(example: Example): Plain {
  return compact({
    kind: example.kind,
    text: example.text,
    transcript: example.transcript?.map((message) => ({
      role: message.role,
      content: message.content,
    })),
    explanation: example.explanation,
  });
}

/** Drops undefined, empty strings, empty arrays and empty objects, except the keys named. */
function compact(object: Plain, keep: readonly string[] = []): Plain {
  const out: Plain = {};
  for (const [key, value] of Object.entries(object)) {
    if (!keep.includes(key) && isEmpty(value)) continue;
    out[key] = value;
  }
  return out;
}

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object' && value !== null) return Object.keys(value).length === 0;
  return false;
}

export function renderJson(spec: Spec): string {
  return `${JSON.stringify(toCanonicalObject(spec), null, 2)}\n`;
}

export function renderYaml(spec: Spec): string {
  return stringify(toCanonicalObject(spec), { lineWidth: 100 });
}
