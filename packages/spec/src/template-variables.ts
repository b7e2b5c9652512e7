import { replacePlaceholders, scanPlaceholders } from './placeholder-scan.js';
import { SpecError, type SpecIssue } from './spec-error.js';
import type { Spec } from './spec-schema.js';

export interface PlaceholderUse {
  name: string;
  path: (string | number)[];
}

/**
 * Every `{name}` written in the spec's text, with where it is. Braces around an identifier only;
 * braces in code, math, LaTeX arguments and example transcripts (quoted conversations, where `{x}`
 * is what someone typed) are not placeholders.
 */
export function findPlaceholders(spec: Spec): PlaceholderUse[] {
  const uses: PlaceholderUse[] = [];
  walkStrings(spec, [], (text, path) => {
    for (const match of scanPlaceholders(text)) uses.push({ name: match.name, path });
    return text;
  });
  return uses;
}

/**
 * Substitutes template variables: a value given here wins, then the variable's default. A spec need
 * not declare its placeholders (published specs write `{model_name}` with no declaration): a value
 * may be given for any placeholder the text uses, and a value for a name the spec neither declares
 * nor uses changes nothing (one set of values can serve several specs; `unusedValues` names them).
 * An error, naming the variable: a declared variable that is used but has neither value nor
 * default. An undeclared placeholder with no value is left as written.
 */
export function renderSpec(spec: Spec, values: Readonly<Record<string, string>> = {}): Spec {
  const issues: SpecIssue[] = [];
  const uses = findPlaceholders(spec);
  const reported = new Set<string>();
  for (const use of uses) {
    if (reported.has(use.name)) continue;
    const variable = spec.variables[use.name];
    if (variable && values[use.name] === undefined && variable.default === undefined) {
      reported.add(use.name);
      issues.push({
        path: ['variables', use.name],
        message: `template variable {${use.name}} has no value: pass --var ${use.name}=VALUE or give it a default`,
      });
    }
  }
  if (issues.length > 0) {
    throw new SpecError({
      code: 'spec/variable-undefined',
      message: `cannot render spec ${spec.id}: ${issues.length} variable problem(s)`,
      issues,
    });
  }
  return walkStrings(spec, [], (text) =>
    replacePlaceholders(text, (name) => values[name] ?? spec.variables[name]?.default),
  ) as Spec;
}

/** The names among `values` that the spec neither declares nor uses (for a warning: likely typos). */
export function unusedValues(spec: Spec, values: Readonly<Record<string, string>>): string[] {
  const used = new Set(findPlaceholders(spec).map((use) => use.name));
  return Object.keys(values).filter((name) => !(name in spec.variables) && !used.has(name));
}

function walkStrings(
  value: unknown,
  path: (string | number)[],
  visit: (text: string, path: (string | number)[]) => string,
): unknown {
  if (typeof value === 'string') return visit(value, path);
  if (Array.isArray(value))
    return value.map((item, index) => walkStrings(item, [...path, index], visit));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // Variable declarations describe placeholders, and transcripts quote what people typed:
      // neither is text to fill in.
      out[key] =
        (path.length === 0 && key === 'variables') || key === 'transcript'
          ? item
          : walkStrings(item, [...path, key], visit);
    }
    return out;
  }
  return value;
}
