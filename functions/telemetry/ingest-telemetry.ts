/**
 * Event Hub trigger on `telemetry` (batches, its own consumer group): validates, dead-letters
 * poison, keeps the latest state per drone, raises delivery milestones. Reports batch metrics as
 * one structured log line per invocation. Declares a retry policy: a batch that still fails
 * after in-invocation retries (or meets an open breaker) is re-run, which is safe because every
 * write is idempotent; one that fails its last retry is parked in the dead-letter store
 * (shared/hub-batch.ts), never dropped. One span per batch, linked to the events' own trace
 * contexts where they carry one (tracing/batch-trace.ts), never a span per event.
 */
import { app } from '@azure/functions';
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { composition } from '../composition';
import type { Composition } from '../composition';
import { inBatchSpan } from '../tracing/batch-trace';
import { CONNECTIONS, CONSUMER_GROUP_SETTINGS, FUNCTIONS, HUBS } from '../names';
import { HUB_TRIGGER_RETRY, runHubBatch } from '../shared/hub-batch';
import { ingestBatch } from './ingest';

export async function ingestTelemetry(messages: unknown, context: InvocationContext): Promise<void> {
  const c = composition();
  const count = Array.isArray(messages) ? messages.length : 1;
  await inBatchSpan('telemetry.ingest', context, count, { 'messaging.destination.name': HUBS.telemetry }, () =>
    ingest(messages, context, c),
  );
}

async function ingest(messages: unknown, context: InvocationContext, c: Composition): Promise<void> {
  const now = (): Date => new Date();
  await runHubBatch(messages, context, {
    hub: HUBS.telemetry,
    source: HUBS.telemetry,
    metric: 'telemetry.batch',
    deadLetters: c.deadLetters(),
    retry: c.ingestionRetry,
    now,
    run: (bodies, origins) =>
      ingestBatch(bodies, origins, {
        store: c.ingestionDroneStore(),
        deadLetters: c.deadLetters(),
        milestones: c.milestones(context),
        breaker: c.ingestionBreaker(),
        retry: c.ingestionRetry,
        now,
        log: (entry) => context.info(JSON.stringify(entry)),
      }),
  });
}

app.eventHub(FUNCTIONS.ingestTelemetry, {
  eventHubName: HUBS.telemetry,
  consumerGroup: `%${CONSUMER_GROUP_SETTINGS.ingestion}%`,
  connection: CONNECTIONS.eventHubs,
  cardinality: 'many',
  extraInputs: [df.input.durableClient()],
  retry: HUB_TRIGGER_RETRY,
  handler: ingestTelemetry,
});
