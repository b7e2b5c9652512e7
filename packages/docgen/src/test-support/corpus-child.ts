// Runs generateCorpus in a child process for the kill -9 test: a template provider slowed down a
// little, so the parent can kill it with documents half written. Prints one line per progress event.
import { loadSpec } from '@midspec/spec';
import { generateCorpus } from '../corpus-pipeline.js';
import type { Provider } from '../provider.js';
import { createTemplateProvider } from '../provider-template.js';

const [specFile, outDir, seed, delayMs] = process.argv.slice(2);
const template = createTemplateProvider();
const slow: Provider = {
  ...template,
  async complete(request, options) {
    await new Promise((resolve) => setTimeout(resolve, Number(delayMs ?? 5)));
    return template.complete(request, options);
  },
};
const { spec } = await loadSpec(specFile as string);
await generateCorpus({
  spec,
  provider: slow,
  outDir: outDir as string,
  config: KILL_TEST_CONFIG(Number(seed)),
  onProgress: (progress) =>
    process.stdout.write(`${progress.stage} ${progress.done}/${progress.total}\n`),
});
process.stdout.write('finished\n');

function KILL_TEST_CONFIG(value: number) {
  return {
    domains: 2,
    subdomains: 3,
    assertions: 3,
    docTypes: 3,
    ideas: 3,
    seed: value,
    critique: true,
    consistencyJudge: true,
  };
}
