/**
 * The agents' bulkhead counts store requests, not calls: a call takes as many permits as it makes
 * requests at once, never more permits are in use than the limit, and callers are admitted first
 * come first served (a call that needs many is not overtaken by later small ones). Checked on
 * examples, then under seeded orders of arrivals and completions, with the seed in every failure.
 */
import { describe, expect, it } from 'vitest';
import { Bulkhead } from '../../../functions/resilience/bulkhead';
import { Random } from '../../../tools/simulation/random';

/** A call through the bulkhead that runs until `finish()`; `admitted` is set when it starts. */
function hold(b: Bulkhead, permits: number, log: number[], id: number) {
  let finish: () => void = () => undefined;
  const call = { admitted: false, finish: () => finish(), done: Promise.resolve() };
  call.done = b.run(
    () =>
      new Promise<void>((resolve) => {
        call.admitted = true;
        log.push(id);
        finish = resolve;
      }),
    permits,
  );
  return call;
}

/** Lets every promise already settled run its continuations. */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('the agent bulkhead', () => {
  it('admits calls while permits last, and the rest in the order they came', async () => {
    const b = new Bulkhead(4);
    const log: number[] = [];
    const a = hold(b, 3, log, 1);
    const c = hold(b, 2, log, 2); // 3 + 2 > 4: waits
    const d = hold(b, 1, log, 3); // would fit, but comes after a waiting call: waits too
    await flush();
    expect(log).toEqual([1]);
    expect(b.active).toBe(3);
    a.finish();
    await flush();
    expect(log).toEqual([1, 2, 3]);
    expect(b.active).toBe(3);
    c.finish();
    d.finish();
    await Promise.all([a.done, c.done, d.done]);
    expect(b.active).toBe(0);
  });

  it('gives a call that asks for more than the limit the whole limit, so it runs alone', async () => {
    const b = new Bulkhead(2);
    const log: number[] = [];
    const big = hold(b, 3, log, 1);
    const small = hold(b, 1, log, 2);
    await flush();
    expect(log).toEqual([1]);
    expect(b.active).toBe(2);
    big.finish();
    await flush();
    expect(log).toEqual([1, 2]);
    small.finish();
    await small.done;
  });

  it('gives its permits back when the call fails', async () => {
    const b = new Bulkhead(1);
    await expect(b.run(async () => Promise.reject(new Error('store down')), 1)).rejects.toThrow('store down');
    expect(b.active).toBe(0);
    expect(await b.run(async () => 'next')).toBe('next');
  });

  it('keeps to its limit and to arrival order under any order of arrivals and completions', async () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rnd = new Random(seed);
      const limit = rnd.int(1, 5);
      const total = rnd.int(1, 25);
      const b = new Bulkhead(limit);
      const log: number[] = [];
      const calls: { permits: number; call: ReturnType<typeof hold>; finished: boolean }[] = [];
      const where = (what: string): string => `seed ${seed} (limit ${limit}, ${total} calls): ${what}`;
      for (let step = 0; ; step++) {
        const running = calls.filter((c) => c.call.admitted && !c.finished);
        const canArrive = calls.length < total;
        if (!canArrive && running.length === 0) break;
        if (canArrive && (running.length === 0 || rnd.chance(0.5))) {
          const permits = rnd.int(1, 4);
          calls.push({ permits, call: hold(b, permits, log, calls.length), finished: false });
        } else {
          const c = rnd.pick(running);
          c.call.finish();
          await c.call.done;
          c.finished = true;
        }
        await flush();
        const inUse = calls
          .filter((c) => c.call.admitted && !c.finished)
          .reduce((n, c) => n + Math.min(c.permits, limit), 0);
        expect(b.active, where(`step ${step}, permits in use`)).toBe(inUse);
        expect(b.active, where(`step ${step}, over the limit`)).toBeLessThanOrEqual(limit);
        expect(log, where(`step ${step}, admitted out of arrival order`)).toEqual(log.map((_, i) => i));
      }
      expect(
        calls.every((c) => c.finished),
        where('calls left waiting with nothing running'),
      ).toBe(true);
      expect(b.active, where('permits left in use')).toBe(0);
    }
  });
});
