/**
 * Event Hub trigger on `delivery-events` (batches, the projector's own consumer group): appends
 * each delivery event to the event store and keeps the delivery's status view current;
 * dead-letters poison. A batch that still fails after in-invocation retries is re-run by the
 * retry policy, which is safe because every write is idempotent or version-guarded.
 */
import { app } from '@azure/functions';
import type { InvocationContext } from '@azure/functions';
import { originsFrom } from '../adapters/eventhub-metadata';
import { composition } from '../composition';
import { CONNECTIONS, CONSUMER_GROUP_SETTINGS, FUNCTIONS, HUBS } from '../names';
import { projectBatch } from './project';

export async function projectDeliveryEvents(messages: unknown, context: InvocationContext): Promise<void> {
  const c = composition();
  const bodies = Array.isArray(messages) ? messages : [messages];
  const origins = originsFrom(context.triggerMetadata, bodies.length, HUBS.deliveryEvents);
  const report = await projectBatch(bodies, origins, {
    ...c.historyDeps,
    deadLetters: c.deadLetters(),
    now: () => new Date(),
    log: (entry) => context.info(JSON.stringify(entry)),
  });
  context.info(
    JSON.stringify({
      metric: 'history.batch',
      partitionId: origins[0]?.partitionId,
      firstSequenceNumber: origins[0]?.sequenceNumber,
      lastSequenceNumber: origins[origins.length - 1]?.sequenceNumber,
      retryCount: context.retryContext?.retryCount ?? 0,
      ...report,
    }),
  );
}

app.eventHub(FUNCTIONS.projectDeliveryEvents, {
  eventHubName: HUBS.deliveryEvents,
  consumerGroup: `%${CONSUMER_GROUP_SETTINGS.projector}%`,
  connection: CONNECTIONS.eventHubs,
  cardinality: 'many',
  retry: {
    strategy: 'exponentialBackoff',
    maxRetryCount: 5,
    minimumInterval: { seconds: 2 },
    maximumInterval: { minutes: 1 },
  },
  handler: projectDeliveryEvents,
});
