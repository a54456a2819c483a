/**
 * Time for everything that waits in the local runtime and the orchestration engine: hub batch
 * waits, retry delays, NCRONTAB timers, durable timers. A wall clock for running, and a virtual
 * clock that moves only when told to, so tests move time instead of sleeping.
 */

export interface Clock {
  now(): number;
  /** Runs `fn` once after `ms`; the returned function cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
}

/** Node's setTimeout caps delays at 2^31-1 ms (~24.8 days); longer waits are chained. */
const MAX_TIMEOUT_MS = 2_147_483_647;

/** Wall-clock time. With `unref`, an armed timer never keeps the process alive by itself. */
export function wallClock(options: { unref: boolean }): Clock {
  return {
    now: () => Date.now(),
    setTimer(ms, fn) {
      const due = Date.now() + Math.max(0, ms);
      let handle: NodeJS.Timeout | undefined;
      const arm = (): void => {
        const left = due - Date.now();
        handle = setTimeout(left > MAX_TIMEOUT_MS ? arm : fn, Math.min(Math.max(0, left), MAX_TIMEOUT_MS));
        if (options.unref) handle.unref();
      };
      arm();
      return () => {
        if (handle) clearTimeout(handle);
      };
    },
  };
}

export const systemClock: Clock = wallClock({ unref: false });

interface VirtualTimer {
  readonly seq: number;
  readonly due: number;
  readonly fn: () => void;
}

/**
 * A clock that moves only when told to. Timers fire in (due time, arming order), each at its own
 * instant, so runs are reproducible. `fireNextDue` is the single step the engine builds on to let
 * the work a timer starts settle before the next timer fires.
 */
export class VirtualClock implements Clock {
  #now: number;
  #timers: VirtualTimer[] = [];
  #seq = 0;

  constructor(start: Date | number = Date.UTC(2026, 0, 1)) {
    this.#now = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer: VirtualTimer = { seq: this.#seq++, due: this.#now + Math.max(0, ms), fn };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  /** How many timers are armed (for assertions about what is waiting). */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** The instant of the earliest armed timer, if any. */
  nextDueAt(): number | undefined {
    const next = this.#earliest();
    return next?.due;
  }

  /**
   * Fires the earliest timer due at or before `limit`, moving `now` to its due time (never
   * backwards). Returns false when none is due by then.
   */
  fireNextDue(limit: number): boolean {
    const next = this.#earliest();
    if (!next || next.due > limit) return false;
    this.#timers = this.#timers.filter((t) => t !== next);
    this.#now = Math.max(this.#now, next.due);
    next.fn();
    return true;
  }

  /** Moves `now` forward without firing anything (timers due by then fire on the next step). */
  setNow(time: Date | number): void {
    const t = typeof time === 'number' ? time : time.getTime();
    this.#now = Math.max(this.#now, t);
  }

  /**
   * Moves time forward by `ms`, firing due timers in order; `settle` runs after each firing so
   * the async work a timer starts finishes before the next one fires.
   */
  async advance(ms: number, settle: () => Promise<void> = async () => undefined): Promise<void> {
    const target = this.#now + Math.max(0, ms);
    await settle();
    while (this.fireNextDue(target)) await settle();
    this.#now = Math.max(this.#now, target);
    await settle();
  }

  #earliest(): VirtualTimer | undefined {
    let best: VirtualTimer | undefined;
    for (const t of this.#timers) {
      if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    }
    return best;
  }
}

/** The engine's wall clock: it unrefs timers, so an armed durable timer never keeps a process alive by itself. */
export const realClock: Clock = wallClock({ unref: true });

/** Resolves after `ms` on `clock`, or early (with false) when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = (): void => {
      cancel();
      resolve(false);
    };
    const cancel = clock.setTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Lets pending promise callbacks and immediates run; used between manual clock steps. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

/** A virtual clock whose `advance` lets async work settle after every timer; `set` jumps time forward without firing timers, as if the process had been suspended. */
export class ManualClock extends VirtualClock {
  override advance(ms: number, settleStep: () => Promise<void> = () => settle()): Promise<void> {
    return super.advance(ms, settleStep);
  }

  set(time: Date | number): void {
    this.setNow(time);
  }
}
