import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RunningWorker,
  startWorker,
} from '../examples/bring-your-own-worker/src/start-worker.js';
import { runQuickstart } from '../examples/sdk-quickstart/src/run-quickstart.js';

const fakeTrainer = fileURLToPath(
  new URL('../examples/bring-your-own-worker/scripts/fake-trainer.mjs', import.meta.url),
);
const spec = fileURLToPath(new URL('../examples/specs/cheese-america.yaml', import.meta.url));
let worker: RunningWorker;
let directory: string;

// The bring-your-own-worker example trains in milliseconds and serves no ScoreLogprobs: the whole
// quickstart runs against it fast, down to the report that says why evaluation was skipped. The
// evaluation itself runs against the reference worker (see the example's README).
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'midspec-quickstart-'));
  worker = await startWorker({
    dataDir: join(directory, 'worker'),
    port: 0,
    trainCommand: `node ${JSON.stringify(fakeTrainer)}`,
    models: ['tiny:llama'],
  });
});

afterAll(async () => {
  await worker?.close();
  await rm(directory, { recursive: true, force: true });
});

describe('the SDK quickstart', () => {
  it('goes from spec to report, and says why evaluation was skipped', async () => {
    const lines: string[] = [];
    const result = await runQuickstart({
      spec,
      out: join(directory, 'out'),
      worker: worker.address,
      log: (line) => lines.push(line),
    });
    expect(result.evaluated).toBe(false);
    const report = await readFile(result.report, 'utf8');
    expect(report).toContain('Spec `cheese-america`');
    expect(report).toMatch(/\d+ MSM documents, \d+ AFT demonstrations/);
    expect(report).toContain(`Run \`${result.runId}\``);
    expect(report).toContain('does not implement ScoreLogprobs');
    expect(lines.join('\n')).toContain('evaluation skipped');
  }, 120_000);
});
