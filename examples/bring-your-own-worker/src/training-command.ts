import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * One line of the JSON-lines progress protocol a training command prints on stdout. Other stdout
 * lines, and every stderr line, become log events.
 */
export type ProgressLine =
  | {
      event: 'stage-started';
      stage: number;
      name?: string;
      totalSteps?: number;
      numTokens?: number;
      initialLoss?: number;
    }
  | {
      event: 'metrics';
      stage: number;
      step: number;
      totalSteps?: number;
      loss: number;
      learningRate?: number;
      gradNorm?: number;
      tokensPerSecond?: number;
      tokensSeen?: number;
    }
  | { event: 'checkpoint-saved'; stage: number; step: number; path: string; final?: boolean }
  | { event: 'stage-finished'; stage: number; finalLoss?: number }
  | { event: 'log'; level?: string; message: string }
  | { event: 'error'; reason?: string; message: string; retryable?: boolean };

export interface TrainingProcess {
  /** Resolves with the exit code (null when killed by a signal) once stdout and stderr are drained. */
  exited: Promise<number | null>;
  /** Asks the command to stop (SIGTERM to its whole process group). */
  stop(): void;
}

export interface StartTrainingOptions {
  command: string;
  /** The run's folder: the command's working directory, holding run.json. */
  runDirectory: string;
  env?: Record<string, string>;
  onLine(line: ProgressLine): void;
}

/**
 * Starts the training command through the shell. This is the seam a team replaces with its job
 * system: submit a job (Slurm, Kubernetes, a cloud trainer), then stream its progress lines back.
 */
export function startTraining(options: StartTrainingOptions): TrainingProcess {
  const child: ChildProcess = spawn(options.command, {
    shell: true,
    cwd: options.runDirectory,
    env: { ...process.env, ...options.env },
    // Its own process group, so that stopping it also stops what the shell started.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = (stream: NodeJS.ReadableStream | null, parse: boolean) =>
    new Promise<void>((resolve) => {
      if (!stream) return resolve();
      const reader = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
      reader.on('line', (raw) => {
        if (raw.trim() === '') return;
        options.onLine((parse && parseLine(raw)) || { event: 'log', level: 'info', message: raw });
      });
      reader.on('close', resolve);
    });
  const drained = Promise.all([lines(child.stdout, true), lines(child.stderr, false)]);
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', (error) => {
      options.onLine({ event: 'error', reason: 'ERROR_REASON_INTERNAL', message: error.message });
      resolve(1);
    });
    child.on('exit', (code) => resolve(code));
  }).then(async (code) => {
    await drained;
    return code;
  });
  return {
    exited,
    stop() {
      if (child.pid === undefined || child.exitCode !== null) return;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
    },
  };
}

function parseLine(raw: string): ProgressLine | undefined {
  if (!raw.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(raw) as ProgressLine;
    return typeof value.event === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
