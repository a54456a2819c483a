/** A bulkhead: at most `limit` calls in flight through it; the rest wait their turn (FIFO). */
export class Bulkhead {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {}

  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.inFlight >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight++;
    try {
      return await call();
    } finally {
      this.inFlight--;
      this.waiting.shift()?.();
    }
  }

  get active(): number {
    return this.inFlight;
  }
}
