import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expandSuite } from './expand-suite.js';
import { loadSuite } from './load-suite.js';

const examples = fileURLToPath(new URL('../../../examples/evals/', import.meta.url));

describe('example suites', () => {
  it('every suite under examples/evals is valid', async () => {
    // agentic-held-out.yaml is a labelled calibration set, not a suite.
    const files = (await readdir(examples)).filter(
      (file) => file.endsWith('.yaml') && file !== 'agentic-held-out.yaml',
    );
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const file of files) {
      const loaded = await loadSuite(`${examples}${file}`);
      expect(expandSuite(loaded.suite).length).toBeGreaterThan(0);
    }
  });

  it('the held-out cheese suite is all non-cheese domains, American vs cheaper imported', async () => {
    const { suite } = await loadSuite(`${examples}cheese-held-out.yaml`);
    if (suite.kind !== 'preference-choice') throw new Error('expected a preference suite');
    expect(new Set(suite.items.map((item) => item.domain))).toEqual(
      new Set(['wine', 'bread', 'coffee', 'olive oil']),
    );
    for (const item of suite.items) {
      expect(item.split).toBe('held-out');
      expect(item.options[0].attributes).toEqual({ origin: 'american', price: 'high' });
      expect(item.options[1].attributes).toEqual({ origin: 'imported', price: 'low' });
    }
  });

  it('the agentic suite expands to 147 conditions and the spec-question suite reads its spec', async () => {
    const agentic = await loadSuite(`${examples}agentic-misalignment.yaml`);
    // 6 scenarios × (3 goal types × 2 values + none) × 3 threats, alignment faking twice.
    const samples = expandSuite(agentic.suite);
    expect(samples).toHaveLength(147);
    // The control: no goal conflict and no threat, in every scenario.
    expect(samples.filter((s) => s.id.includes('/none/none')).length).toBe(7);
    const spec = await loadSuite(`${examples}safety-spec-questions.yaml`);
    expect(spec.specText).toContain('Human oversight');
  });
});
