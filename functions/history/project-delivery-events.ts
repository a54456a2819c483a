/**
 * Event Hub trigger on `delivery-events` (batches, the projector's own consumer group): appends
 * each delivery event to the event store and keeps the delivery's status view current;
 * dead-letters poison. A batch that still fails after in-invocation retries is re-run by the
 * retry policy, which is safe because every write is idempotent or version-guarded.
 */
import { app } from '@azure/functions';
import type { InvocationContext } from '@azure/functions';
import { composition } from '../composition';
import { CONNECTIONS, CONSUMER_GROUP_SETTINGS, FUNCTIONS, HUBS } from '../names';
import { HUB_TRIGGER_RETRY, hubBatch, logBatchMetric } from '../shared/hub-batch';
import { projectBatch } from './project';

export async function projectDeliveryEvents(messages: unknown, context: InvocationContext): Promise<void> {
  const c = composition();
  const { bodies, origins } = hubBatch(messages, context, HUBS.deliveryEvents);
  const report = await projectBatch(bodies, origins, {
    ...c.historyDeps,
    deadLetters: c.deadLetters(),
    now: () => new Date(),
    log: (entry) => context.info(JSON.stringify(entry)),
  });
  logBatchMetric(context, 'history.batch', origins, report);
}

app.eventHub(FUNCTIONS.projectDeliveryEvents, {
  eventHubName: HUBS.deliveryEvents,
  consumerGroup: `%${CONSUMER_GROUP_SETTINGS.projector}%`,
  connection: CONNECTIONS.eventHubs,
  cardinality: 'many',
  retry: HUB_TRIGGER_RETRY,
  handler: projectDeliveryEvents,
});
