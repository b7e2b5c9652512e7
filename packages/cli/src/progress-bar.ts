export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * A one-line progress bar with rate and ETA on a terminal; plain lines (about twenty per bar, plus
 * the last) when the stream is not a terminal, so CI logs stay readable.
 */
export class ProgressBar {
  private readonly startedAt: number;
  private lastPlainStep = 0;
  private current = 0;
  private finished = false;

  constructor(
    private readonly stream: ProgressStream,
    private readonly label: string,
    private total: number,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
  }

  update(current: number, fields: Record<string, string> = {}, total = this.total): void {
    this.current = current;
    this.total = total;
    const line = this.render(fields);
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[2K${line}`);
      return;
    }
    const every = Math.max(1, Math.ceil(this.total / 20));
    if (current - this.lastPlainStep >= every || current >= this.total) {
      this.lastPlainStep = current;
      this.stream.write(`${line}\n`);
    }
  }

  /** Ends the bar, leaving its last state on screen. */
  done(fields: Record<string, string> = {}): void {
    if (this.finished) return;
    this.finished = true;
    if (this.stream.isTTY) this.stream.write(`\r\x1b[2K${this.render(fields)}\n`);
    else if (this.lastPlainStep !== this.current) this.stream.write(`${this.render(fields)}\n`);
  }

  private render(fields: Record<string, string>): string {
    const total = Math.max(this.total, 1);
    const ratio = Math.min(1, this.current / total);
    const elapsed = (this.now() - this.startedAt) / 1000;
    const eta = this.current > 0 ? (elapsed / this.current) * (total - this.current) : Number.NaN;
    const extra = Object.entries(fields)
      .map(([key, value]) => `${key} ${value}`)
      .join('  ');
    const text = `${this.current}/${this.total}  ${extra}  ${formatDuration(elapsed)} elapsed, ETA ${formatDuration(eta)}`;
    if (!this.stream.isTTY) return `${this.label} ${Math.round(ratio * 100)}%  ${text}`;
    const width = Math.max(
      10,
      Math.min(30, (this.stream.columns ?? 80) - text.length - this.label.length - 5),
    );
    const filled = Math.round(ratio * width);
    return `${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${text}`;
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const whole = Math.max(0, Math.round(seconds));
  const minutes = Math.floor(whole / 60);
  const rest = whole % 60;
  if (minutes >= 60)
    return `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, '0')}:${String(rest).padStart(2, '0')}`;
  return `${minutes}:${String(rest).padStart(2, '0')}`;
}
