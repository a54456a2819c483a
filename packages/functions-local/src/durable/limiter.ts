/**
 * Bounded parallelism for activity executions, the local counterpart of host.json's
 * `durableTask.maxConcurrentActivityFunctions`: at most `max` run at once, the rest wait in
 * arrival order.
 */
export class Limiter {
  readonly #max: number;
  #running = 0;
  #peak = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1)
      throw new RangeError(`The concurrency bound must be a positive integer, not ${max}.`);
    this.#max = max;
  }

  /** The most that ever ran at once (for tests and diagnostics). */
  get peak(): number {
    return this.#peak;
  }

  get running(): number {
    return this.#running;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#max) {
      // The finishing run hands its slot over directly, so a newcomer cannot slip in between.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    this.#peak = Math.max(this.#peak, this.#running);
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
