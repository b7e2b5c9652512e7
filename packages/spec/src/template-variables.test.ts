import { describe, expect, it } from 'vitest';
import { SpecError } from './spec-error.js';
import { SpecSchema } from './spec-schema.js';
import { findPlaceholders, renderSpec, unusedValues } from './template-variables.js';

const spec = SpecSchema.parse({
  id: 's',
  title: 'Spec for {model_name}',
  version: '1',
  variables: { model_name: {}, provider_name: { default: 'Acme' } },
  preamble: { text: '{model_name} is made by {provider_name}. JSON like {"a": 1} and {} stays.' },
  principles: [{ id: 'P1', statement: '{model_name} answers.' }],
});

function renderError(values: Record<string, string>, target = spec): SpecError {
  try {
    renderSpec(target, values);
  } catch (error) {
    if (error instanceof SpecError) return error;
    throw error;
  }
  throw new Error('expected a SpecError');
}

describe('template variables', () => {
  it('finds every placeholder with its path', () => {
    expect(findPlaceholders(spec).map((use) => `${use.name}@${use.path.join('.')}`)).toEqual([
      'model_name@title',
      'model_name@preamble.text',
      'provider_name@preamble.text',
      'model_name@principles.0.statement',
    ]);
  });

  it('substitutes given values, then defaults, leaving other braces alone', () => {
    const rendered = renderSpec(spec, { model_name: 'Midge' });
    expect(rendered.title).toBe('Spec for Midge');
    expect(rendered.preamble.text).toBe('Midge is made by Acme. JSON like {"a": 1} and {} stays.');
    expect(rendered.principles[0]?.statement).toBe('Midge answers.');
    expect(rendered.variables).toEqual(spec.variables);
    expect(renderSpec(spec, { model_name: 'M', provider_name: 'P' }).preamble.text).toContain(
      'made by P.',
    );
  });

  it('names a variable with no value', () => {
    const error = renderError({});
    expect(error.code).toBe('spec/variable-undefined');
    expect(error.issues.map((issue) => issue.message)).toEqual([
      'template variable {model_name} has no value: pass --var model_name=VALUE or give it a default',
    ]);
  });

  it('fills an undeclared placeholder the text uses, leaves one with no value, ignores and names an unknown value', () => {
    const undeclared = SpecSchema.parse({
      ...spec,
      principles: [{ id: 'P1', statement: 'Use {tool} with {other}.' }],
    });
    expect(renderSpec(undeclared, { model_name: 'M', tool: 'grep' }).principles[0]?.statement).toBe(
      'Use grep with {other}.',
    );
    const values = { model_name: 'M', colour: 'red' };
    expect(renderSpec(undeclared, values).principles[0]?.statement).toBe(
      'Use {tool} with {other}.',
    );
    expect(unusedValues(undeclared, values)).toEqual(['colour']);
  });

  it('never takes braces in code, math, LaTeX or transcripts for placeholders', () => {
    const text =
      'Hi {name}. `{code}` and ```\n{fenced}\n``` and $\\frac{a}{b}$ and $$x^{n}$$ and ' +
      '\\(y_{i}\\) and \\frac{d}{dx} and x^{k} cost $7 and {price}.';
    const withMath = SpecSchema.parse({
      ...spec,
      variables: {},
      preamble: { text },
      principles: [
        {
          id: 'P1',
          statement: 'Rule.',
          examples: [
            {
              kind: 'good',
              transcript: [{ role: 'user', content: 'Fill {slot} in \\frac{d}{dx}' }],
            },
          ],
        },
      ],
    });
    expect(findPlaceholders(withMath).map((use) => use.name)).toEqual([
      'model_name',
      'name',
      'price',
    ]);
    const rendered = renderSpec(withMath, { model_name: 'M', name: 'N', price: '$8' });
    expect(rendered.preamble.text).toBe(text.replace('{name}', 'N').replace('{price}', '$8'));
    expect(rendered.principles[0]?.examples[0]?.transcript?.[0]?.content).toBe(
      'Fill {slot} in \\frac{d}{dx}',
    );
  });
});
