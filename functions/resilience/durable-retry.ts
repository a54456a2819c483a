/**
 * The app's retry policy (domain/shared/retry.ts) as the Durable extension's retry options, for
 * `callActivityWithRetry`: the extension, not the SDK, waits and tries again.
 */
import * as df from 'durable-functions';
import { STEP_MAX_RETRY_MS } from '../../domain/delivery/saga';
import type { RetryPolicy } from '../../domain/shared/retry';

export function durableRetryOptions(policy: RetryPolicy): df.RetryOptions {
  const r = new df.RetryOptions(policy.firstRetryMs, policy.attempts);
  r.backoffCoefficient = 2;
  // Sagas started before the policy carried its cap have none in their input, and ran with this
  // one: a replay must schedule the retries their first run did.
  r.maxRetryIntervalInMilliseconds = (policy as Partial<RetryPolicy>).maxRetryMs ?? STEP_MAX_RETRY_MS;
  return r;
}
