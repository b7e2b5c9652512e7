import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunnerError } from './runner-error.js';

const LISTENING = /^midspec-worker listening on (\S+)\s*$/;

export interface LocalWorkerOptions {
  /** Where the worker keeps datasets, runs and checkpoints. */
  dataDir: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** A Python interpreter that has `midspec_worker` installed (default: see `resolveWorkerCommand`). */
  python?: string;
  env?: NodeJS.ProcessEnv;
  /** Receives the worker's log output (its stderr), line by line. */
  onLog?: (line: string) => void;
  /** How long to wait for the worker to start listening. */
  startTimeoutMs?: number;
  /** Extra arguments for `midspec-worker serve`. */
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

/** How to start the worker: a program and the arguments before `serve`. */
export interface WorkerCommand {
  command: string;
  args: string[];
  /** Where it was found, for messages. */
  source: 'option' | 'MIDSPEC_WORKER_PYTHON' | 'PATH' | 'checkout';
}

/**
 * Finds the worker: an explicit Python, then `MIDSPEC_WORKER_PYTHON` (a Python with the
 * `midspec-worker` package installed), then the `midspec-worker` console script on PATH (`pip install
 * midspec-worker` puts it there), then the environment of a midspec checkout (workers/torch/.venv).
 */
export function resolveWorkerCommand(
  explicitPython: string | undefined,
  env: NodeJS.ProcessEnv,
): WorkerCommand {
  const module = ['-m', 'midspec_worker'];
  if (explicitPython) return { command: explicitPython, args: module, source: 'option' };
  if (env.MIDSPEC_WORKER_PYTHON)
    return { command: env.MIDSPEC_WORKER_PYTHON, args: module, source: 'MIDSPEC_WORKER_PYTHON' };
  const script = findOnPath('midspec-worker', env);
  if (script) return { command: script, args: [], source: 'PATH' };
  const workerDir = repositoryWorkerDir();
  const venvPython = workerDir && join(workerDir, '.venv', 'bin', 'python');
  if (venvPython && existsSync(venvPython))
    return { command: venvPython, args: module, source: 'checkout' };
  throw new RunnerError({
    code: 'runner/worker-not-found',
    message:
      'cannot find the midspec worker: install it (`pip install midspec-worker` puts `midspec-worker` on PATH), ' +
      'set MIDSPEC_WORKER_PYTHON to a Python that has it, or pass --python PATH ' +
      '(in a midspec checkout, scripts/setup.sh creates workers/torch/.venv)',
  });
}

function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Starts `midspec-worker serve` (see `resolveWorkerCommand`) and resolves once it is listening. */
export async function startLocalWorker(options: LocalWorkerOptions): Promise<LocalWorker> {
  const env = options.env ?? process.env;
  const worker = resolveWorkerCommand(options.python, env);
  await mkdir(options.dataDir, { recursive: true });
  // Only the checkout's environment needs the sources on the path; an installed worker has them.
  const workerDir = worker.source === 'checkout' ? repositoryWorkerDir() : undefined;
  const args = [
    ...worker.args,
    'serve',
    '--host',
    options.host ?? '127.0.0.1',
    '--port',
    String(options.port ?? 0),
    '--data-dir',
    options.dataDir,
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(worker.command, args, {
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
        new RunnerError({
          code: 'runner/worker-start',
          message: `the worker did not start within ${options.startTimeoutMs ?? 120_000} ms\n${recentLog.join('\n')}`,
        }),
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
      reject(
        new RunnerError({
          code: 'runner/worker-start',
          message: `cannot run the worker with ${worker.command}: ${error.message}`,
          cause: error,
        }),
      );
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(
        options.signal?.aborted
          ? options.signal.reason
          : new RunnerError({
              code: 'runner/worker-start',
              message: `the worker (${worker.command}) exited with code ${code} before listening:\n${recentLog.join('\n')}`,
            }),
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
