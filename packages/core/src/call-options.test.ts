import { describe, expect, it } from 'vitest';
import { callSignal } from './call-options.js';

describe('callSignal', () => {
  it('never aborts when the call can neither be cancelled nor time out', () => {
    const { signal } = callSignal(undefined);
    expect(signal.aborted).toBe(false);
  });

  it("is the caller's own signal when there is no timeout", () => {
    const controller = new AbortController();
    expect(callSignal({ signal: controller.signal }).signal).toBe(controller.signal);
  });

  it('aborts with a TimeoutError naming the time after timeoutMs', async () => {
    const { signal, dispose } = callSignal({ timeoutMs: 5 });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).name).toBe('TimeoutError');
    expect((signal.reason as Error).message).toBe('timed out after 5 ms');
    dispose();
  });

  it("aborts on the caller's signal before the timeout, at once if it already has", () => {
    const controller = new AbortController();
    const { signal } = callSignal({ signal: controller.signal, timeoutMs: 60_000 });
    expect(signal.aborted).toBe(false);
    controller.abort(new Error('stop'));
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).message).toBe('stop');
    const late = callSignal({ signal: AbortSignal.abort(new Error('late')), timeoutMs: 60_000 });
    expect((late.signal.reason as Error).message).toBe('late');
    late.dispose();
  });

  it("dispose removes the listener from the caller's signal and stops the timer", async () => {
    const controller = new AbortController();
    const { signal, dispose } = callSignal({ signal: controller.signal, timeoutMs: 10 });
    dispose();
    await new Promise((resolve) => setTimeout(resolve, 30));
    controller.abort();
    expect(signal.aborted).toBe(false);
  });
});
