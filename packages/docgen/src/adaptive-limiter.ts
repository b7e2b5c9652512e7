/**
 * A semaphore whose limit halves on a rate limit and creeps back up (one more slot per `limit`
 * successes) to its maximum: additive increase, multiplicative decrease. `pauseFor` holds every new
 * acquisition until a server's retry-after has passed.
 */
export class AdaptiveLimiter {
  private active = 0;
  private successes = 0;
  private pausedUntil = 0;
  private pauseTimer: NodeJS.Timeout | undefined;
  private waiting: (() => void)[] = [];
  private head = 0;
  limit: number;

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('concurrency must be at least 1');
    this.limit = max;
  }

  get inFlight(): number {
    return this.active;
  }

  acquire(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.pump();
    });
  }

  release(): void {
    this.active -= 1;
    this.pump();
  }

  onSuccess(): void {
    if (this.limit >= this.max) return;
    this.successes += 1;
    if (this.successes >= this.limit) {
      this.successes = 0;
      this.limit += 1;
      this.pump();
    }
  }

  onRateLimited(): void {
    this.limit = Math.max(1, Math.floor(this.limit / 2));
    this.successes = 0;
  }

  pauseFor(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms);
  }

  private pump(): void {
    const wait = this.pausedUntil - Date.now();
    if (wait > 0) {
      if (!this.pauseTimer) {
        this.pauseTimer = setTimeout(() => {
          this.pauseTimer = undefined;
          this.pump();
        }, wait);
      }
      return;
    }
    while (this.active < this.limit && this.head < this.waiting.length) {
      this.active += 1;
      const wake = this.waiting[this.head] as () => void;
      this.head += 1;
      wake();
    }
    // Compact now and then rather than shift() per call, which is O(n) on a long queue.
    if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
  }
}
