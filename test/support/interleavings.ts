/**
 * Seeded interleavings of requests to the Cosmos DB server: concurrent actors whose every request
 * waits at a gate until a seeded scheduler lets it through, one at a time, so each seed is one
 * order of the requests. Used by the reservation, assignment and intake race tests.
 */
import type { Container, SqlQuerySpec } from '@azure/cosmos';
import type { Random } from '../../tools/simulation/random';

/** An actor that died between requests (it is never sent its crashing request). */
export class Crash extends Error {}

const turn = (): Promise<void> => new Promise((res) => setImmediate(res));

/**
 * Runs the requests of concurrent actors one at a time, in an order the seed picks: each request
 * (and each actor's start) waits at the gate until the scheduler lets it through, and the next
 * one goes only once it has been answered and its actor has moved on to its next gate.
 */
export class Scheduler {
  readonly #waiting: (() => void)[] = [];
  #answered: (() => void) | undefined;
  #live = 0;

  constructor(private readonly r: Random) {}

  /** An actor: counted until its work settles. */
  actor<T>(work: () => Promise<T>): Promise<T> {
    this.#live++;
    return this.gate()
      .then(() => {
        this.#answered?.();
        return work();
      })
      .finally(() => void this.#live--);
  }

  gate(): Promise<void> {
    return new Promise((res) => this.#waiting.push(res));
  }

  /** Wraps one request: through the gate, then answered. */
  async request<T>(send: () => Promise<T>): Promise<T> {
    await this.gate();
    try {
      return await send();
    } finally {
      this.#answered?.();
    }
  }

  async run(): Promise<void> {
    for (;;) {
      // Let every actor reach its next gate (or finish).
      for (let i = 0; i < 5; i++) await turn();
      if (this.#waiting.length === 0) {
        if (this.#live === 0) return;
        await new Promise((res) => setTimeout(res, 1));
        continue;
      }
      const [next] = this.#waiting.splice(this.r.int(0, this.#waiting.length - 1), 1);
      const answered = new Promise<void>((res) => (this.#answered = res));
      next?.();
      // A request is answered, or an actor's start has run until its first request.
      await Promise.race([answered, new Promise((res) => setTimeout(res, 50))]);
    }
  }
}

/**
 * The container as one actor sees it: every request goes through the scheduler, and from the
 * `crashAt`-th one (if any) on none is sent: the actor dies there (and `onCrash` hears of it,
 * for an actor that swallows errors).
 */
export function gated(container: Container, s: Scheduler, crashAt?: number, onCrash?: () => void): Container {
  let requests = 0;
  const send = <T>(f: () => Promise<T>): Promise<T> =>
    s.request(() => {
      // Dead from there on: an actor that swallows the error sends nothing more either.
      if (crashAt !== undefined && ++requests >= crashAt) {
        onCrash?.();
        throw new Crash(`crashed before request ${crashAt}`);
      }
      return f();
    });
  const view = {
    items: {
      create: (doc: unknown) => send(() => container.items.create(doc as Record<string, unknown>)),
      query: (spec: SqlQuerySpec | string) => ({ fetchAll: () => send(() => container.items.query(spec).fetchAll()) }),
    },
    item: (id: string, pk: string) => ({
      read: () => send(() => container.item(id, pk).read()),
      replace: (body: unknown, options?: unknown) =>
        send(() => container.item(id, pk).replace(body as Record<string, unknown>, options as never)),
      delete: (options?: unknown) => send(() => container.item(id, pk).delete(options as never)),
      patch: (body: unknown, options?: unknown) =>
        send(() => container.item(id, pk).patch(body as never, options as never)),
    }),
  };
  return view as unknown as Container;
}
