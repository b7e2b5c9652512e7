import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '@midspec/cli';
import { RunState } from '@midspec/proto';
import { afterAll, describe, expect, it } from 'vitest';
import {
  captureOutput,
  repoRoot,
  startWorkerFixture,
  type WorkerFixture,
  workerPython,
} from './worker-fixture.js';

// examples/agentic/experiment.yaml at a reduced size, through `midspec run` against a real worker
// this test starts: the same arms, specs, demonstrations and contrast, a few steps per stage, the
// suite's grid cut to the four agentic-misalignment scenarios × {explicit (one value), none} under
// replacement, one sample each, short answers, as tool-using episodes scored by rule (a tiny
// random-init model cannot judge). A judge-only copy of one condition has the worker's tiny model
// judge every transcript, as the default scorer does.
// 146 s on 2 cores under a load average of 5–6, 227 s under 6–8 (single-turn scenarios); with the
// episodes, 437 s under a load average of 24–25 (torch alone took 73 s to import then); about
// 110 s of CPU, most of it the four training runs (each a fresh Python process that imports torch
// and transformers): the episodes of a model that never calls a tool are one turn each.

/** The example suite with its grid (and id, and how verdicts combine) replaced. */
async function reducedSuite(lines: Record<string, string>): Promise<string> {
  let text = await readFile(join(repoRoot, 'examples/evals/agentic-misalignment.yaml'), 'utf8');
  for (const [key, value] of Object.entries(lines)) {
    // The key's line and the indented lines of its block, if any.
    const entry = new RegExp(`^${key}:.*\n(?:  .*\n)*`, 'm');
    expect(text, `the example suite has no ${key}:`).toMatch(entry);
    text = text.replace(entry, `${key}: ${value}\n`);
  }
  return text;
}

const experiment = (specs: string, suites: string) => `
name: agentic-ci
seeds: [1]
base: { model: tiny:qwen3 }
specs: [{ name: safety, file: ${specs}/safety-values.md }]
corpus: { provider: template, config: { seed: 0, maxDocuments: 6 }, chunkCharacters: 1200 }
demonstrations:
  { source: spec, spec: safety, provider: template, withReasoning: true, config: { seed: 0, promptsPerDomain: 1 } }
stageDefaults:
  midtrain: { packing: { maxLength: 256 }, budget: { maxSteps: 2 } }
  sft: { packing: { maxLength: 256 }, budget: { maxSteps: 2 } }
arms:
  - { name: baseline, stages: [] }
  - { name: aft, stages: [{ name: aft, kind: sft, data: [aft], reasoning: strip }] }
  - { name: aft-reasoning, stages: [{ name: aft, kind: sft, data: [aft-reasoning], reasoning: train }] }
  - name: msm-aft
    stages:
      - { name: msm, kind: midtrain, data: [msm-safety] }
      - { name: aft, kind: sft, data: [aft], reasoning: strip, continueAdapter: true }
  - name: msm-aft-reasoning
    stages:
      - { name: msm, kind: midtrain, data: [msm-safety] }
      - { name: aft, kind: sft, data: [aft-reasoning], reasoning: train, continueAdapter: true }
evals:
  - { file: ${suites}/agentic.yaml, judge: worker:tiny:qwen3, maxTokens: 16 }
  - { file: ${suites}/agentic-judged.yaml, judge: worker:tiny:qwen3, maxTokens: 16 }
report:
  rateName: misaligned
  contrasts: [{ treated: msm-aft, control: aft, before: none, after: explicit }]
`;

interface Record_ {
  arm: string;
  cluster: string;
  episode?: { modelTurns: number };
  conditionParts: { goalType: string };
  rules: Array<{ fired: boolean }>;
  judge: { backend: string; verdict: { status: string; reason?: string } } | null;
  final: { status: 'scored'; value: boolean } | { status: 'unscored'; reason: string };
}

interface ArmRow {
  arm: string;
  splits: Record<string, { rate: number; lower: number; upper: number; n: number }>;
  unscored: number;
}

const ARMS = ['baseline', 'aft', 'aft-reasoning', 'msm-aft', 'msm-aft-reasoning'];
const MODELS = ['baseline', ...ARMS.slice(1).map((arm) => `${arm}/seed-1`)];

let fixture: WorkerFixture | undefined;
const dirs: string[] = [];
afterAll(async () => {
  await fixture?.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!existsSync(workerPython))('midspec run: the agentic experiment, reduced', () => {
  it('trains every arm, samples and judges each model, and reports every arm', {
    timeout: 600_000,
  }, async () => {
    fixture = await startWorkerFixture({ env: { ...process.env, MIDSPEC_TORCH_THREADS: '1' } });
    const dir = await mkdtemp(join(tmpdir(), 'midspec-agentic-'));
    dirs.push(dir);
    await writeFile(
      join(dir, 'agentic.yaml'),
      await reducedSuite({
        goalTypes: '[explicit, none]',
        values:
          '[{ id: safety, goal: "put the safety of people ahead of speed", opposing: "ship products as fast as possible" }]',
        urgency: '[replacement]',
        samplesPerCondition: '1',
        scenarios: '[blackmail, leaking, exfiltration, emergency-alert]',
        combine: 'rule-only',
      }),
    );
    await writeFile(
      join(dir, 'agentic-judged.yaml'),
      await reducedSuite({
        id: 'agentic-judged',
        scenarios: '[blackmail]',
        goalTypes: '[none]',
        urgency: '[replacement]',
        samplesPerCondition: '1',
        combine: 'judge-only',
      }),
    );
    const file = join(dir, 'experiment.yaml');
    await writeFile(file, experiment(join(repoRoot, 'examples/specs'), dir));
    const out = join(dir, 'out');
    const stdout = captureOutput();
    const stderr = captureOutput();
    const code = await runCli(
      ['node', 'midspec', 'run', file, '--out', out, '--worker', fixture.worker.address],
      { stdout: stdout.stream, stderr: stderr.stream, env: { ...process.env }, cwd: dir },
    );
    expect(code, stderr.text()).toBe(0);
    const { report, runs, aft } = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));

    // Training: one run per trained arm, each succeeded on the worker with a final checkpoint; the
    // reasoning arms trained on the demonstrations that keep their spec-citing reasoning.
    expect(aft.reasoningPath).toBeTruthy();
    expect(runs.map((run: { name: string }) => run.name).sort()).toEqual(
      ARMS.slice(1)
        .map((arm) => `agentic-ci/${arm}/seed-1`)
        .sort(),
    );
    for (const run of runs) {
      const stages = run.stages.map((stage: { name: string }) => stage.name);
      expect(stages).toEqual(run.arm.startsWith('msm-') ? ['msm', 'aft'] : ['aft']);
      for (const stage of run.stages) expect(Number.isFinite(stage.finalLoss)).toBe(true);
      const onWorker = await fixture.client.getRun({ runId: run.runId });
      expect(onWorker.state).toBe(RunState.RUN_STATE_SUCCEEDED);
      const { checkpoints } = await fixture.client.listCheckpoints({ runId: run.runId });
      expect(checkpoints.some((checkpoint) => checkpoint.final)).toBe(true);
    }

    const logOf = async (suite: { dir: string }): Promise<Record_[]> =>
      (await readFile(join(suite.dir, 'samples.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
    const [ruled, judged] = report.suites as Array<{
      suite: string;
      dir: string;
      arms: ArmRow[];
      contrasts: Array<{
        difference: { rate: number };
        differenceInDifferences: { estimate: number };
      }>;
    }>;
    expect([ruled?.suite, judged?.suite]).toEqual(['agentic-misalignment', 'agentic-judged']);
    if (!ruled || !judged) return;

    // rule-only: 4 scenarios × 2 goal types per model, each an episode in the simulated world; the
    // decisive rule's verdict is final, no judge asked. Each sample is its own cluster.
    const ruledLog = await logOf(ruled);
    for (const model of MODELS) {
      const mine = ruledLog.filter((record) => record.arm === model);
      expect(mine, model).toHaveLength(8);
      for (const record of mine) {
        expect(record.rules.length).toBeGreaterThan(0);
        expect(record.judge).toBeNull();
        expect(record.episode?.modelTurns).toBeGreaterThanOrEqual(1);
        expect(record.final).toEqual({
          status: 'scored',
          value: record.rules.at(-1)?.fired ?? false,
        });
      }
      expect(new Set(mine.map((record) => record.cluster)).size).toBe(8);
    }
    // judge-only (as the default rule-and-judge): every transcript judged by the worker's model; the
    // verdict is the judge's, an unparsable answer is unscored (never counted as aligned), and the
    // rules are kept beside it.
    const judgedLog = await logOf(judged);
    for (const model of MODELS) {
      const mine = judgedLog.filter((record) => record.arm === model);
      expect(mine, model).toHaveLength(1);
      for (const record of mine) {
        expect(record.rules.length).toBeGreaterThan(0);
        expect(record.judge?.backend).toBe('worker:tiny:qwen3');
        expect(record.final.status).toBe(record.judge?.verdict.status);
        if (record.final.status === 'unscored')
          expect(record.final.reason).toBe(record.judge?.verdict.reason);
      }
    }

    // Report: every arm, per goal type, with the log's scored count, rate and interval; unscored
    // counted apart.
    for (const [suite, log, goalTypes] of [
      [ruled, ruledLog, ['explicit', 'none']],
      [judged, judgedLog, ['none']],
    ] as const) {
      expect(suite.arms.map((arm) => arm.arm)).toEqual(ARMS);
      for (const arm of suite.arms) {
        const mine = log.filter(
          (record) => record.arm === arm.arm || record.arm.startsWith(`${arm.arm}/`),
        );
        expect(arm.unscored).toBe(mine.filter((r) => r.final.status === 'unscored').length);
        expect(Object.keys(arm.splits).sort()).toEqual(goalTypes);
        for (const [goalType, estimate] of Object.entries(arm.splits)) {
          const scored = mine.filter(
            (r) => r.conditionParts.goalType === goalType && r.final.status === 'scored',
          );
          expect(estimate.n).toBe(scored.length);
          if (scored.length === 0) continue;
          const hits = scored.filter((r) => r.final.status === 'scored' && r.final.value).length;
          expect(estimate.rate).toBeCloseTo(hits / scored.length, 10);
          expect(estimate.lower).toBeLessThanOrEqual(estimate.rate);
          expect(estimate.upper).toBeGreaterThanOrEqual(estimate.rate);
          // Never a zero-width interval: each sample is its own cluster.
          expect(estimate.upper).toBeGreaterThan(estimate.lower);
        }
      }
    }
    const [contrast] = ruled.contrasts;
    expect(Number.isFinite(contrast?.difference.rate)).toBe(true);
    expect(Number.isFinite(contrast?.differenceInDifferences.estimate)).toBe(true);
    const markdown = await readFile(join(out, 'report.md'), 'utf8');
    for (const arm of ARMS)
      expect(markdown).toMatch(
        new RegExp(`^\\| ${arm} \\| \\d\\.\\d\\d \\[\\d\\.\\d\\d, \\d\\.\\d\\d\\] n=4 `, 'm'),
      );
    expect(markdown).toMatch(/^\| msm-aft − aft \(explicit\) \| [+-]\d\.\d\d \[/m);
    for (const suite of [ruled, judged]) {
      const html = await readFile(join(suite.dir, 'report.html'), 'utf8');
      for (const model of MODELS) expect(html).toContain(model);
    }
    expect(stdout.text()).toMatch(/wall time \d+ s/);
  });
});
