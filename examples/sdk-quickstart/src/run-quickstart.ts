import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type LocalWorker, startLocalWorker } from '@midspec/cli';
import {
  createTemplateProvider,
  formatYieldReport,
  generateCorpus,
  generateDemos,
} from '@midspec/docgen';
import { runEval, WorkerBackend, writeReport } from '@midspec/eval';
import { RunState } from '@midspec/proto';
import { loadSpec } from '@midspec/spec';
import {
  connectWorker,
  curriculum,
  curriculumExperiment,
  planExperiment,
  submitExperiment,
  waitForRun,
} from '@midspec/trainer';
import { heldOutSuite } from './held-out-suite.js';

export interface QuickstartOptions {
  /** The spec file. */
  spec: string;
  /** Where the corpus, demos, eval run and report go. */
  out: string;
  /** A running worker; without one a local reference worker is started and stopped. */
  worker?: string;
  /** The base model (default tiny:llama). */
  model?: string;
  log?: (line: string) => void;
}

export interface QuickstartResult {
  report: string;
  runId: string;
  evaluated: boolean;
}

/** Spec → MSM corpus and AFT demos → MSM+AFT training → held-out preference eval → report. */
export async function runQuickstart(options: QuickstartOptions): Promise<QuickstartResult> {
  const log = options.log ?? console.log;
  const out = resolve(options.out);
  const model = options.model ?? 'tiny:llama';
  await mkdir(out, { recursive: true });
  const report: string[] = ['# midspec SDK quickstart', ''];

  // 1. The spec: rules and the values behind them, validated and linted on load.
  const { spec } = await loadSpec(options.spec);
  log(`spec ${spec.id}: ${spec.principles.length} principles, ${spec.values.length} values`);
  report.push(`Spec \`${spec.id}\` (${options.spec}): ${spec.principles.length} principles.`, '');

  // 2. The MSM corpus and the AFT demonstrations, offline with the template provider.
  const provider = createTemplateProvider();
  const corpus = await generateCorpus({
    spec,
    provider,
    outDir: join(out, 'corpus'),
    config: {
      seed: 0,
      domains: 2,
      subdomains: 3,
      assertions: 2,
      docTypes: 3,
      ideas: 2,
      maxDocuments: 60,
    },
  });
  const demos = await generateDemos({
    spec,
    provider,
    outDir: join(out, 'demos'),
    config: { seed: 0, domains: 2, promptsPerDomain: 8 },
  });
  log(`corpus: ${corpus.documents.length} documents; demos: ${demos.examples.length} chats`);
  report.push(
    `## Data`,
    '',
    `${corpus.documents.length} MSM documents, ${demos.examples.length} AFT demonstrations (template provider).`,
    '',
    '```',
    formatYieldReport(corpus.report).trimEnd(),
    '```',
    '',
  );

  // 3. A worker: the one given, or a local reference worker for this run.
  let local: LocalWorker | undefined;
  if (!options.worker) {
    log('no worker given: starting a local reference worker');
    local = await startLocalWorker({ dataDir: join(out, 'worker'), port: 0 });
  }
  const address = options.worker ?? (local as LocalWorker).address;
  const { client, capabilities } = await connectWorker(address);

  let runId = '';
  let evaluated = false;
  try {
    // 4. MSM (loss on every token of the documents), then AFT (assistant tokens only) continuing the
    //    MSM LoRA adapter. Unset settings take the published recipe; these are sized for a CPU.
    const plan = await planExperiment(
      curriculumExperiment(
        curriculum(model)
          .name('sdk-quickstart')
          .dataset('documents', { path: join(corpus.outDir, 'dataset.jsonl'), format: 'text' })
          .dataset('chats', { path: join(demos.outDir, 'dataset.jsonl'), format: 'chat' })
          .midtrain({
            name: 'msm',
            data: ['documents'],
            packing: { maxLength: 256 },
            optimizer: { learningRate: 3e-3 },
            budget: { maxSteps: 30 },
            adapter: { type: 'lora', r: 16 },
          })
          .sft({
            name: 'aft',
            data: ['chats'],
            packing: { maxLength: 256 },
            optimizer: { learningRate: 3e-3 },
            budget: { maxSteps: 15 },
          })
          .build(),
      ),
    );
    const [submitted] = await submitExperiment(client, plan, { capabilities });
    if (!submitted) throw new Error('the plan has no training run');
    runId = submitted.run.id;
    log(`run ${runId}${submitted.alreadyExisted ? ' (already submitted: following it)' : ''}`);
    const losses: string[] = [];
    const run = await waitForRun(client, runId, {
      onEvent: (event) => {
        if (event.type === 'stage-started')
          log(
            `  stage ${event.name}: ${event.totalSteps} steps, initial loss ${event.initialLoss.toFixed(3)}`,
          );
        else if (event.type === 'metrics-reported' && event.metrics.step % 5 === 0)
          log(
            `    step ${event.metrics.step}/${event.metrics.totalSteps}  loss ${event.metrics.loss.toFixed(3)}`,
          );
        else if (event.type === 'stage-finished')
          losses.push(`stage ${event.stageIndex}: final loss ${event.finalLoss.toFixed(3)}`);
      },
    });
    if (run.state !== RunState.RUN_STATE_SUCCEEDED)
      throw new Error(`run ${runId} ended ${RunState[run.state]}: ${run.error?.message ?? ''}`);
    report.push('## Training', '', `Run \`${runId}\` on ${address} (${model}): succeeded.`, '');
    report.push(...losses.map((line) => `- ${line}`), '');

    // 5. Held-out preferences, base model against the trained checkpoint, both option orders.
    report.push('## Evaluation', '');
    if (capabilities.implementedRpcs.includes('ScoreLogprobs')) {
      const arms = [
        { name: 'base', backend: new WorkerBackend({ address, model }) },
        { name: 'msm-aft', backend: new WorkerBackend({ address, model: `run:${runId}` }) },
      ];
      const evalDir = join(out, 'eval');
      try {
        await runEval({ suite: heldOutSuite, arms, outDir: evalDir });
      } finally {
        await Promise.all(arms.map((arm) => arm.backend.close()));
      }
      const written = await writeReport(evalDir);
      report.push((await readFile(written.markdown, 'utf8')).trimEnd(), '');
      log(`eval report: ${written.html}`);
      evaluated = true;
    } else {
      const message = `skipped: the worker at ${address} does not implement ScoreLogprobs (implemented: ${capabilities.implementedRpcs.join(', ')})`;
      log(`evaluation ${message}`);
      report.push(`Evaluation ${message}.`, '');
    }
  } finally {
    client.close();
    await local?.stop();
  }

  const reportFile = join(out, 'report.md');
  await writeFile(reportFile, `${report.join('\n')}\n`);
  log(`report: ${reportFile}`);
  return { report: reportFile, runId, evaluated };
}
