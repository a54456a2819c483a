/**
 * Time for the local runtime's schedulers (timers, batch waits, retry delays): the shared clocks
 * of tools/runtime/clock.ts, plus waiting on a clock and a manual clock for tests.
 */
import { systemClock, VirtualClock } from '../runtime/clock';
import type { Clock } from '../runtime/clock';

export type { Clock };
export { systemClock };

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
