import { resolve } from 'node:path';
import {
  type BatchClient,
  type CorpusConfigInput,
  createAnthropicBatchClient,
  createOpenAIBatchClient,
  createProvider,
  DEFAULT_PRICES,
  type DemosConfigInput,
  formatPreview,
  formatYieldReport,
  generateCorpus,
  generateDemos,
  loadPriceTable,
  loadTokenizerJson,
  PROVIDER_NAMES,
  type Provider,
  type ProviderName,
  previewCorpus,
  previewDemos,
  type RequestCounter,
  type StageProgress,
  type TokenCounter,
} from '@midspec/docgen';
import { createAnthropicClient } from '@midspec/models';
import { createWorkerClient } from '@midspec/proto';
import { loadSpec } from '@midspec/spec';
import { type Command, InvalidArgumentError } from 'commander';
import type { CliIo } from './cli-io.js';
import { CliUsageError } from './cli-usage-error.js';
import { printResult, withJsonOption } from './json-output.js';
import { parseInteger, parsePositiveNumber } from './option-parsers.js';
import { ProgressBar } from './progress-bar.js';

interface CommonOptions {
  spec: string;
  json?: boolean;
  batch?: boolean;
  out?: string;
  provider: ProviderName;
  model?: string;
  apiKey?: string;
  baseUrl?: string;
  worker?: string;
  concurrency?: number;
  seed: number;
  temperature?: number;
  var: Record<string, string>;
  cacheDir?: string;
  prices?: string;
  tokenizer?: string;
  tokenizerModel?: string;
  providerTokenCount?: boolean;
  domains?: number;
  nearDupThreshold?: number;
}

interface DocsOptions extends CommonOptions {
  maxDocuments?: number;
  mode: 'values' | 'rules';
  subdomains?: number;
  assertions?: number;
  docTypes?: number;
  ideas?: number;
  documentsPerIdea?: number;
  critique?: boolean;
  judge?: boolean;
}

interface DemosOptions extends CommonOptions {
  promptsPerDomain?: number;
  withReasoning?: boolean;
  judge: boolean;
  maxDemos?: number;
}

function parseProvider(value: string): ProviderName {
  if (!(PROVIDER_NAMES as readonly string[]).includes(value))
    throw new InvalidArgumentError(`"${value}" is not one of ${PROVIDER_NAMES.join(', ')}`);
  return value as ProviderName;
}

function parseVariable(value: string, previous: Record<string, string>): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`"${value}" is not NAME=VALUE`);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

function parseMode(value: string): 'values' | 'rules' {
  if (value !== 'values' && value !== 'rules')
    throw new InvalidArgumentError(`"${value}" is not values or rules`);
  return value;
}

function parseFraction(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1)
    throw new InvalidArgumentError(`"${value}" is not a number from 0 to 1`);
  return parsed;
}

function commonOptions(command: Command, withOut: boolean): Command {
  withJsonOption(command);
  if (withOut)
    command.requiredOption('--out <dir>', 'output folder (rerun on the same folder to resume)');
  return command
    .requiredOption('--spec <file>', 'the spec (YAML, JSON or Markdown)')
    .option('--provider <name>', `${PROVIDER_NAMES.join(' | ')}`, parseProvider, 'template')
    .option('--model <model>', 'model name (worker: tiny:<size>, a path, or run:<id>)')
    .option('--api-key <key>', 'API key (env OPENAI_API_KEY or ANTHROPIC_API_KEY)')
    .option(
      '--base-url <url>',
      'API base URL (an OpenAI-compatible server: vLLM, Ollama, the worker)',
    )
    .option('--worker <address>', 'worker HOST:PORT (env MIDSPEC_WORKER)')
    .option('--batch', 'send the text stages through the provider batch API (openai, anthropic)')
    .option('--concurrency <n>', 'requests in flight (default: 50 for HTTP APIs)', parseInteger)
    .option('--seed <n>', 'seed', parseInteger, 0)
    .option('--temperature <t>', 'sampling temperature (default 0.8)', parsePositiveNumber)
    .option('--var <name=value>', 'template variable value (repeatable)', parseVariable, {})
    .option('--domains <n>', 'domains (default 5)', parseInteger)
    .option(
      '--near-dup-threshold <x>',
      'MinHash similarity at which to drop (default 0.8)',
      parseFraction,
    )
    .option('--cache-dir <dir>', 'response cache folder (default <out>/cache)')
    .option(
      '--prices <file>',
      'JSON price table {"provider/model": {"inputPerMillion", "outputPerMillion"}}',
    )
    .option('--tokenizer <file>', 'a local tokenizer.json for token counts')
    .option(
      '--tokenizer-model <model>',
      "count tokens with the worker's Tokenize RPC for this model",
    )
    .option(
      '--provider-token-count',
      "preview: count each prompt with the provider's token-count endpoint (anthropic; free, needs the key)",
    );
}

function docsConfig(options: DocsOptions): CorpusConfigInput {
  return dropUndefined({
    seed: options.seed,
    temperature: options.temperature,
    concurrency: options.concurrency,
    mode: options.mode,
    domains: options.domains,
    subdomains: options.subdomains,
    assertions: options.assertions,
    docTypes: options.docTypes,
    ideas: options.ideas,
    documentsPerIdea: options.documentsPerIdea,
    maxDocuments: options.maxDocuments,
    critique: options.critique,
    consistencyJudge: options.judge,
    dedup:
      options.nearDupThreshold === undefined
        ? undefined
        : { nearThreshold: options.nearDupThreshold },
  }) as CorpusConfigInput;
}

function demosConfig(options: DemosOptions): DemosConfigInput {
  return dropUndefined({
    seed: options.seed,
    temperature: options.temperature,
    concurrency: options.concurrency,
    domains: options.domains,
    promptsPerDomain: options.promptsPerDomain,
    withReasoning: options.withReasoning,
    judge: options.judge,
    maxDemos: options.maxDemos,
    dedup:
      options.nearDupThreshold === undefined
        ? undefined
        : { nearThreshold: options.nearDupThreshold },
  }) as DemosConfigInput;
}

export function registerDocsCommands(program: Command, io: CliIo): void {
  const docs = program.command('docs').description('Spec → synthetic documents (the MSM corpus)');
  const docsOptions = (command: Command) =>
    command
      .option(
        '--max-documents <n>',
        'cap the corpus at n documents (a seeded sample)',
        parseInteger,
      )
      .option('--mode <mode>', 'values (with assertions) or rules', parseMode, 'values')
      .option('--subdomains <n>', 'subdomains per domain (default 5)', parseInteger)
      .option('--assertions <n>', 'assertions per subdomain (default 5)', parseInteger)
      .option('--doc-types <n>', 'document types per subdomain (default 5)', parseInteger)
      .option('--ideas <n>', 'ideas per document type (default 5)', parseInteger)
      .option('--documents-per-idea <n>', 'documents per idea (default 1)', parseInteger)
      .option('--critique', 'critique-and-revise pass')
      .option('--judge', 'consistency judge: drop documents that contradict the spec');
  docsOptions(commonOptions(docs.command('generate'), true))
    .description(
      'Generate the corpus: dataset.jsonl, manifest.json, report.json and stage artifacts',
    )
    .action(async (options: DocsOptions) => {
      await withSetup(
        io,
        options,
        async ({ spec, provider, batch, prices, tokenCounter, onProgress, finish }) => {
          const result = await generateCorpus({
            spec,
            variables: options.var,
            provider,
            batch,
            outDir: resolve(io.cwd, options.out as string),
            cacheDir: options.cacheDir && resolve(io.cwd, options.cacheDir),
            config: docsConfig(options),
            prices,
            tokenCounter,
            onProgress,
          });
          finish();
          const dataset = `${result.outDir}/dataset.jsonl`;
          printResult(
            io,
            options,
            { report: result.report, documents: result.documents.length, dataset },
            () =>
              `${formatYieldReport(result.report)}\nwrote ${result.documents.length} documents to ${dataset}\n`,
          );
        },
      );
    });
  docsOptions(commonOptions(docs.command('preview'), false))
    .description('Projected items per level, tokens and cost, before anything is spent')
    .action(async (options: DocsOptions) => {
      await withSetup(
        io,
        options,
        async ({ spec, prices, tokenCounter, requestCounter }) => {
          const preview = await previewCorpus({
            spec,
            variables: options.var,
            provider: {
              id: options.provider,
              model: options.model ?? defaultModel(options.provider),
            },
            prices,
            tokenCounter,
            requestCounter,
            batch: options.batch,
            config: docsConfig(options),
          });
          printResult(io, options, preview, () => `${formatPreview(preview)}\n`);
        },
        false,
      );
    });

  const demos = program.command('demos').description('Spec → demonstrations (AFT chat data)');
  const demosOptions = (command: Command) =>
    command
      .option('--prompts-per-domain <n>', 'user prompts per domain (default 20)', parseInteger)
      .option('--with-reasoning', 'also write the dataset with a spec-citing <reasoning> block')
      .option('--no-judge', 'keep every response (no judge filter)')
      .option('--max-demos <n>', 'cap the number of demonstrations', parseInteger);
  demosOptions(commonOptions(demos.command('generate'), true))
    .description('Generate chat JSONL ({"messages": [...]}) for alignment fine-tuning')
    .action(async (options: DemosOptions) => {
      await withSetup(
        io,
        options,
        async ({ spec, provider, batch, prices, onProgress, finish }) => {
          const result = await generateDemos({
            spec,
            variables: options.var,
            provider,
            batch,
            outDir: resolve(io.cwd, options.out as string),
            cacheDir: options.cacheDir && resolve(io.cwd, options.cacheDir),
            config: demosConfig(options),
            prices,
            onProgress,
          });
          finish();
          const dataset = `${result.outDir}/dataset.jsonl`;
          printResult(
            io,
            options,
            { report: result.report, demonstrations: result.examples.length, dataset },
            () =>
              `${formatYieldReport(result.report)}\nwrote ${result.examples.length} demonstrations to ${dataset}\n`,
          );
        },
      );
    });
  demosOptions(commonOptions(demos.command('preview'), false))
    .description('Projected items per level, tokens and cost for the demonstrations')
    .action(async (options: DemosOptions) => {
      await withSetup(
        io,
        options,
        async ({ spec, prices, tokenCounter, requestCounter }) => {
          const preview = await previewDemos({
            spec,
            variables: options.var,
            provider: {
              id: options.provider,
              model: options.model ?? defaultModel(options.provider),
            },
            prices,
            tokenCounter,
            requestCounter,
            batch: options.batch,
            config: demosConfig(options),
          });
          printResult(io, options, preview, () => `${formatPreview(preview)}\n`);
        },
        false,
      );
    });
}

function defaultModel(provider: ProviderName): string {
  return {
    template: 'template',
    openai: 'gpt-4.1-mini',
    anthropic: 'claude-sonnet-4-5',
    worker: 'tiny:llama',
  }[provider];
}

interface Setup {
  spec: Awaited<ReturnType<typeof loadSpec>>['spec'];
  provider: Provider;
  batch: BatchClient | undefined;
  prices: typeof DEFAULT_PRICES;
  tokenCounter: TokenCounter | undefined;
  requestCounter: RequestCounter | undefined;
  onProgress: (progress: StageProgress) => void;
  finish: () => void;
}

async function withSetup(
  io: CliIo,
  options: CommonOptions,
  body: (setup: Setup) => Promise<void>,
  needsProvider = true,
): Promise<void> {
  const { spec } = await loadSpec(resolve(io.cwd, options.spec));
  const prices = options.prices
    ? await loadPriceTable(resolve(io.cwd, options.prices))
    : DEFAULT_PRICES;
  const provider = needsProvider
    ? createProvider({
        provider: options.provider,
        model: options.model,
        apiKey: options.apiKey,
        baseUrl: options.baseUrl,
        worker: options.worker,
        concurrency: options.concurrency,
        env: io.env,
      })
    : undefined;
  const closers: (() => void)[] = [];
  let batch: BatchClient | undefined;
  if (options.batch && needsProvider) {
    const model = options.model ?? defaultModel(options.provider);
    const common = { model, apiKey: options.apiKey, env: io.env };
    if (options.provider === 'openai')
      batch = createOpenAIBatchClient({ ...common, baseUrl: options.baseUrl });
    else if (options.provider === 'anthropic')
      batch = createAnthropicBatchClient({ ...common, baseUrl: options.baseUrl });
    else throw new CliUsageError('--batch needs --provider openai or anthropic');
  }
  let tokenCounter: TokenCounter | undefined;
  if (options.tokenizer) tokenCounter = await loadTokenizerJson(resolve(io.cwd, options.tokenizer));
  else if (options.tokenizerModel) {
    const address = options.worker ?? io.env.MIDSPEC_WORKER;
    if (!address)
      throw new CliUsageError(
        '--tokenizer-model needs a worker: pass --worker HOST:PORT or set MIDSPEC_WORKER',
      );
    const client = createWorkerClient(address);
    closers.push(() => client.close());
    const model = options.tokenizerModel;
    tokenCounter = {
      name: `worker ${address} ${model}`,
      async count(texts, call) {
        const response = await client.tokenize(
          { model: { ref: { $case: 'baseModel', baseModel: model } }, texts },
          call,
        );
        return response.results.map((result) => result.count);
      },
    };
  }
  let requestCounter: RequestCounter | undefined;
  if (options.providerTokenCount) {
    if (options.provider !== 'anthropic')
      throw new CliUsageError(
        '--provider-token-count needs --provider anthropic (OpenAI has no token-count endpoint for chat; pass --tokenizer FILE)',
      );
    const model = options.model ?? defaultModel(options.provider);
    const client = createAnthropicClient({
      model,
      apiKey: options.apiKey,
      baseUrl: options.baseUrl,
      env: io.env,
    });
    requestCounter = {
      name: `anthropic messages.countTokens (${model})`,
      count: (requests, call) =>
        (client.countTokens as NonNullable<typeof client.countTokens>)(
          requests.map((messages) => ({ messages, temperature: 0, maxTokens: 1 })),
          call,
        ),
    };
  }
  const bars = new Map<string, ProgressBar>();
  const started = new Map<string, { at: number; done: number }>();
  let current: string | undefined;
  const onProgress = (progress: StageProgress) => {
    let bar = bars.get(progress.stage);
    if (!bar) {
      if (current) bars.get(current)?.done();
      bar = new ProgressBar(io.stderr, progress.stage.padEnd(12), progress.total);
      bars.set(progress.stage, bar);
      // Items finished in an earlier run do not count towards this run's rate.
      started.set(progress.stage, { at: Date.now(), done: progress.done });
      current = progress.stage;
    }
    bar.update(
      progress.done,
      {
        rate: `${rate(started.get(progress.stage), progress.done)}/s`,
        failed: String(progress.failed),
        'in flight': String(progress.inFlight),
      },
      progress.total,
    );
  };
  const finish = () => {
    if (current) bars.get(current)?.done();
  };
  try {
    await body({
      spec,
      provider: provider as Provider,
      batch,
      prices,
      tokenCounter,
      requestCounter,
      onProgress,
      finish,
    });
  } finally {
    await provider?.close?.();
    for (const close of closers) close();
  }
}

function rate(start: { at: number; done: number } | undefined, done: number): string {
  const seconds = start ? (Date.now() - start.at) / 1000 : 0;
  return seconds > 0 && start ? ((done - start.done) / seconds).toFixed(1) : '0.0';
}

function dropUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined));
}
