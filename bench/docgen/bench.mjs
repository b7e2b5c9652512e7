// 10,000 documents through the real corpus pipeline (OpenAI-compatible provider, engine, cache,
// stage artifacts, dedup) against a local server that answers every request after a fixed 200 ms.
// Figures: throughput of the documents stage as a ratio of the concurrency-bound ceiling
// (concurrency ÷ latency), and the engine's CPU time per document (the server is another process).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createOpenAIProvider, generateCorpus } from '@midspec/docgen';
import { loadSpec } from '@midspec/spec';

const LATENCY_MS = 200;
const CONCURRENCY = 50;
const DOCUMENTS = 10_000;

export default async function bench({ log }) {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const server = spawn(process.execPath, [join(here, 'llm-server.mjs'), String(LATENCY_MS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [portLine] = await once(server.stdout, 'data');
  const baseUrl = `http://127.0.0.1:${String(portLine).trim()}/v1`;
  const outDir = await mkdtemp(join(tmpdir(), 'docgen-bench-'));
  try {
    const { spec } = await loadSpec(join(here, '../../examples/specs/cheese-affordability.yaml'));
    const provider = createOpenAIProvider({
      model: 'bench',
      baseUrl,
      apiKey: 'none',
      concurrency: CONCURRENCY,
    });
    let started;
    let cpuAtStart;
    let finished;
    let cpu;
    const result = await generateCorpus({
      spec,
      provider,
      outDir,
      // 5 × 5 × 5 assertions × 5 types × 4 ideas × 4 documents per idea = 10,000 documents.
      config: {
        domains: 5,
        subdomains: 5,
        assertions: 5,
        docTypes: 5,
        ideas: 4,
        documentsPerIdea: 4,
        minDocumentChars: 100,
      },
      onProgress: (progress) => {
        if (progress.stage !== 'documents') return;
        if (started === undefined) {
          started = process.hrtime.bigint();
          cpuAtStart = process.cpuUsage();
        }
        if (progress.done === progress.total && finished === undefined) {
          finished = process.hrtime.bigint();
          cpu = process.cpuUsage(cpuAtStart);
        }
      },
    });
    const seconds = Number(finished - started) / 1e9;
    const documents = result.report.stages.find((stage) => stage.stage === 'documents').produced;
    if (documents !== DOCUMENTS)
      throw new Error(`expected ${DOCUMENTS} documents, got ${documents}`);
    const rate = documents / seconds;
    const ceiling = CONCURRENCY / (LATENCY_MS / 1000);
    const cpuMs = (cpu.user + cpu.system) / 1000 / documents;
    log(
      `${documents} documents in ${seconds.toFixed(1)} s at concurrency ${CONCURRENCY}, ${LATENCY_MS} ms latency: ${rate.toFixed(1)}/s of a ${ceiling}/s ceiling (${(rate / ceiling).toFixed(3)}); ${result.documents.length} kept after dedup`,
    );
    return [
      {
        name: 'documents/s (200 ms latency, concurrency 50)',
        value: rate,
        unit: 'doc/s',
        baseline: { name: 'ceiling: concurrency ÷ latency', value: ceiling },
        target: '≥ 0.95× ceiling',
      },
      { name: 'engine CPU per document', value: cpuMs, unit: 'ms', target: 'informational' },
    ];
  } finally {
    server.kill();
    await rm(outDir, { recursive: true, force: true });
  }
}
