import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { CliExit } from './cli-exit.js';
import type { CliIo } from './cli-io.js';
import { interruptible } from './interrupt.js';

function io() {
  let text = '';
  const value: CliIo = {
    stdout: { write: () => true },
    stderr: { write: (chunk: string) => (text += chunk) },
    env: {},
    cwd: '/',
  };
  return { io: value, stderr: () => text };
}

describe('interruptible', () => {
  it('turns Ctrl-C into an abort, one line and exit code 130, after the body cleaned up', async () => {
    const { io: cliIo, stderr } = io();
    const steps: string[] = [];
    const listeners = process.listenerCount('SIGINT');
    const running = interruptible(cliIo, 'rerun to resume', async (signal) => {
      try {
        const aborted = once(signal, 'abort');
        process.emit('SIGINT');
        await aborted;
        throw new Error('14 CANCELLED: Cancelled on client');
      } finally {
        steps.push('cleaned up');
      }
    });
    const error = await running.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CliExit);
    expect((error as CliExit).code).toBe(130);
    expect(steps).toEqual(['cleaned up']);
    expect(stderr()).toBe('interrupted — rerun to resume\n');
    expect(process.listenerCount('SIGINT')).toBe(listeners);
  });

  it('passes through what the body returns or throws when nobody pressed Ctrl-C', async () => {
    const { io: cliIo, stderr } = io();
    await expect(interruptible(cliIo, 'hint', async () => 42)).resolves.toBe(42);
    const failure = new Error('the worker is gone');
    await expect(
      interruptible(cliIo, 'hint', async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(stderr()).toBe('');
  });
});
