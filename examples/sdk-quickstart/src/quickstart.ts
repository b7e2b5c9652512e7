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

await runQuickstart({
  spec: values.spec ?? '',
  out: values.out ?? '.midspec/sdk-quickstart',
  worker: values.worker,
  model: values.model,
});
