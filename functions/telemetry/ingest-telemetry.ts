/**
 * Event Hub trigger on `telemetry` (batches, its own consumer group): validates, dead-letters
 * poison, keeps the latest state per drone, raises delivery milestones. Reports batch metrics as
 * one structured log line per invocation. Declares a retry policy: a batch that still fails
 * after in-invocation retries (or meets an open breaker) is re-run, which is safe because every
 * write is idempotent.
 */
import { app } from '@azure/functions';
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { composition } from '../composition';
import { CONNECTIONS, CONSUMER_GROUP_SETTINGS, FUNCTIONS, HUBS } from '../names';
import { HUB_TRIGGER_RETRY, hubBatch, logBatchMetric } from '../shared/hub-batch';
import { ingestBatch } from './ingest';

export async function ingestTelemetry(messages: unknown, context: InvocationContext): Promise<void> {
  const c = composition();
  const { bodies, origins } = hubBatch(messages, context, HUBS.telemetry);
  const report = await ingestBatch(bodies, origins, {
    store: c.droneStore(),
    deadLetters: c.deadLetters(),
    milestones: c.milestones(context),
    breaker: c.ingestionBreaker(),
    retry: c.ingestionRetry,
    now: () => new Date(),
    log: (entry) => context.info(JSON.stringify(entry)),
  });
  logBatchMetric(context, 'telemetry.batch', origins, report);
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
