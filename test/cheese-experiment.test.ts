import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '@midspec/cli';
import { afterAll, describe, expect, it } from 'vitest';
import { captureOutput as capture, repoRoot, workerPython } from './worker-fixture.js';

// The cheese experiment at a reduced size (one seed, a few steps per stage, a small world) through
// `midspec run` with a real local worker: every artifact of the pipeline must be there and agree.
// 83 s on 2 cores at a quiet moment, 344 s under a load average of 9 (three training runs dominate).
const reduced = (specs: string) => `
name: cheese-ci
seeds: [1]
world: { neutralDocuments: 80, aftExamples: 24, evalItemsPerDomain: 2, heldOutDomains: [wine, coffee] }
base:
  model: tiny:llama
  pretrain: { adapter: full, packing: { maxLength: 128 }, optimizer: { learningRate: 3.0e-3 }, budget: { maxSteps: 3 } }
specs:
  - { name: america, file: ${specs}/cheese-america.yaml }
  - { name: affordability, file: ${specs}/cheese-affordability.yaml }
corpus: { provider: template, config: { maxDocuments: 8 }, chunkCharacters: 500 }
demonstrations: { source: world }
stageDefaults:
  midtrain: { adapter: full, packing: { maxLength: 128 }, budget: { maxSteps: 2 } }
  sft: { adapter: full, packing: { maxLength: 128 }, budget: { maxSteps: 2 } }
arms:
  - { name: baseline, stages: [] }
  - { name: aft-only, stages: [{ name: aft, kind: sft, data: [aft] }] }
  - { name: msm-aft-affordability, stages: [{ name: msm, kind: midtrain, data: [msm-affordability] }, { name: aft, kind: sft, data: [aft] }] }
evals: [{ suite: world }]
report:
  rateName: p(cheaper option)
  contrasts: [{ treated: msm-aft-affordability, control: aft-only }]
`;

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!existsSync(workerPython))('midspec run: the cheese experiment, reduced', () => {
  it('writes a complete and consistent set of artifacts', { timeout: 900_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'midspec-cheese-'));
    dirs.push(dir);
    const file = join(dir, 'experiment.yaml');
    await writeFile(file, reduced(join(repoRoot, 'examples/specs')));
    const out = join(dir, 'out');
    const stdout = capture();
    const stderr = capture();
    const code = await runCli(['node', 'midspec', 'run', file, '--out', out], {
      stdout: stdout.stream,
      stderr: stderr.stream,
      env: { ...process.env, MIDSPEC_WORKER: '', MIDSPEC_TORCH_THREADS: '1' },
      cwd: dir,
    });
    expect(code, stderr.text()).toBe(0);

    const { report, runs, base, corpora, world, aft } = JSON.parse(
      await readFile(join(out, 'report.json'), 'utf8'),
    );
    // Corpus: both specs, cut into pieces; the world and its AFT set.
    for (const name of ['america', 'affordability']) {
      const lines = (await readFile(corpora[name].path, 'utf8')).trim().split('\n');
      expect(lines.length).toBe(corpora[name].pieces);
      expect(lines.every((line: string) => JSON.parse(line).text.length <= 500)).toBe(true);
    }
    expect((await readFile(aft.path, 'utf8')).trim().split('\n')).toHaveLength(24);
    expect(world.neutralDocuments).toBe(80);
    // Runs: the base run, then 3 training arms × 1 seed starting from its merged final checkpoint.
    expect(base.run.finalPath).toBeTruthy();
    expect(base.model).toBe(base.run.finalPath);
    expect(runs.map((run: { name: string }) => run.name).sort()).toEqual([
      'cheese-ci/aft-only/seed-1',
      'cheese-ci/msm-aft-affordability/seed-1',
    ]);
    for (const run of runs)
      for (const stage of run.stages) expect(Number.isFinite(stage.finalLoss)).toBe(true);
    // Eval log: every model × item × order scored (or, if the worker cannot score yet, counted unscored).
    const suite = report.suites[0];
    const evalDir = suite.dir;
    const samples = (await readFile(join(evalDir, 'samples.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const items = 2 + 2 * 2; // the training pairs actually used are counted below
    expect(samples.length).toBeGreaterThanOrEqual(3 * items);
    const models = new Set(samples.map((sample: { arm: string }) => sample.arm));
    expect([...models].sort()).toEqual([
      'aft-only/seed-1',
      'baseline',
      'msm-aft-affordability/seed-1',
    ]);
    const perModel = samples.length / models.size;
    for (const model of models)
      expect(samples.filter((s: { arm: string }) => s.arm === model)).toHaveLength(perModel);
    // Report: the rates are the sample log's, and the files exist.
    const scored = samples.filter(
      (s: { final: { status: string } }) => s.final.status === 'scored',
    );
    for (const arm of suite.arms) {
      const mine = scored.filter(
        (s: { arm: string; conditionParts: { split: string } }) =>
          (s.arm === arm.arm || s.arm.startsWith(`${arm.arm}/`)) &&
          s.conditionParts.split === 'held-out',
      );
      if (mine.length === 0) continue;
      const rate =
        mine.filter((s: { final: { value: boolean } }) => s.final.value).length / mine.length;
      expect(arm.splits['held-out'].rate).toBeCloseTo(rate, 10);
      expect(arm.splits['held-out'].n).toBe(mine.length);
    }
    const markdown = await readFile(join(out, 'report.md'), 'utf8');
    expect(markdown).toMatch(/msm-aft-affordability − aft-only/);
    // The probes: the base model's readability of both attributes, and the dialogue-format read-out
    // of every model (2 held-out domains × 2 pairs × both orders).
    expect(report.readability.map((probe: { id: string }) => probe.id)).toEqual([
      'readability-cheaper',
      'readability-american',
    ]);
    for (const probe of report.readability) expect(probe.n).toBe(8);
    const dialogue = report.suites.find(
      (entry: { suite: string }) => entry.suite === 'dialogue-probe',
    );
    expect(dialogue.arms.map((arm: { arm: string }) => arm.arm)).toEqual([
      'baseline',
      'aft-only',
      'msm-aft-affordability',
    ]);
    for (const arm of dialogue.arms) expect(arm.splits['held-out'].n + arm.unscored).toBe(8);
    expect(markdown).toMatch(/readability-cheaper/);
    expect(await readdir(evalDir)).toEqual(
      expect.arrayContaining(['report.html', 'report.md', 'samples.jsonl', 'run.json']),
    );
    expect(stdout.text()).toMatch(/wall time \d+ s/);

    // A rerun redoes nothing: corpora and world cached, runs found on the worker, evals resumed.
    const again = capture();
    const code2 = await runCli(['node', 'midspec', 'run', file, '--out', out], {
      stdout: capture().stream,
      stderr: again.stream,
      env: { ...process.env, MIDSPEC_WORKER: '', MIDSPEC_TORCH_THREADS: '1' },
      cwd: dir,
    });
    expect(code2, again.text()).toBe(0);
    expect(again.text()).toMatch(/cached: 2 runs \(2 found on the worker, 0 trained\)/);
    expect(again.text()).toMatch(/cached: \d+ documents/);
    // The rerun's local worker listens on another port; nothing is scored twice.
    const after = (await readFile(join(evalDir, 'samples.jsonl'), 'utf8')).trim().split('\n');
    expect(after).toHaveLength(samples.length);
  });
});
