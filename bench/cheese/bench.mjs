// The embedded default end to end: `midspec run examples/cheese/experiment.yaml` with a local worker
// (world, both corpora, base pretraining, six arms × seeds, held-out evals, report), timed, with the
// effect sizes its report measures. MIDSPEC_CHEESE_EXPERIMENT runs another experiment file.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

export default async function bench({ log }) {
  const experiment =
    process.env.MIDSPEC_CHEESE_EXPERIMENT ?? join(root, 'examples/cheese/experiment.yaml');
  const out = await mkdtemp(join(tmpdir(), 'midspec-bench-cheese-'));
  try {
    const started = process.hrtime.bigint();
    const recent = [];
    const code = await new Promise((resolve) => {
      const child = spawn(
        process.execPath,
        [join(root, 'packages/cli/dist/bin.js'), 'run', experiment, '--out', out],
        {
          stdio: ['ignore', 'inherit', 'pipe'],
        },
      );
      let buffered = '';
      child.stderr.on('data', (chunk) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          if (line.startsWith('[')) log(line);
          recent.push(line);
          if (recent.length > 20) recent.shift();
        }
      });
      child.on('exit', (exitCode) => resolve(exitCode));
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    // The progress lines alone do not say why: the run's last words do.
    if (code !== 0) throw new Error(`midspec run exited with ${code}:\n${recent.join('\n')}`);
    const { report } = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    const suite = report.suites[0];
    const figures = [
      { name: 'end-to-end wall time', value: seconds, unit: 's', target: '≤ 600 s on 2 cores' },
    ];
    for (const arm of suite.arms) {
      const heldOut = arm.splits['held-out'];
      if (heldOut)
        figures.push({
          name: `${arm.arm}: held-out ${report.rateName}`,
          value: heldOut.rate,
          unit: '',
        });
    }
    for (const contrast of suite.contrasts) {
      const { rate, lower, upper, excludesZero } = contrast.difference;
      figures.push({
        name: `${contrast.treated} − ${contrast.control} (95 % CI ${lower.toFixed(2)}…${upper.toFixed(2)})`,
        value: rate,
        unit: '',
        target: excludesZero ? 'excludes 0' : 'interval includes 0',
      });
    }
    return figures;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}
