import { SpecError, type SpecIssue } from './spec-error.js';
import type { Spec } from './spec-schema.js';

/** `{model_name}`: braces around an identifier. Other braces (JSON, code) are left alone. */
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export interface PlaceholderUse {
  name: string;
  path: (string | number)[];
}

/** Every `{name}` written anywhere in the spec's text, with where it is. */
export function findPlaceholders(spec: Spec): PlaceholderUse[] {
  const uses: PlaceholderUse[] = [];
  walkStrings(spec, [], (text, path) => {
    for (const match of text.matchAll(PLACEHOLDER)) uses.push({ name: match[1] ?? '', path });
    return text;
  });
  return uses;
}

/**
 * Substitutes template variables: a value given here wins, then the variable's default. A placeholder
 * the spec does not declare, a declared variable with no value and a given value for an undeclared
 * variable are all errors, each naming the variable.
 */
export function renderSpec(spec: Spec, values: Readonly<Record<string, string>> = {}): Spec {
  const issues: SpecIssue[] = [];
  const declared = Object.keys(spec.variables);
  for (const name of Object.keys(values)) {
    if (!(name in spec.variables)) {
      issues.push({
        path: ['variables', name],
        message: `a value was given for {${name}}, which the spec does not declare (declared: ${declared.join(', ') || 'none'})`,
      });
    }
  }
  const reported = new Set<string>();
  for (const use of findPlaceholders(spec)) {
    if (reported.has(use.name)) continue;
    const variable = spec.variables[use.name];
    if (!variable) {
      reported.add(use.name);
      issues.push({ path: use.path, message: `undefined template variable {${use.name}}` });
    } else if (values[use.name] === undefined && variable.default === undefined) {
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
    text.replace(PLACEHOLDER, (whole, name: string) => {
      const variable = spec.variables[name];
      return values[name] ?? variable?.default ?? whole;
    }),
  ) as Spec;
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
      // Variable declarations describe placeholders; they are not text to fill in.
      out[key] =
        path.length === 0 && key === 'variables' ? item : walkStrings(item, [...path, key], visit);
    }
    return out;
  }
  return value;
}
