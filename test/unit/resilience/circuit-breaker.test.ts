import { describe, expect, it } from 'vitest';
import { BreakerOpenError, CircuitBreaker } from '../../../functions/resilience/circuit-breaker';
import type { BreakerState } from '../../../functions/resilience/circuit-breaker';
import { forEachBounded, withRetry } from '../../../functions/resilience/retry';
import { isTransient } from '../../../functions/resilience/transient';

const throttled = (): Error => Object.assign(new Error('429 too many requests'), { code: 429 });
const badRequest = (): Error => Object.assign(new Error('400 bad request'), { code: 400 });

function breakerAt(clock: { t: number }): { breaker: CircuitBreaker; transitions: string[] } {
  const transitions: string[] = [];
  const breaker = new CircuitBreaker('store', { failureThreshold: 3, openMs: 1000 }, () => clock.t, {
    onStateChange: (from: BreakerState, to: BreakerState) => transitions.push(`${from}->${to}`),
  });
  return { breaker, transitions };
}

describe('the circuit breaker', () => {
  it('stays closed below the threshold and resets on success', async () => {
    const clock = { t: 0 };
    const { breaker } = breakerAt(clock);
    await expect(breaker.execute(() => Promise.reject(throttled()))).rejects.toThrow('429');
    await expect(breaker.execute(() => Promise.reject(throttled()))).rejects.toThrow('429');
    await expect(breaker.execute(async () => 'ok')).resolves.toBe('ok');
    await expect(breaker.execute(() => Promise.reject(throttled()))).rejects.toThrow('429');
    expect(breaker.current).toBe('closed');
  });

  it('opens after repeated transient failures and then fails fast without calling', async () => {
    const clock = { t: 0 };
    const { breaker, transitions } = breakerAt(clock);
    for (let i = 0; i < 3; i++) await expect(breaker.execute(() => Promise.reject(throttled()))).rejects.toThrow();
    expect(breaker.current).toBe('open');
    let called = false;
    const attempt = breaker.execute(async () => {
      called = true;
    });
    await expect(attempt).rejects.toBeInstanceOf(BreakerOpenError);
    expect(called).toBe(false);
    expect(transitions).toEqual(['closed->open']);
  });

  it('half-opens after openMs, lets one trial through, and closes on its success', async () => {
    const clock = { t: 0 };
    const { breaker, transitions } = breakerAt(clock);
    for (let i = 0; i < 3; i++) await expect(breaker.execute(() => Promise.reject(throttled()))).rejects.toThrow();
    clock.t = 1000;
    expect(breaker.current).toBe('halfOpen');
    let release: () => void = () => undefined;
    const trial = breaker.execute(() => new Promise<string>((r) => (release = () => r('trial'))));
    await expect(breaker.execute(async () => 'second')).rejects.toBeInstanceOf(BreakerOpenError);
    release();
    await expect(trial).resolves.toBe('trial');
    expect(breaker.current).toBe('closed');
    expect(transitions).toEqual(['closed->open', 'open->halfOpen', 'halfOpen->closed']);
  });

  it('re-opens when the trial fails', async () => {
    const clock = { t: 0 };
    const { breaker } = breakerAt(clock);
    for (let i = 0; i < 3; i++) await expect(breaker.execute(() => Promise.reject(throttled()))).rejects.toThrow();
    clock.t = 1500;
    await expect(breaker.execute(() => Promise.reject(throttled()))).rejects.toThrow('429');
    expect(breaker.current).toBe('open');
    clock.t = 2000;
    await expect(breaker.execute(async () => 1)).rejects.toBeInstanceOf(BreakerOpenError);
  });

  it('does not count non-transient failures against the dependency', async () => {
    const clock = { t: 0 };
    const { breaker } = breakerAt(clock);
    for (let i = 0; i < 10; i++)
      await expect(breaker.execute(() => Promise.reject(badRequest()))).rejects.toThrow('400');
    expect(breaker.current).toBe('closed');
  });
});

describe('retry with backoff', () => {
  const policy = { attempts: 4, firstRetryMs: 100, maxRetryMs: 1000 };

  it('retries transient failures until success, waiting with exponential backoff', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 4) throw throttled();
        return 'done';
      },
      policy,
      async (ms) => {
        waits.push(ms);
      },
      () => 0.999,
    );
    expect(result).toBe('done');
    expect(calls).toBe(4);
    expect(waits).toEqual([99, 199, 399]);
  });

  it('gives up after the last attempt with the last error', async () => {
    let calls = 0;
    const failing = withRetry(
      () => {
        calls++;
        return Promise.reject(throttled());
      },
      policy,
      async () => undefined,
    );
    await expect(failing).rejects.toThrow('429');
    expect(calls).toBe(4);
  });

  it('does not retry a non-transient failure or an open breaker', async () => {
    let calls = 0;
    await expect(
      withRetry(
        () => (calls++, Promise.reject(badRequest())),
        policy,
        async () => undefined,
      ),
    ).rejects.toThrow('400');
    await expect(
      withRetry(
        () => (calls++, Promise.reject(new BreakerOpenError('x', 10))),
        policy,
        async () => undefined,
      ),
    ).rejects.toBeInstanceOf(BreakerOpenError);
    expect(calls).toBe(2);
  });

  it('honours a service retry-after hint when it is longer than the backoff', async () => {
    const waits: number[] = [];
    let calls = 0;
    await withRetry(
      async () => {
        if (calls++ === 0) throw Object.assign(throttled(), { retryAfterInMs: 750 });
        return 1;
      },
      policy,
      async (ms) => {
        waits.push(ms);
      },
      () => 0,
    );
    expect(waits).toEqual([750]);
  });

  it('classifies throttling, unavailability and dropped connections as transient', () => {
    for (const e of [
      { code: 429 },
      { statusCode: 503 },
      { code: 'ECONNRESET' },
      { name: 'TimeoutError' },
      { code: 408 },
    ])
      expect(isTransient(e)).toBe(true);
    for (const e of [{ code: 400 }, { code: 404 }, { statusCode: 412 }, new Error('bug'), undefined])
      expect(isTransient(e)).toBe(false);
  });
});

describe('bounded parallelism', () => {
  it('never runs more than the limit at once and reports the first failure after all settle', async () => {
    let inFlight = 0;
    let peak = 0;
    const done: number[] = [];
    const run = forEachBounded([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      if (n === 2) throw new Error('two');
      done.push(n);
    });
    await expect(run).rejects.toThrow('two');
    expect(peak).toBe(3);
    expect(done.sort()).toEqual([1, 3, 4, 5, 6, 7]);
  });
});
