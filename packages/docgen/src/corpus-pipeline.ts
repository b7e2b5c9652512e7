import { join } from 'node:path';
import { SeededRandom } from '@midspec/core';
import {
  type CorpusConfig,
  type CorpusConfigInput,
  CorpusConfigSchema,
  parseConfig,
} from './corpus-config.js';
import { type DedupDrop, Deduplicator } from './dedup.js';
import { toJsonl, writeFileAtomic } from './jsonl-store.js';
import { documentParser, parseVerdict } from './parse-output.js';
import { DEFAULT_PRICES, type PriceTable, priceFor } from './price-table.js';
import type { NamedItem, TaskContext } from './provider.js';
import { openRun, type RunOptions } from './run-context.js';
import type { StageRecord } from './stage-runner.js';
import { type TokenCounter, type TokenStatistics, tokenStatistics } from './token-counter.js';
import { buildYieldReport, stageYield, type YieldReport } from './yield-report.js';

export interface GenerateCorpusOptions extends RunOptions {
  config?: CorpusConfigInput;
  prices?: PriceTable;
  /** For the manifest's token statistics; without one only characters and words are counted. */
  tokenCounter?: TokenCounter;
}

/** One line of dataset.jsonl. */
export interface CorpusDocument {
  id: string;
  text: string;
  source: 'midspec-docgen';
  spec_id: string;
  spec_version: string;
  spec_fingerprint: string;
  domain: string;
  subdomain: string;
  assertion?: string;
  doc_type: string;
  idea_id: string;
  idea: string;
  provider: string;
  model: string;
  revised: boolean;
  truncated: boolean;
}

export interface CorpusResult {
  outDir: string;
  documents: CorpusDocument[];
  report: YieldReport;
  manifest: Record<string, unknown>;
}

interface Slot {
  key: string;
  domain: NamedItem;
  subdomain: NamedItem;
  assertion?: NamedItem;
  docType: NamedItem;
  idea: NamedItem;
  ideaKey: string;
}

/**
 * spec → domains → subdomains → assertions (values mode) → document types → ideas → documents, then
 * the optional critique-and-revise pass and consistency judge, then dedup. Every stage persists as
 * it goes; rerunning on the same folder resumes. The dataset is assembled from the artifacts in key
 * order, so it depends on the seed and the answers only, never on timing.
 */
export async function generateCorpus(options: GenerateCorpusOptions): Promise<CorpusResult> {
  const config = parseConfig(CorpusConfigSchema, options.config);
  const run = await openRun('corpus', options, config, { mode: config.mode });
  try {
    return await generate(options, config, run);
  } finally {
    await run.close();
  }
}

async function generate(
  options: GenerateCorpusOptions,
  config: CorpusConfig,
  run: Awaited<ReturnType<typeof openRun>>,
): Promise<CorpusResult> {
  const { spec, runner } = run;
  const base = { spec, mode: config.mode } satisfies Partial<TaskContext>;
  const domainsKey = ['root'];
  const domains =
    (
      await runner.runList('domains', [
        { key: 'root', task: { ...base, stage: 'domains', count: config.domains } },
      ])
    ).get('root') ?? [];

  const domainTasks = domains.map((domain, d) => ({ key: `d${d}`, domain }));
  const subdomainLists = await runner.runList(
    'subdomains',
    domainTasks.map(({ key, domain }) => ({
      key,
      task: { ...base, stage: 'subdomains', domain, count: config.subdomains },
    })),
  );
  const subTasks = domainTasks.flatMap(({ key, domain }) =>
    (subdomainLists.get(key) ?? []).map((subdomain, s) => ({
      key: `${key}.s${s}`,
      domain,
      subdomain,
    })),
  );
  const assertionLists =
    config.mode === 'values'
      ? await runner.runList(
          'assertions',
          subTasks.map(({ key, domain, subdomain }) => ({
            key,
            task: { ...base, stage: 'assertions', domain, subdomain, count: config.assertions },
          })),
        )
      : new Map<string, NamedItem[]>();
  const typeLists = await runner.runList(
    'doc-types',
    subTasks.map(({ key, domain, subdomain }) => ({
      key,
      task: { ...base, stage: 'doc-types', domain, subdomain, count: config.docTypes },
    })),
  );

  // Ideas: per (subdomain, assertion, type) in values mode, per (subdomain, type) in rules mode.
  const ideaTasks: {
    key: string;
    task: TaskContext;
    slot: Omit<Slot, 'key' | 'idea' | 'ideaKey'>;
  }[] = [];
  for (const { key, domain, subdomain } of subTasks) {
    const types = typeLists.get(key) ?? [];
    const assertions: (NamedItem | undefined)[] =
      config.mode === 'values' ? (assertionLists.get(key) ?? []) : [undefined];
    assertions.forEach((assertion, a) => {
      types.forEach((docType, t) => {
        const ideaKey = assertion ? `${key}.a${a}.t${t}` : `${key}.t${t}`;
        const slot = { domain, subdomain, docType, ...(assertion ? { assertion } : {}) };
        ideaTasks.push({
          key: ideaKey,
          slot,
          task: { ...base, stage: 'ideas', ...slot, count: config.ideas },
        });
      });
    });
  }
  const ideaLists = await runner.runList(
    'ideas',
    ideaTasks.map(({ key, task }) => ({ key, task })),
  );

  let slots: Slot[] = ideaTasks.flatMap(({ key, slot }) =>
    (ideaLists.get(key) ?? []).flatMap((idea, i) =>
      Array.from({ length: config.documentsPerIdea }, (_, n) => ({
        ...slot,
        idea,
        ideaKey: `${key}.i${i}`,
        key: `${key}.i${i}.n${n}`,
      })),
    ),
  );
  const requestedDocuments = Math.min(slots.length, config.maxDocuments ?? slots.length);
  if (config.maxDocuments !== undefined && slots.length > config.maxDocuments) {
    // A seeded sample spread over every domain and type, kept in key order.
    const chosen = new Set(
      new SeededRandom(config.seed, 'slots')
        .shuffle(slots.map((slot) => slot.key))
        .slice(0, config.maxDocuments),
    );
    slots = slots.filter((slot) => chosen.has(slot.key));
  }

  const slotTask = (slot: Slot): TaskContext => ({
    ...base,
    stage: 'documents',
    domain: slot.domain,
    subdomain: slot.subdomain,
    docType: slot.docType,
    idea: slot.idea,
    ...(slot.assertion ? { assertion: slot.assertion } : {}),
  });
  const drafts = await runner.runText(
    'documents',
    slots.map((slot) => ({
      key: slot.key,
      task: slotTask(slot),
      parse: documentParser(config.minDocumentChars),
    })),
  );
  const written = slots.filter((slot) => drafts.has(slot.key));
  const revisions = config.critique
    ? await runner.runText(
        'revisions',
        written.map((slot) => ({
          key: slot.key,
          task: { ...slotTask(slot), stage: 'revisions', text: drafts.get(slot.key) },
          parse: documentParser(config.minDocumentChars),
        })),
      )
    : new Map<string, string>();
  const finalText = (slot: Slot) => revisions.get(slot.key) ?? (drafts.get(slot.key) as string);
  const verdicts = config.consistencyJudge
    ? await runner.runText(
        'consistency',
        written.map((slot) => ({
          key: slot.key,
          task: { ...slotTask(slot), stage: 'consistency', text: finalText(slot) },
          parse: parseVerdict,
          json: true,
        })),
      )
    : new Map<string, { consistent: boolean; reason: string }>();

  // Assembly, in key order.
  const documentRecords = await runner.records('documents');
  const drops: Record<string, unknown>[] = [];
  const dedupDrops: DedupDrop[] = [];
  const deduplicator = new Deduplicator(config.dedup);
  const documents: CorpusDocument[] = [];
  let inconsistent = 0;
  let failed = 0;
  for (const slot of slots) {
    const record = documentRecords.get(slot.key);
    if (!drafts.has(slot.key)) {
      failed += 1;
      drops.push({
        id: slot.key,
        reason: 'generation-failed',
        detail: record?.reason ?? 'not generated',
      });
      continue;
    }
    const verdict = verdicts.get(slot.key);
    if (config.consistencyJudge && !verdict?.consistent) {
      inconsistent += 1;
      drops.push({
        id: slot.key,
        reason: 'inconsistent-with-spec',
        detail: verdict?.reason ?? 'judge gave no verdict',
      });
      continue;
    }
    const text = finalText(slot);
    const duplicate = deduplicator.offer(slot.key, text);
    if (duplicate) {
      dedupDrops.push(duplicate);
      drops.push({ ...duplicate });
      continue;
    }
    documents.push({
      id: slot.key,
      text,
      source: 'midspec-docgen',
      spec_id: spec.id,
      spec_version: spec.version,
      spec_fingerprint: run.fingerprint,
      domain: slot.domain.name,
      subdomain: slot.subdomain.name,
      ...(slot.assertion ? { assertion: slot.assertion.name } : {}),
      doc_type: slot.docType.name,
      idea_id: slot.ideaKey,
      idea: slot.idea.name,
      provider: options.provider.id,
      model: options.provider.model,
      revised: revisions.has(slot.key),
      truncated: (record as StageRecord | undefined)?.truncated ?? false,
    });
  }

  const price = priceFor(
    options.prices ?? DEFAULT_PRICES,
    options.provider.id,
    options.provider.model,
  );
  const keysOf = (tasks: { key: string }[]) => tasks.map((task) => task.key);
  const listYield = async (
    stage: 'domains' | 'subdomains' | 'assertions' | 'doc-types' | 'ideas',
    keys: string[],
  ) =>
    stageYield(stage, keys, await runner.records(stage), price, (record) =>
      record.ok ? (record.value as unknown[]).length : 0,
    );
  const stages = [
    await listYield('domains', domainsKey),
    await listYield('subdomains', keysOf(domainTasks)),
    ...(config.mode === 'values' ? [await listYield('assertions', keysOf(subTasks))] : []),
    await listYield('doc-types', keysOf(subTasks)),
    await listYield('ideas', keysOf(ideaTasks)),
    stageYield('documents', keysOf(slots), documentRecords, price),
    ...(config.critique
      ? [stageYield('revisions', keysOf(written), await runner.records('revisions'), price)]
      : []),
    ...(config.consistencyJudge
      ? [stageYield('consistency', keysOf(written), await runner.records('consistency'), price)]
      : []),
  ];
  const report = buildYieldReport({
    stages,
    dedupDrops,
    inconsistent,
    failed,
    requested: requestedDocuments,
    produced: documents.length,
    retries: run.engine.retries,
    rateLimits: run.engine.rateLimits,
  });
  const tokens: TokenStatistics | undefined = options.tokenCounter
    ? await tokenStatistics(
        options.tokenCounter,
        documents.map((document) => document.text),
        options,
      )
    : undefined;
  const manifest = {
    kind: 'midspec-corpus',
    createdBy: '@midspec/docgen',
    spec: { id: spec.id, version: spec.version, title: spec.title, fingerprint: run.fingerprint },
    provider: { id: options.provider.id, model: options.provider.model },
    config,
    counts: {
      domains: domains.length,
      subdomains: subTasks.length,
      ideas: ideaTasks.reduce((total, task) => total + (ideaLists.get(task.key)?.length ?? 0), 0),
      documents: documents.length,
      byDocType: countBy(documents, (document) => document.doc_type),
      byDomain: countBy(documents, (document) => document.domain),
    },
    text: {
      characters: documents.reduce((total, document) => total + document.text.length, 0),
      words: documents.reduce((total, document) => total + document.text.split(/\s+/).length, 0),
      ...(tokens ? { tokens } : {}),
    },
    files: {
      dataset: 'dataset.jsonl',
      drops: 'drops.jsonl',
      report: 'report.json',
      stages: 'stages/',
    },
  };
  await writeFileAtomic(join(options.outDir, 'dataset.jsonl'), toJsonl(documents));
  await writeFileAtomic(join(options.outDir, 'drops.jsonl'), toJsonl(drops));
  await writeFileAtomic(
    join(options.outDir, 'report.json'),
    `${JSON.stringify(report, null, 2)}\n`,
  );
  await writeFileAtomic(
    join(options.outDir, 'manifest.json'),
    `${JSON.stringify(manifest, null, 2)}\n`,
  );
  return { outDir: options.outDir, documents, report, manifest };
}

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}
