/**
 * The app's one retry policy: how a call that may fail for a while is tried again. In-invocation
 * retries of store calls (functions/resilience/retry.ts) and the Durable extension's retries of
 * saga steps and rebuild slices (`callActivityWithRetry`) both read it; the waits double from
 * `firstRetryMs` up to `maxRetryMs`.
 */
export interface RetryPolicy {
  /** Attempts in all, the first one included. */
  readonly attempts: number;
  /** The wait before the second attempt; each later wait doubles it. */
  readonly firstRetryMs: number;
  /** No wait is longer than this. */
  readonly maxRetryMs: number;
}
