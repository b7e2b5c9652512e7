import { join } from 'node:path';
import { SeededRandom } from '@midspec/core';
import { type DemosConfigInput, DemosConfigSchema, parseConfig } from './corpus-config.js';
import { type DedupDrop, Deduplicator } from './dedup.js';
import { toJsonl, writeFileAtomic } from './jsonl-store.js';
import { parseVerdict, responseParser } from './parse-output.js';
import { DEFAULT_PRICES, type PriceTable, priceFor } from './price-table.js';
import type { NamedItem, TaskContext } from './provider.js';
import { openRun, type RunOptions } from './run-context.js';
import { buildYieldReport, stageYield, type YieldReport } from './yield-report.js';

export interface GenerateDemosOptions extends RunOptions {
  config?: DemosConfigInput;
  prices?: PriceTable;
}

/** One line of dataset.jsonl: the chat format OpenAI fine-tuning and Hugging Face datasets read. */
export interface ChatExample {
  /** `reasoning`, on an assistant turn, is its chain of thought: the one representation of
   * reasoning the trainer and the worker read (never a tag inside `content`). */
  messages: { role: 'user' | 'assistant'; content: string; reasoning?: string }[];
}

export interface DemosResult {
  outDir: string;
  examples: ChatExample[];
  /** With the spec-citing reasoning kept as the assistant turn's `reasoning` (when `withReasoning`). */
  withReasoning: ChatExample[] | undefined;
  report: YieldReport;
  manifest: Record<string, unknown>;
}

/**
 * spec → domains → user prompts (near-duplicates removed) → responses, optionally with a spec-citing
 * reasoning block → judge filter. Writes dataset.jsonl (reasoning stripped) and, with reasoning,
 * dataset-with-reasoning.jsonl; metadata.jsonl holds each line's id, domain and judge verdict.
 */
export async function generateDemos(options: GenerateDemosOptions): Promise<DemosResult> {
  const config = parseConfig(DemosConfigSchema, options.config);
  const run = await openRun('demos', options, config, { withReasoning: config.withReasoning });
  try {
    const { spec, runner } = run;
    const domains =
      (
        await runner.runList('demo-domains', [
          { key: 'root', task: { spec, stage: 'demo-domains', count: config.domains } },
        ])
      ).get('root') ?? [];
    const domainTasks = domains.map((domain, d) => ({
      key: `d${d}`,
      task: {
        spec,
        stage: 'prompts',
        domain,
        count: config.promptsPerDomain,
      } satisfies TaskContext,
    }));
    const promptLists = await runner.runList('prompts', domainTasks);
    const drops: Record<string, unknown>[] = [];
    const dedupDrops: DedupDrop[] = [];
    const deduplicator = new Deduplicator(config.dedup);
    let prompts: { key: string; domain: NamedItem; prompt: NamedItem }[] = [];
    for (const { key, task } of domainTasks) {
      (promptLists.get(key) ?? []).forEach((prompt, p) => {
        const id = `${key}.p${p}`;
        const duplicate = deduplicator.offer(id, prompt.name);
        if (duplicate) {
          dedupDrops.push(duplicate);
          drops.push({ ...duplicate, stage: 'prompts' });
        } else prompts.push({ key: id, domain: task.domain, prompt });
      });
    }
    const requested = Math.min(prompts.length, config.maxDemos ?? prompts.length);
    if (config.maxDemos !== undefined && prompts.length > config.maxDemos) {
      const chosen = new Set(
        new SeededRandom(config.seed, 'demos')
          .shuffle(prompts.map((item) => item.key))
          .slice(0, config.maxDemos),
      );
      prompts = prompts.filter((item) => chosen.has(item.key));
    }
    const responses = await runner.runText(
      'responses',
      prompts.map((item) => ({
        key: item.key,
        task: {
          spec,
          stage: 'responses',
          domain: item.domain,
          prompt: item.prompt.name,
          source: item.prompt,
          withReasoning: config.withReasoning,
        } satisfies TaskContext,
        parse: responseParser(config.withReasoning),
      })),
    );
    const answered = prompts.filter((item) => responses.has(item.key));
    const verdicts = config.judge
      ? await runner.runText(
          'demo-judge',
          answered.map((item) => ({
            key: item.key,
            task: {
              spec,
              stage: 'demo-judge',
              prompt: item.prompt.name,
              source: item.prompt,
              text: responses.get(item.key)?.answer,
            } satisfies TaskContext,
            parse: parseVerdict,
            json: true,
          })),
        )
      : new Map<string, { consistent: boolean; reason: string }>();

    const examples: ChatExample[] = [];
    const withReasoning: ChatExample[] = [];
    const metadata: Record<string, unknown>[] = [];
    let inconsistent = 0;
    let failed = 0;
    for (const item of prompts) {
      const response = responses.get(item.key);
      if (!response) {
        failed += 1;
        drops.push({ id: item.key, reason: 'generation-failed', stage: 'responses' });
        continue;
      }
      const verdict = verdicts.get(item.key);
      if (config.judge && !verdict?.consistent) {
        inconsistent += 1;
        drops.push({
          id: item.key,
          reason: 'judge-rejected',
          detail: verdict?.reason ?? 'judge gave no verdict',
        });
        continue;
      }
      const user = { role: 'user' as const, content: item.prompt.name };
      examples.push({ messages: [user, { role: 'assistant', content: response.answer }] });
      if (config.withReasoning)
        withReasoning.push({
          messages: [
            user,
            { role: 'assistant', content: response.answer, reasoning: response.reasoning ?? '' },
          ],
        });
      metadata.push({
        id: item.key,
        domain: item.domain.name,
        principles: item.prompt.principles ?? [],
        judge: verdict ?? null,
        spec_fingerprint: run.fingerprint,
      });
    }
    const price = priceFor(
      options.prices ?? DEFAULT_PRICES,
      options.provider.id,
      options.provider.model,
    );
    const listCount = (record: { ok: boolean; value?: unknown }) =>
      record.ok ? (record.value as unknown[]).length : 0;
    const stages = [
      stageYield('demo-domains', ['root'], await runner.records('demo-domains'), price, listCount),
      stageYield(
        'prompts',
        domainTasks.map((task) => task.key),
        await runner.records('prompts'),
        price,
        listCount,
      ),
      stageYield(
        'responses',
        prompts.map((item) => item.key),
        await runner.records('responses'),
        price,
      ),
      ...(config.judge
        ? [
            stageYield(
              'demo-judge',
              answered.map((item) => item.key),
              await runner.records('demo-judge'),
              price,
            ),
          ]
        : []),
    ];
    const report = buildYieldReport({
      stages,
      dedupDrops,
      inconsistent,
      failed,
      requested,
      produced: examples.length,
      retries: run.engine.retries,
      rateLimits: run.engine.rateLimits,
    });
    const manifest = {
      kind: 'midspec-demos',
      createdBy: '@midspec/docgen',
      spec: { id: spec.id, version: spec.version, title: spec.title, fingerprint: run.fingerprint },
      provider: { id: options.provider.id, model: options.provider.model },
      config,
      counts: { domains: domains.length, prompts: prompts.length, examples: examples.length },
      files: {
        dataset: 'dataset.jsonl',
        ...(config.withReasoning ? { withReasoning: 'dataset-with-reasoning.jsonl' } : {}),
        metadata: 'metadata.jsonl',
        drops: 'drops.jsonl',
        report: 'report.json',
      },
    };
    await writeFileAtomic(join(options.outDir, 'dataset.jsonl'), toJsonl(examples));
    if (config.withReasoning)
      await writeFileAtomic(
        join(options.outDir, 'dataset-with-reasoning.jsonl'),
        toJsonl(withReasoning),
      );
    await writeFileAtomic(join(options.outDir, 'metadata.jsonl'), toJsonl(metadata));
    await writeFileAtomic(join(options.outDir, 'drops.jsonl'), toJsonl(drops));
    await writeFileAtomic(
      join(options.outDir, 'report.json'),
      `${JSON.stringify(report, null, 2)}\n`,
    );
    await writeFileAtomic(
      join(options.outDir, 'manifest.json'),
      `${JSON.stringify(manifest, null, 2)}\n`,
    );
    return {
      outDir: options.outDir,
      examples,
      withReasoning: config.withReasoning ? withReasoning : undefined,
      report,
      manifest,
    };
  } finally {
    await run.close();
  }
}
