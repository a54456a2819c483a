/**
 * Event Hub trigger on `delivery-events` (batches, the projector's own consumer group): appends
 * each delivery event to the event store and keeps the delivery's status view current;
 * dead-letters poison. A batch that still fails after in-invocation retries is re-run by the
 * retry policy, which is safe because every write is idempotent or version-guarded; one that
 * fails its last retry is parked in the dead-letter store (shared/hub-batch.ts), never dropped.
 * One span per batch, and one write span per delivery in that delivery's trace
 * (tracing/batch-trace.ts).
 */
import { app } from '@azure/functions';
import type { InvocationContext } from '@azure/functions';
import { composition } from '../composition';
import type { Composition } from '../composition';
import { CONNECTIONS, CONSUMER_GROUP_SETTINGS, FUNCTIONS, HUBS } from '../names';
import { HUB_TRIGGER_RETRY, runHubBatch } from '../shared/hub-batch';
import { DEAD_LETTER_SOURCE, projectBatch } from './project';
import type { ProjectorDeps } from './project';
import { deliverySpanOptions, inBatchSpan, traceparentsByKey } from '../tracing/batch-trace';
import { inSpan } from '../tracing/spans';

export async function projectDeliveryEvents(messages: unknown, context: InvocationContext): Promise<void> {
  const c = composition();
  const count = Array.isArray(messages) ? messages.length : 1;
  await inBatchSpan(
    'history.project',
    context,
    count,
    { 'messaging.destination.name': HUBS.deliveryEvents },
    async (batch, traceparents) => {
      const byDelivery = traceparentsByKey(context.triggerMetadata, traceparents);
      await project(messages, context, c, (deliveryId, work) =>
        inSpan('history.write', deliverySpanOptions(batch, deliveryId, byDelivery.get(deliveryId)), work),
      );
    },
  );
}

async function project(
  messages: unknown,
  context: InvocationContext,
  c: Composition,
  perDelivery: ProjectorDeps['perDelivery'],
): Promise<void> {
  const deps = c.historyDeps;
  const now = (): Date => new Date();
  await runHubBatch(messages, context, {
    hub: HUBS.deliveryEvents,
    source: DEAD_LETTER_SOURCE,
    metric: 'history.batch',
    deadLetters: c.deadLetters(),
    retry: deps.retry,
    now,
    run: (bodies, origins) =>
      projectBatch(bodies, origins, {
        ...deps,
        deadLetters: c.deadLetters(),
        now,
        log: (entry) => context.info(JSON.stringify(entry)),
        ...(perDelivery ? { perDelivery } : {}),
      }),
  });
}

app.eventHub(FUNCTIONS.projectDeliveryEvents, {
  eventHubName: HUBS.deliveryEvents,
  consumerGroup: `%${CONSUMER_GROUP_SETTINGS.projector}%`,
  connection: CONNECTIONS.eventHubs,
  cardinality: 'many',
  retry: HUB_TRIGGER_RETRY,
  handler: projectDeliveryEvents,
});
