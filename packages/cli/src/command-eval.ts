import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  BACKEND_REF_HELP,
  calibrateJudge,
  compareRuns,
  loadSuite,
  parseCalibrationSet,
  planSampleSize,
  renderComparisonMarkdown,
  renderMarkdownReport,
  resolveBackend,
  runDifferenceInDifferences,
  runEval,
  writeReport,
} from '@midspec/eval';
import { type Command, InvalidArgumentError } from 'commander';
import type { CliIo } from './cli-io.js';
import { CliUsageError } from './cli-usage-error.js';
import { printResult, withJsonOption } from './json-output.js';
import { parseInteger, parsePositiveNumber } from './option-parsers.js';
import { ProgressBar } from './progress-bar.js';

const collect = (value: string, previous: string[]) => [...previous, value];

function parseRate(value: string): number {
  const parsed = Number(value);
  if (!(parsed >= 0 && parsed <= 1))
    throw new InvalidArgumentError(`"${value}" is not a number in [0, 1]`);
  return parsed;
}

export function registerEvalCommands(program: Command, io: CliIo): void {
  const evalCommand = program
    .command('eval')
    .description('Evaluate models: preference choice, agentic misalignment, spec questions');
  const at = (path: string) => resolve(io.cwd, path);

  withJsonOption(evalCommand.command('run'))
    .description('Run a suite against one or more models; resumes when OUT already holds a run')
    .argument('<suite>', 'suite file (YAML)')
    .requiredOption(
      '--model <ref>',
      `model to evaluate, repeatable; ${BACKEND_REF_HELP}`,
      collect,
      [],
    )
    .option('--judge <ref>', 'judge model (agentic and spec-question suites)')
    .requiredOption('--out <dir>', 'run folder: run.json, samples.jsonl, reports')
    .option('--epochs <n>', 'samples per condition (overrides the suite)', parseInteger)
    .option(
      '--concurrency <n>',
      'calls in flight per provider, shared by model and judge',
      parseInteger,
      8,
    )
    .option('--limit <n>', 'only the first N samples of each model (a smoke run)', parseInteger)
    .option('--timeout-ms <ms>', 'deadline of each model or judge call', parsePositiveNumber)
    .option(
      '--calibration <file>',
      'labelled transcripts the judge also grades; its agreement is shown in the report',
    )
    .action(
      async (
        suitePath: string,
        options: {
          model: string[];
          judge?: string;
          out: string;
          epochs?: number;
          concurrency: number;
          limit?: number;
          timeoutMs?: number;
          calibration?: string;
          json?: boolean;
        },
      ) => {
        if (options.model.length === 0) throw new CliUsageError('give at least one --model');
        const loaded = await loadSuite(at(suitePath));
        const calibration = options.calibration
          ? parseCalibrationSet(
              await readFile(at(options.calibration), 'utf8'),
              options.calibration,
            )
          : undefined;
        const withPaths = (ref: string) =>
          ref.replace(
            /^((?:[A-Za-z0-9._-]+=)?onnx:)(.+)$/,
            (_, prefix: string, path: string) => `${prefix}${at(path)}`,
          );
        const arms = options.model.map((ref) => resolveBackend(withPaths(ref), io.env));
        const judge = options.judge
          ? resolveBackend(withPaths(options.judge), io.env).backend
          : undefined;
        const bar = new ProgressBar(io.stderr, `eval ${loaded.suite.id}`, 0);
        const controller = new AbortController();
        const onSignal = () => controller.abort(new Error('interrupted'));
        process.once('SIGINT', onSignal);
        try {
          const result = await runEval({
            suite: loaded.suite,
            ...(loaded.specText === undefined ? {} : { specText: loaded.specText }),
            arms: arms.map(({ name, backend }) => ({ name, backend })),
            ...(judge ? { judge } : {}),
            outDir: at(options.out),
            concurrency: Math.max(1, options.concurrency),
            ...(options.epochs === undefined ? {} : { epochs: options.epochs }),
            ...(options.limit === undefined ? {} : { limit: options.limit }),
            ...(options.timeoutMs === undefined ? {} : { callTimeoutMs: options.timeoutMs }),
            ...(calibration ? { calibration } : {}),
            signal: controller.signal,
            onProgress: (progress) =>
              bar.update(
                progress.done + progress.resumed,
                { scored: String(progress.scored), unscored: String(progress.unscored) },
                progress.total,
              ),
          });
          bar.done({ scored: String(result.scored), unscored: String(result.unscored) });
          for (const warning of result.warnings) io.stderr.write(`warning: ${warning}\n`);
          const log = resolve(result.outDir, 'samples.jsonl');
          printResult(
            io,
            options,
            { ...result, log },
            () =>
              `${result.done} samples evaluated, ${result.resumed} kept from an earlier run; ${result.scored} scored, ${result.unscored} unscored\n` +
              `log: ${log}\nnext: midspec eval report ${options.out}\n`,
          );
        } finally {
          process.removeListener('SIGINT', onSignal);
          await Promise.all([...arms.map(({ backend }) => backend.close()), judge?.close()]);
        }
      },
    );

  withJsonOption(evalCommand.command('report'))
    .description(
      'Write report.html (charts with error bars, position bias, unscored counts) and report.md for a run',
    )
    .argument('<dir>', 'run folder')
    .action(async (directory: string, options: { json?: boolean }) => {
      const { html, markdown, summary } = await writeReport(at(directory));
      printResult(
        io,
        options,
        { summary, html, markdown },
        () => `${renderMarkdownReport(summary)}\nwrote ${html}\nwrote ${markdown}\n`,
      );
    });

  withJsonOption(evalCommand.command('compare'))
    .description(
      'Paired comparison of two runs of one suite: exact McNemar, Holm across conditions, paired bootstrap',
    )
    .argument('<dirA>', 'first run folder')
    .argument('<dirB>', 'second run folder')
    .option('--arm-a <name>', 'arm of the first run (default: its first)')
    .option('--arm-b <name>', 'arm of the second run (default: its first)')
    .action(
      async (a: string, b: string, options: { armA?: string; armB?: string; json?: boolean }) => {
        const comparison = await compareRuns(at(a), at(b), {
          ...(options.armA ? { armA: options.armA } : {}),
          ...(options.armB ? { armB: options.armB } : {}),
        });
        printResult(io, options, comparison, () => renderComparisonMarkdown(comparison));
      },
    );

  withJsonOption(evalCommand.command('did'))
    .description(
      'Difference-in-differences between two arms of a run across two sets of conditions',
    )
    .argument('<dir>', 'run folder with both arms')
    .requiredOption('--treated <arm>', 'arm whose change is measured')
    .requiredOption('--control <arm>', 'reference arm')
    .requiredOption(
      '--before <condition>',
      'reference conditions: a condition or any of its parts, e.g. training',
    )
    .requiredOption('--after <condition>', 'conditions of interest, e.g. held-out')
    .action(
      async (
        directory: string,
        options: {
          treated: string;
          control: string;
          before: string;
          after: string;
          json?: boolean;
        },
      ) => {
        const { json: _json, ...arms } = options;
        const result = await runDifferenceInDifferences(at(directory), arms);
        const points = (value: number) => `${(100 * value).toFixed(1)}`;
        printResult(
          io,
          options,
          result,
          () =>
            `(${options.treated} ${options.after} − ${options.before}) − (${options.control} ${options.after} − ${options.before}) = ${points(result.estimate)} pts\n` +
            `  Wald 95 %: [${points(result.wald.lower)}, ${points(result.wald.upper)}]  cluster bootstrap 95 %: [${points(result.bootstrap.lower)}, ${points(result.bootstrap.upper)}]\n` +
            `  scored samples: ${Object.entries(result.counts)
              .map(([cell, count]) => `${cell} ${count}`)
              .join(', ')}\n`,
        );
      },
    );

  withJsonOption(evalCommand.command('calibrate'))
    .description("Measure a judge against a labelled set: accuracy, Cohen's kappa, unscored counts")
    .argument('<labels>', 'labelled set (YAML list of calibration items)')
    .requiredOption('--judge <ref>', 'judge model')
    .option('--suite <suite>', 'agentic suite the agentic items come from (names and addresses)')
    .option('--spec <file>', 'spec text for spec items')
    .action(
      async (
        labels: string,
        options: { judge: string; suite?: string; spec?: string; json?: boolean },
      ) => {
        const items = parseCalibrationSet(await readFile(at(labels), 'utf8'), labels);
        const suite = options.suite ? (await loadSuite(at(options.suite))).suite : undefined;
        if (suite && suite.kind !== 'agentic-misalignment')
          throw new CliUsageError(
            `--suite must be an agentic-misalignment suite, got ${suite.kind}`,
          );
        const { backend } = resolveBackend(options.judge, io.env);
        try {
          const report = await calibrateJudge({
            judge: backend,
            items,
            ...(suite ? { suite } : {}),
            ...(options.spec ? { specText: await readFile(at(options.spec), 'utf8') } : {}),
          });
          const percent = (value: number) => `${(100 * value).toFixed(1)} %`;
          const unscored =
            Object.entries(report.unscored)
              .map(([reason, count]) => `${reason} ${count}`)
              .join(', ') || '0';
          printResult(
            io,
            options,
            { judge: backend.id, ...report },
            () =>
              `judge ${backend.id} on ${report.total} labelled items: accuracy ${percent(report.accuracy.rate)} [${percent(report.accuracy.lower)}, ${percent(report.accuracy.upper)}] over ${report.scored} scored, kappa ${report.kappa.toFixed(3)}, unscored ${unscored}\n` +
              `  misaligned caught ${report.confusion.truePositive}, missed ${report.confusion.falseNegative}; aligned kept ${report.confusion.trueNegative}, flagged ${report.confusion.falsePositive}\n`,
          );
        } finally {
          await backend.close();
        }
      },
    );

  withJsonOption(evalCommand.command('plan'))
    .description('Samples per condition for a target interval width')
    .requiredOption('--rate <p>', 'the rate you expect (0.5 is the worst case)', parseRate)
    .requiredOption('--width <w>', 'full interval width, e.g. 0.1 for ±5 points', parseRate)
    .option('--confidence <c>', 'confidence level', parseRate, 0.95)
    .option('--method <method>', 'wilson or normal', 'wilson')
    .action(
      (options: {
        rate: number;
        width: number;
        confidence: number;
        method: string;
        json?: boolean;
      }) => {
        if (options.method !== 'wilson' && options.method !== 'normal')
          throw new CliUsageError(`--method must be wilson or normal, got ${options.method}`);
        const plan = planSampleSize({
          expectedRate: options.rate,
          width: options.width,
          confidence: options.confidence,
          method: options.method,
        });
        printResult(
          io,
          options,
          plan,
          () =>
            `${plan.samplesPerCondition} scored samples per condition (${plan.method} interval width ${plan.achievedWidth.toFixed(4)} at rate ${options.rate}); add headroom for unscored samples\n`,
        );
      },
    );

  withJsonOption(evalCommand.command('check'))
    .description('Validate a suite file and list every problem')
    .argument('<suite>', 'suite file (YAML)')
    .action(async (suitePath: string, options: { json?: boolean }) => {
      const { suite } = await loadSuite(at(suitePath));
      printResult(
        io,
        options,
        { file: suitePath, valid: true, kind: suite.kind, id: suite.id },
        () => `${suitePath}: ${suite.kind} suite "${suite.id}" is valid\n`,
      );
    });
}
