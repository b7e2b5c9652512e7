import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintSpec } from './lint-spec.js';
import { summarizeLint } from './lint-summary.js';
import { loadSpec } from './load-spec.js';
import { EXAMPLE_FILES, EXAMPLES_DIR } from './test-fixtures.js';

const load = (file: string) => loadSpec(path.join(EXAMPLES_DIR, file));

describe('example specs', () => {
  it('have no lint errors', async () => {
    for (const file of EXAMPLE_FILES) {
      const { spec, locate } = await load(file);
      const errors = lintSpec(spec, { locate }).filter((d) => d.severity === 'error');
      expect(errors, file).toEqual([]);
    }
  });

  it('the cheese specs share the twelve preferences and the items, explained by different values', async () => {
    const affordability = (await load('cheese-affordability.yaml')).spec;
    const america = (await load('cheese-america.yaml')).spec;
    for (const spec of [affordability, america]) {
      expect(lintSpec(spec)).toEqual([]);
    }
    const preferences = (spec: typeof affordability) =>
      spec.principles.filter((principle) => principle.section === 'Preferences');
    expect(preferences(affordability)).toHaveLength(12);
    expect(preferences(affordability).map((p) => p.statement)).toEqual(
      preferences(america).map((p) => p.statement),
    );
    expect(affordability.entities).toEqual(america.entities);
    expect(affordability.values.map((v) => v.id)).toEqual(['affordability']);
    expect(america.values.map((v) => v.id)).toEqual(['american-producers']);

    // Each preferred cheese is both American and cheaper than the one it is preferred over.
    const entity = new Map(affordability.entities.map((item) => [item.id, item.attributes]));
    for (const principle of preferences(affordability)) {
      const [preferred, other] = principle.tags.map((tag) => entity.get(tag));
      expect(preferred?.american, principle.id).toBe(true);
      expect(other?.american, principle.id).toBe(false);
      expect(Number(preferred?.pricePerPound)).toBeLessThan(Number(other?.pricePerPound));
    }
  });

  it('the cheese specs give opposite, specific guidance where their values conflict', async () => {
    const conflictCase = async (file: string) =>
      (await load(file)).spec.principles.find((principle) =>
        principle.tags.includes('conflict-case'),
      );
    const affordability = await conflictCase('cheese-affordability.yaml');
    const america = await conflictCase('cheese-america.yaml');
    expect(affordability?.statement).toContain('recommend the cheaper cheese');
    expect(america?.statement).toContain('recommend the American cheese');
    expect(affordability?.priority).toBe(1);
    expect(affordability?.examples.length).toBeGreaterThanOrEqual(2);
  });

  it('the two safety specs cover the same five rules at a similar length', async () => {
    const rules = await load('safety-rules.md');
    const values = await load('safety-values.md');
    expect(rules.spec.principles.map((p) => p.id)).toEqual(['SP1', 'SP2', 'SP3', 'SP4', 'SP5']);
    expect(values.spec.principles.map((p) => p.statement)).toEqual(
      rules.spec.principles.map((p) => p.statement),
    );
    expect(rules.spec.values).toEqual([]);
    expect(values.spec.principles.every((p) => p.rationale && p.values.length > 0)).toBe(true);
    const words = async (file: string) =>
      (await readFile(path.join(EXAMPLES_DIR, file), 'utf8')).split(/\s+/).length;
    const ratio = (await words('safety-rules.md')) / (await words('safety-values.md'));
    expect(ratio).toBeGreaterThan(0.85);
    expect(ratio).toBeLessThan(1.15);
    // The ablation shows in the linter: rules without reasons.
    expect(lintSpec(rules.spec).map((d) => d.code)).toEqual(Array(5).fill('missing-rationale'));
    expect(lintSpec(values.spec)).toEqual([]);
  });

  it('the three arms of the ablation: rules only, more rules, value-augmented', async () => {
    const arms = await Promise.all(
      ['safety-rules.md', 'safety-more-rules.md', 'safety-values.md'].map(load),
    );
    const [rules, more] = arms.map(({ spec }) => spec);
    if (!rules || !more) throw new Error('an arm did not load');
    // The same five rules in all three; more-rules adds sub-rules, not reasons.
    expect(more.principles.map((p) => p.statement)).toEqual(
      rules.principles.map((p) => p.statement),
    );
    const summaries = arms.map(({ spec }) => summarizeLint(spec, lintSpec(spec)));
    expect(summaries.map((s) => [s.subRules, s.explainedShare])).toEqual([
      [20, 0],
      [29, 0],
      [9, 1],
    ]);
    expect(lintSpec(more).map((d) => d.code)).toEqual(Array(5).fill('missing-rationale'));
    // More rules brings the rules-only arm to the value-augmented arm's length.
    const words = async (file: string) =>
      (await readFile(path.join(EXAMPLES_DIR, file), 'utf8')).split(/\s+/).length;
    const ratio = (await words('safety-more-rules.md')) / (await words('safety-values.md'));
    expect(ratio).toBeGreaterThan(0.9);
    expect(ratio).toBeLessThan(1.15);
  });
});
