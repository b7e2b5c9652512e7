import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startWorker } from './start-worker.js';

// `pnpm start -- --port 1` passes the `--` on: drop it.
const args = process.argv.slice(2);
const { values } = parseArgs({
  args: args[0] === '--' ? args.slice(1) : args,
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '50061' },
    'data-dir': { type: 'string', default: '.midspec/byow-worker' },
    'train-command': { type: 'string', default: process.env.BYOW_TRAIN_COMMAND },
    model: { type: 'string', multiple: true },
  },
});

// By default each run goes to the reference training loop as an external command (the worker's
// Python package, without its SQLite): `python -m midspec_worker.train.standalone` in the run's
// folder. Replace it with a command that submits the run to your own trainer or job system.
const python =
  process.env.MIDSPEC_PYTHON ??
  fileURLToPath(new URL('../../../workers/torch/.venv/bin/python', import.meta.url));
const trainCommand =
  values['train-command'] ?? `${JSON.stringify(python)} -m midspec_worker.train.standalone`;
const worker = await startWorker({
  host: values.host,
  port: Number(values.port),
  dataDir: resolve(values['data-dir'] ?? '.midspec/byow-worker'),
  trainCommand,
  models: values.model,
});
console.log(`bring-your-own-worker listening on ${worker.address} (trains with: ${trainCommand})`);

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    void worker.close().then(() => process.exit(0));
  });
