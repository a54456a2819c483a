/**
 * What both Event Hubs batch triggers share around their use case: the batch as bodies plus one
 * origin each, the retry policy they declare, the one structured metrics line per invocation
 * (partition, sequence range, retry count, and the use case's own report), and parking.
 *
 * Parking: the host checkpoints past a batch whose last retry failed, so its events would be
 * gone. On the last attempt (the host says which in `context.retryContext`: `retryCount` counts
 * from 0 and reaches `maxRetryCount`) a failing batch is therefore not rethrown: every event goes
 * to the dead-letter store with reason `RetriesExhausted`, its Event Hubs metadata and the last
 * error, and an `alert` is logged at error level. `npm run deadletter -- replay --reason
 * RetriesExhausted` re-publishes them once the cause is fixed; every write downstream is
 * idempotent or version-guarded, so a replay of events that did land partly is harmless.
 */
import type { InvocationContext, RetryContext } from '@azure/functions';
import { rawText } from '../../domain/shared/body';
import { originsFrom } from '../adapters/eventhub-metadata';
import { forEachBounded, withRetry } from '../resilience/retry';
import type { RetryPolicy } from '../../domain/shared/retry';
import { utf8 } from './decode-batch';
import type { DeadLetter, DeadLetterSink, EventOrigin } from '../../domain/shared/ports';

/** Re-runs a failed batch with backoff: safe, since every write of a batch is idempotent or version-guarded. */
export const HUB_TRIGGER_RETRY = {
  strategy: 'exponentialBackoff',
  maxRetryCount: 5,
  minimumInterval: { seconds: 2 },
  maximumInterval: { minutes: 1 },
} as const;

function hubBatch(
  messages: unknown,
  context: InvocationContext,
  hub: string,
): { bodies: unknown[]; origins: EventOrigin[] } {
  const bodies = Array.isArray(messages) ? messages : [messages];
  return { bodies, origins: originsFrom(context.triggerMetadata, bodies.length, hub) };
}

function logBatchMetric(
  context: InvocationContext,
  metric: string,
  origins: readonly EventOrigin[],
  report: object,
): void {
  context.info(
    JSON.stringify({
      metric,
      partitionId: origins[0]?.partitionId,
      firstSequenceNumber: origins[0]?.sequenceNumber,
      lastSequenceNumber: origins[origins.length - 1]?.sequenceNumber,
      retryCount: context.retryContext?.retryCount ?? 0,
      ...report,
    }),
  );
}

/**
 * True when the host will not run this batch again if it fails now. Without a retry context
 * (a function with no retry policy, or a direct call) nothing is known, and the failure is
 * left to whoever called; `maxRetryCount` -1 means the host retries forever.
 */
function isLastAttempt(retry: RetryContext | undefined): retry is RetryContext {
  return retry !== undefined && retry.maxRetryCount >= 0 && retry.retryCount >= retry.maxRetryCount;
}

const describeFailure = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

function rawBodyOf(body: unknown): Pick<DeadLetter, 'rawBody' | 'rawBodyEncoding'> {
  if (body instanceof Uint8Array) {
    const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    const text = utf8(body);
    // Bytes that are not text survive only as base64.
    return Buffer.from(text, 'utf8').equals(bytes)
      ? { rawBody: text, rawBodyEncoding: 'utf8' }
      : { rawBody: bytes.toString('base64'), rawBodyEncoding: 'base64' };
  }
  return { rawBody: rawText(body, utf8), rawBodyEncoding: 'utf8' };
}

export interface ParkDeps {
  /** The dead-letter `source` (telemetry, delivery-events), which replay re-validates by. */
  readonly source: string;
  readonly deadLetters: DeadLetterSink;
  readonly retry: RetryPolicy;
  readonly now: () => Date;
  readonly wait?: (ms: number) => Promise<void>;
}

/** Dead-letters every event of the batch with reason RetriesExhausted; idempotent per event (see BlobDeadLetterSink). */
async function parkBatch(
  bodies: readonly unknown[],
  origins: readonly EventOrigin[],
  error: unknown,
  attempt: RetryContext,
  deps: ParkDeps,
): Promise<number> {
  const at = deps.now().toISOString();
  const lastError = describeFailure(error);
  const letters: DeadLetter[] = bodies.map((body, i) => ({
    source: deps.source,
    reason: 'RetriesExhausted',
    errors: [{ path: '/', message: `batch failed on its last retry: ${lastError}` }],
    ...rawBodyOf(body),
    origin: origins[i] ?? { eventHubName: deps.source },
    deadLetteredAt: at,
    lastError,
    retry: { retryCount: attempt.retryCount, maxRetryCount: attempt.maxRetryCount },
  }));
  await forEachBounded(letters, 16, (letter) => withRetry(() => deps.deadLetters.put(letter), deps.retry, deps.wait));
  return letters.length;
}

export interface HubBatchRun<R extends object> extends ParkDeps {
  readonly hub: string;
  readonly metric: string;
  readonly run: (bodies: readonly unknown[], origins: readonly EventOrigin[]) => Promise<R>;
}

/**
 * Runs one batch through its use case and logs its metrics line. A failure is rethrown for the
 * retry policy, except on the last attempt, where the batch is parked instead (see above). If
 * parking fails too, that is rethrown with an alert: nothing more can be done from inside.
 */
export async function runHubBatch<R extends object>(
  messages: unknown,
  context: InvocationContext,
  b: HubBatchRun<R>,
): Promise<void> {
  const { bodies, origins } = hubBatch(messages, context, b.hub);
  let report: R;
  try {
    report = await b.run(bodies, origins);
  } catch (error) {
    const attempt = context.retryContext;
    if (!isLastAttempt(attempt)) throw error;
    const where = {
      function: context.functionName,
      hub: b.hub,
      partitionId: origins[0]?.partitionId,
      firstSequenceNumber: origins[0]?.sequenceNumber,
      lastSequenceNumber: origins[origins.length - 1]?.sequenceNumber,
      events: bodies.length,
      retryCount: attempt.retryCount,
      maxRetryCount: attempt.maxRetryCount,
      error: describeFailure(error),
    };
    try {
      const parked = await parkBatch(bodies, origins, error, attempt, b);
      context.error(
        JSON.stringify({
          alert: 'hub.batchParked',
          reason: 'RetriesExhausted',
          ...where,
          parked,
          replay: 'npm run deadletter -- replay --reason RetriesExhausted',
        }),
      );
      logBatchMetric(context, b.metric, origins, { events: bodies.length, parked });
      return;
    } catch (parkError) {
      context.error(JSON.stringify({ alert: 'hub.batchNotParked', ...where, parkError: describeFailure(parkError) }));
      throw error;
    }
  }
  logBatchMetric(context, b.metric, origins, report);
}
