import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runQuickstart } from './run-quickstart.js';

// `pnpm start -- --out DIR` passes the `--` on: drop it.
const args = process.argv.slice(2);
const { values } = parseArgs({
  args: args[0] === '--' ? args.slice(1) : args,
  options: {
    spec: {
      type: 'string',
      default: fileURLToPath(new URL('../../specs/cheese-america.yaml', import.meta.url)),
    },
    out: { type: 'string', default: '.midspec/sdk-quickstart' },
    worker: { type: 'string', default: process.env.MIDSPEC_WORKER },
    model: { type: 'string', default: 'tiny:llama' },
  },
});

const outcome = await runQuickstart(values.spec as string, {
  outDir: values.out as string,
  ...(values.worker && { worker: values.worker }),
  model: values.model as string,
  onEvent: (event) => {
    if (event.type === 'step-started')
      console.log(`[${event.index}/${event.total}] ${event.label}`);
    else if (event.type === 'step-finished')
      console.log(`      ${event.cached ? 'cached: ' : ''}${event.summary}`);
    else if (event.type === 'worker-started' && event.local)
      console.log(`local worker on ${event.address}`);
  },
});
console.log(`${outcome.markdown}\nreport: ${outcome.outDir}/report.md`);
