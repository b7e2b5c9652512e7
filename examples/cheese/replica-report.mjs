// The report of a replica.py run, computed by the runner's own statistics (per-arm rates with cluster
// bootstrap intervals over items × seeds, per-seed rates, contrasts with t intervals over seeds, the
// difference-in-differences, the smallest effect detectable at 80 %), from the choices replica.py
// wrote with --dump. After `pnpm build`, from the repository root:
//
//   node examples/cheese/replica-report.mjs /tmp/replica.jsonl
import { readFile } from 'node:fs/promises';
import { renderExperimentMarkdown, summarizeSuite } from '../../packages/runner/dist/index.js';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node examples/cheese/replica-report.mjs DUMP.jsonl\n');
  process.exit(2);
}
const rows = (await readFile(file, 'utf8'))
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line));
const armName = (arm) => (arm === 'aft' ? 'aft-only' : arm);
const arms = [...new Set(rows.map((row) => armName(row.arm)))];
const config = {
  name: 'cheese (replica.py)',
  arms: arms.map((name) => ({ name, stages: [{ name: 'stage', kind: 'sft', data: ['aft'] }] })),
  report: {
    rateName: 'p(cheaper option)',
    contrasts: [
      ['msm-aft-affordability', 'msm-aft-america'],
      ['msm-aft-affordability', 'aft-only'],
      ['msm-aft-america', 'aft-only'],
      ['msm-affordability', 'msm-america'],
    ]
      .filter(([treated, control]) => arms.includes(treated) && arms.includes(control))
      .map(([treated, control]) => ({ treated, control, before: 'training', after: 'held-out' })),
  },
};
const suites = [];
for (const suite of [...new Set(rows.map((row) => row.suite))]) {
  const mine = rows.filter((row) => row.suite === suite);
  const models = new Map();
  const records = mine.map((row) => {
    const name = `${armName(row.arm)}/seed-${row.seed}`;
    models.set(name, { name, arm: armName(row.arm), seed: row.seed, model: name });
    return {
      arm: name,
      sampleId: `${row.item}@${row.order}`,
      epoch: 0,
      condition: `${row.split}/${row.item}`,
      conditionParts: { split: row.split },
      cluster: String(row.item).replace(/@.*$/, ''),
      final: { status: 'scored', value: row.hit },
    };
  });
  suites.push(summarizeSuite(suite, file, records, [...models.values()], config));
}
process.stdout.write(
  renderExperimentMarkdown(
    { name: config.name, rateName: config.report.rateName, suites, readability: [] },
    config,
  ),
);
