// Runs generateCorpus with the OpenAI Batch client in a child process, for the kill -9 tests: the
// parent kills it at a chosen request to the fake batch server.
import { createOpenAIBatchClient } from '@midspec/models';
import { loadSpec } from '@midspec/spec';
import { generateCorpus } from '../corpus-pipeline.js';
import { createTemplateProvider } from '../provider-template.js';

const [specFile, outDir, baseUrl] = process.argv.slice(2);
const { spec } = await loadSpec(specFile as string);
await generateCorpus({
  spec,
  provider: createTemplateProvider(),
  batch: createOpenAIBatchClient({ model: 'gpt-test', baseUrl, apiKey: 'k' }),
  batchPollIntervalMs: 20,
  outDir: outDir as string,
  config: { domains: 1, subdomains: 2, assertions: 1, docTypes: 2, ideas: 2, minDocumentChars: 5 },
});
process.stdout.write('finished\n');
