/**
 * What both Event Hubs batch triggers share around their use case: the batch as bodies plus one
 * origin each, the retry policy they declare, and the one structured metrics line per invocation
 * (partition, sequence range, retry count, and the use case's own report).
 */
import type { InvocationContext } from '@azure/functions';
import type { EventOrigin } from '../../domain/telemetry/ports';
import { originsFrom } from '../adapters/eventhub-metadata';

/** Re-runs a failed batch with backoff: safe, since every write of a batch is idempotent or version-guarded. */
export const HUB_TRIGGER_RETRY = {
  strategy: 'exponentialBackoff',
  maxRetryCount: 5,
  minimumInterval: { seconds: 2 },
  maximumInterval: { minutes: 1 },
} as const;

export function hubBatch(messages: unknown, context: InvocationContext, hub: string): { bodies: unknown[]; origins: EventOrigin[] } {
  const bodies = Array.isArray(messages) ? messages : [messages];
  return { bodies, origins: originsFrom(context.triggerMetadata, bodies.length, hub) };
}

export function logBatchMetric(context: InvocationContext, metric: string, origins: readonly EventOrigin[], report: object): void {
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
