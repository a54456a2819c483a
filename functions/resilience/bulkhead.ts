/**
 * A bulkhead: at most `limit` permits in use by the calls in flight through it; the rest wait
 * their turn, first come first served. A call that makes several store requests at once takes as
 * many permits (at most `limit`, so it can always run alone), so the limit counts requests, not
 * calls. Permits are taken when a call is admitted, never after it wakes, so no newcomer slips in
 * between a release and the waiter it admits.
 */
export class Bulkhead {
  private inUse = 0;
  private readonly waiting: { readonly permits: number; readonly admit: () => void }[] = [];

  constructor(readonly limit: number) {}

  async run<T>(call: () => Promise<T>, permits = 1): Promise<T> {
    const need = Math.min(this.limit, Math.max(1, Math.floor(permits) || 1));
    if (this.waiting.length === 0 && this.inUse + need <= this.limit) this.inUse += need;
    else await new Promise<void>((admit) => this.waiting.push({ permits: need, admit }));
    try {
      return await call();
    } finally {
      this.inUse -= need;
      this.admitWaiting();
    }
  }

  /** Permits in use by the calls in flight. */
  get active(): number {
    return this.inUse;
  }

  private admitWaiting(): void {
    for (let next = this.waiting[0]; next && this.inUse + next.permits <= this.limit; next = this.waiting[0]) {
      this.waiting.shift();
      this.inUse += next.permits;
      next.admit();
    }
  }
}
