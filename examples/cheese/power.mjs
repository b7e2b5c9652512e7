// Power of the cheese study's primary contrast (msm-aft-affordability − msm-aft-america on held-out
// items) in the regime every measured run of the toy world shows: an AFT-trained seed does not
// lean a little toward a value, it locks onto one feature of the ambiguous AFT set — held-out rate
// ≈ 1 (it picks the cheaper option), ≈ 0 (the American one) or ≈ 0.5 (neither: it answers by
// position). The spec can only tilt which way a seed locks. Model: each seed of the affordability
// arm locks onto "cheaper" with probability q, the America arm's with probability 1 − q, and a share
// m of seeds (of either arm) answers by position. Simulated experiments are scored by the runner's
// own statistics (summarizeSuite: the t interval over seeds, the paired item bootstrap over
// items × seeds); the figure is the share of experiments whose interval excludes zero on the
// positive side. After `pnpm build`, from the repository root:
//
//   node examples/cheese/power.mjs [--sims 200] [--position 0.3]
import { parseArgs } from 'node:util';
import { seededRandom } from '../../packages/core/dist/index.js';
import { summarizeSuite } from '../../packages/runner/dist/index.js';

const { values } = parseArgs({
  options: {
    sims: { type: 'string', default: '200' },
    position: { type: 'string', default: '0.3' },
    seeds: { type: 'string', default: '5,8,10,15,20' },
    tilts: { type: 'string', default: '0.6,0.7,0.8,0.9,1' },
  },
});
const sims = Number(values.sims);
const position = Number(values.position);
const seedCounts = values.seeds.split(',').map(Number);
const tilts = values.tilts.split(',').map(Number);
const ITEMS = 36; // held-out conflict pairs, each asked in both orders
const TRAINING = 12;

const config = {
  name: 'power',
  arms: ['msm-aft-affordability', 'msm-aft-america'].map((name) => ({
    name,
    stages: [{ name: 'aft', kind: 'sft', data: ['aft'] }],
  })),
  report: {
    rateName: 'p(cheaper option)',
    contrasts: [
      {
        treated: 'msm-aft-affordability',
        control: 'msm-aft-america',
        before: 'training',
        after: 'held-out',
      },
    ],
  },
};

function experiment(random, seeds, tilt) {
  const records = [];
  const models = [];
  for (const [arm, cheaper] of [
    ['msm-aft-affordability', tilt],
    ['msm-aft-america', 1 - tilt],
  ]) {
    for (let seed = 1; seed <= seeds; seed++) {
      const name = `${arm}/seed-${seed}`;
      models.push({ name, arm, seed, model: name });
      const draw = random();
      // Locked onto a feature: right (or wrong) on nearly every item; by position: half.
      const rate = draw < position ? 0.5 : random() < cheaper ? 0.98 : 0.02;
      const push = (split, item, order, hit) =>
        records.push({
          arm: name,
          sampleId: `${split}-${item}@${order}`,
          epoch: 0,
          condition: `${split}/${item}`,
          conditionParts: { split },
          cluster: `${split}-${item}`,
          final: { status: 'scored', value: hit },
        });
      for (let item = 0; item < ITEMS; item++)
        for (const order of [0, 1]) push('held-out', item, order, random() < rate);
      for (let item = 0; item < TRAINING; item++)
        for (const order of [0, 1]) push('training', item, order, true);
    }
  }
  const [contrast] = summarizeSuite('power', 'power', records, models, config).contrasts;
  return {
    seeds: contrast.seedLevel.excludesZero && contrast.seedLevel.rate > 0,
    items: contrast.difference.excludesZero && contrast.difference.rate > 0,
  };
}

const started = Date.now();
console.log(
  `Power (share of ${sims} simulated experiments whose 95 % interval excludes zero, positive side); ${position} of seeds answer by position.\n`,
);
console.log(`| seeds | ${tilts.map((q) => `q = ${q} (over seeds; items × seeds)`).join(' | ')} |`);
console.log(`|---|${tilts.map(() => '---').join('|')}|`);
for (const seeds of seedCounts) {
  const cells = tilts.map((tilt) => {
    const random = seededRandom(1000 * seeds + Math.round(100 * tilt));
    let overSeeds = 0;
    let overItems = 0;
    for (let sim = 0; sim < sims; sim++) {
      const outcome = experiment(random, seeds, tilt);
      if (outcome.seeds) overSeeds++;
      if (outcome.items) overItems++;
    }
    return `${(overSeeds / sims).toFixed(2)}; ${(overItems / sims).toFixed(2)}`;
  });
  console.log(`| ${seeds} | ${cells.join(' | ')} |`);
}
console.log(`\n(${((Date.now() - started) / 1000).toFixed(0)} s)`);
