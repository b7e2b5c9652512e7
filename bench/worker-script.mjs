// Runs a benchmark's Python half (bench/NAME/bench.py) in the worker's virtual environment: its
// `[bench/NAME]` progress lines on stderr go to `log`, its last stdout line is the JSON result.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const python = join(root, 'workers', 'torch', '.venv', 'bin', 'python');

export function runWorkerScript(name, args, log) {
  if (!existsSync(python)) {
    return Promise.reject(
      new Error(`no worker virtual environment at ${python}: run uv sync in workers/torch`),
    );
  }
  const prefix = `[bench/${name}]`;
  return new Promise((resolve, reject) => {
    const child = spawn(python, [join(root, 'bench', name, 'bench.py'), ...args], {
      env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_VERBOSITY: 'error' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    let pending = '';
    child.stderr.on('data', (chunk) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.startsWith(prefix)) log(line.slice(prefix.length + 1));
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) {
        reject(new Error(`bench/${name}/bench.py exited with code ${code}`));
        return;
      }
      resolve(JSON.parse(last));
    });
  });
}
