/** Bounded retry with exponential backoff and full jitter, for transient failures only. */
import type { RetryPolicy } from '../../domain/shared/retry';
import { isTransient, retryAfterMs } from './transient';
import { BreakerOpenError } from './circuit-breaker';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The first attempt costs one promise and no async frame: retries are rare, calls are not. */
export function withRetry<T>(
  call: () => Promise<T>,
  policy: RetryPolicy,
  wait: (ms: number) => Promise<void> = sleep,
  random: () => number = Math.random,
): Promise<T> {
  const attempt = (n: number): Promise<T> => {
    let pending: Promise<T>;
    try {
      pending = call();
    } catch (e) {
      pending = Promise.reject(e);
    }
    return pending.catch(async (e: unknown) => {
      // An open breaker is the signal to stop now and let the function's retry policy back off.
      if (e instanceof BreakerOpenError || !isTransient(e) || n >= policy.attempts) throw e;
      const backoff = Math.min(policy.maxRetryMs, policy.firstRetryMs * 2 ** (n - 1));
      await wait(Math.max(retryAfterMs(e) ?? 0, Math.floor(random() * backoff)));
      return attempt(n + 1);
    });
  };
  return attempt(1);
}

/** Runs `work` over `items` with at most `limit` in flight; rejects with the first failure after all settle. */
export async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let firstError: unknown;
  let failed = false;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (e) {
        if (!failed) {
          failed = true;
          firstError = e;
        }
      }
    }
  });
  await Promise.all(runners);
  if (failed) throw firstError;
}
