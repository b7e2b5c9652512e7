import { describe, expect, it } from 'vitest';
import { formatDuration, ProgressBar } from './progress-bar.js';

function capture(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, columns: 120, write: (text: string) => chunks.push(text) } };
}

describe('ProgressBar', () => {
  it('prints about twenty plain lines when not on a terminal, and always the last step', () => {
    const { chunks, stream } = capture(false);
    let clock = 0;
    const bar = new ProgressBar(stream, 'midtrain', 100, () => clock);
    for (let step = 1; step <= 100; step += 1) {
      clock += 100;
      bar.update(step, { loss: '1.0' });
    }
    bar.done();
    expect(chunks.length).toBe(20);
    expect(chunks.every((line) => line.endsWith('\n') && !line.includes('\r'))).toBe(true);
    expect(chunks.at(-1)).toContain('100/100');
    expect(chunks.at(-1)).toContain('loss 1.0');
  });

  it('redraws one line with a bar and an ETA on a terminal', () => {
    const { chunks, stream } = capture(true);
    let clock = 0;
    const bar = new ProgressBar(stream, 'sft', 10, () => clock);
    clock = 2000;
    bar.update(5, { 'tok/s': '100' });
    expect(chunks[0]).toMatch(/^\r/);
    expect(chunks[0]).toContain('[');
    expect(chunks[0]).toContain('5/10');
    expect(chunks[0]).toContain('ETA 0:02');
    bar.done();
    expect(chunks.at(-1)).toMatch(/\n$/);
  });

  it('formats durations', () => {
    expect(formatDuration(59.6)).toBe('1:00');
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(Number.NaN)).toBe('--:--');
  });
});
