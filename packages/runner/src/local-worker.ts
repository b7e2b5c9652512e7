import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliUsageError } from './cli-usage-error.js';

const LISTENING = /^midspec-worker listening on (\S+)\s*$/;

export interface LocalWorkerOptions {
  /** Where the worker keeps datasets, runs and checkpoints. */
  dataDir: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** The Python interpreter that has `midspec_worker` installed. */
  python?: string;
  env?: NodeJS.ProcessEnv;
  /** Receives the worker's log output (its stderr), line by line. */
  onLog?: (line: string) => void;
  /** How long to wait for the worker to start listening. */
  startTimeoutMs?: number;
  /** Extra arguments for `midspec_worker serve`. */
  extraArgs?: string[];
  /** Aborting it while the worker starts stops the worker and rejects. */
  signal?: AbortSignal;
}

export interface LocalWorker {
  address: string;
  child: ChildProcess;
  /** Resolves with the exit code once the worker has exited. */
  exited: Promise<number>;
  /** Asks the worker to stop (SIGTERM), then kills it if it has not exited in time. */
  stop(options?: { graceMs?: number }): Promise<number>;
}

/** The repository's worker folder, when this CLI runs from a midspec checkout. */
export function repositoryWorkerDir(): string | undefined {
  // Both src/ (tests) and dist/ (the built CLI) sit three levels below the repository root.
  const candidate = resolve(dirname(fileURLToPath(import.meta.url)), '../../../workers/torch');
  return existsSync(join(candidate, 'pyproject.toml')) ? candidate : undefined;
}

/** The interpreter to run the worker with: explicit, then MIDSPEC_WORKER_PYTHON, then the checkout's environment. */
export function resolveWorkerPython(explicit: string | undefined, env: NodeJS.ProcessEnv): string {
  if (explicit) return explicit;
  if (env.MIDSPEC_WORKER_PYTHON) return env.MIDSPEC_WORKER_PYTHON;
  const workerDir = repositoryWorkerDir();
  const venvPython = workerDir && join(workerDir, '.venv', 'bin', 'python');
  if (venvPython && existsSync(venvPython)) return venvPython;
  throw new CliUsageError(
    'cannot find a Python environment with the midspec worker: pass --python PATH or set MIDSPEC_WORKER_PYTHON ' +
      '(in a midspec checkout, scripts/setup.sh creates workers/torch/.venv)',
  );
}

/** Starts `python -m midspec_worker serve` and resolves once it is listening. */
export async function startLocalWorker(options: LocalWorkerOptions): Promise<LocalWorker> {
  const env = options.env ?? process.env;
  const python = resolveWorkerPython(options.python, env);
  await mkdir(options.dataDir, { recursive: true });
  const workerDir = repositoryWorkerDir();
  const args = [
    '-m',
    'midspec_worker',
    'serve',
    '--host',
    options.host ?? '127.0.0.1',
    '--port',
    String(options.port ?? 0),
    '--data-dir',
    options.dataDir,
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(python, args, {
    env: {
      ...env,
      PYTHONUNBUFFERED: '1',
      ...(workerDir
        ? { PYTHONPATH: [join(workerDir, 'src'), env.PYTHONPATH].filter(Boolean).join(':') }
        : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number>((resolveExit) => {
    child.once('exit', (code, signal) =>
      resolveExit(code ?? (signal ? 128 + signalNumber(signal) : 1)),
    );
    child.once('error', () => resolveExit(127));
  });
  const recentLog: string[] = [];
  forEachLine(child.stderr, (line) => {
    recentLog.push(line);
    if (recentLog.length > 20) recentLog.shift();
    options.onLog?.(line);
  });

  const stopStarting = () => child.kill('SIGTERM');
  if (options.signal?.aborted) stopStarting();
  else options.signal?.addEventListener('abort', stopStarting, { once: true });
  const address = await new Promise<string>((resolveAddress, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new CliUsageError(
          `the worker did not start within ${options.startTimeoutMs ?? 120_000} ms\n${recentLog.join('\n')}`,
        ),
      );
    }, options.startTimeoutMs ?? 120_000);
    forEachLine(child.stdout, (line) => {
      const match = LISTENING.exec(line);
      if (match?.[1]) {
        clearTimeout(timer);
        resolveAddress(match[1]);
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new CliUsageError(`cannot run the worker with ${python}: ${error.message}`));
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(
        options.signal?.aborted
          ? options.signal.reason
          : new CliUsageError(
              `the worker exited with code ${code} before listening:\n${recentLog.join('\n')}`,
            ),
      );
    });
  }).finally(() => options.signal?.removeEventListener('abort', stopStarting));

  return {
    address,
    child,
    exited,
    async stop({ graceMs = 15_000 } = {}) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

function forEachLine(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      onLine(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
    }
  });
  stream.on('end', () => {
    if (buffered) onLine(buffered);
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return signal === 'SIGKILL' ? 9 : signal === 'SIGINT' ? 2 : 15;
}
