/**
 * The delivery-history projector beside a raw store: events/s through `projectBatch` with the
 * app's own Cosmos adapters (append each event, then per delivery read the view, query the
 * stream, write the view) ÷ events/s of plain `items.create` of the same event documents, with
 * the same parallelism over deliveries, against the same Cosmos DB stand-in. The ratio is what
 * the view maintenance costs on top of storing the events at all.
 */
import { Composition } from '../../functions/composition';
import { parseConfig } from '../../functions/config';
import { eventDocumentId } from '../../functions/adapters/cosmos-event-store';
import { projectBatch } from '../../functions/history/project';
import { forEachBounded } from '../../functions/resilience/retry';
import { COSMOS_CONTAINERS } from '../../functions/resources';
import type { DeliveryEvent } from '../../domain/delivery/events';
import { provisionCosmos } from '../local/fabrikam';
import { startCosmos } from '@fabrikam/functions-local';
import { deliveryEvents } from './delivery-events';
import { sideBySide } from './harness';
import type { Row } from './harness';
import type { EventOrigin } from '../../domain/shared/ports';

/** What projectBatch uses when the composition sets none. */
const PARALLELISM = 16;
/** host.json maxEventBatchSize. */
const BATCH = 100;
const EVENTS_PER_DELIVERY = 8;

export async function benchHistory(opts: { quick: boolean }): Promise<Row[]> {
  const cosmos = await startCosmos();
  try {
    const database = 'bench-history';
    const comp = new Composition(
      parseConfig({ CosmosConnection__accountEndpoint: cosmos.endpoint, CosmosConnection__accountKey: cosmos.key, CosmosDatabaseName: database, DeadLetterStorage__blobServiceUri: 'http://127.0.0.1:1/unused', LocalEventHubsEndpoint: 'http://127.0.0.1:9' }),
    );
    await provisionCosmos(comp.cosmos(), database);
    const container = comp.container(COSMOS_CONTAINERS.deliveryEvents);
    const deps = { ...comp.historyDeps, deadLetters: { put: async () => undefined }, now: () => new Date() };
    const batches = opts.quick ? 1 : 4;
    const perBatch = Math.floor(BATCH / EVENTS_PER_DELIVERY);
    let round = 0;
    const batchesOf = (events: readonly DeliveryEvent[]): DeliveryEvent[][] => {
      const out: DeliveryEvent[][] = [];
      for (let i = 0; i < events.length; i += perBatch * EVENTS_PER_DELIVERY) out.push(events.slice(i, i + perBatch * EVENTS_PER_DELIVERY));
      return out;
    };
    // Each batch holds whole deliveries, steps interleaved, as a partition would.
    const workload = (side: string): DeliveryEvent[][] =>
      Array.from({ length: batches }, (_, b) => deliveryEvents(`${side}-r${round}-b${b}`, perBatch)).flatMap(batchesOf);

    const ours = async (): Promise<number> => {
      const work = workload('proj');
      let events = 0;
      const started = process.hrtime.bigint();
      for (const batch of work) {
        const bodies = batch.map((e) => JSON.stringify(e));
        const origins: EventOrigin[] = batch.map(() => ({ eventHubName: 'delivery-events' }));
        const report = await projectBatch(bodies, origins, deps);
        if (report.appended !== batch.length) throw new Error(`projector appended ${report.appended} of ${batch.length} events`);
        events += batch.length;
      }
      return events / (Number(process.hrtime.bigint() - started) / 1e9);
    };
    const baseline = async (): Promise<number> => {
      const work = workload('raw');
      let events = 0;
      const started = process.hrtime.bigint();
      for (const batch of work) {
        const byDelivery = new Map<string, DeliveryEvent[]>();
        for (const e of batch) byDelivery.set(e.deliveryId, [...(byDelivery.get(e.deliveryId) ?? []), e]);
        await forEachBounded([...byDelivery.values()], PARALLELISM, async (stream) => {
          for (const e of stream) await container.items.create({ ...e, id: eventDocumentId(e.deliveryId, e.sequence) });
        });
        events += batch.length;
      }
      round++;
      return events / (Number(process.hrtime.bigint() - started) / 1e9);
    };
    const r = await sideBySide(ours, baseline, opts.quick ? 1 : 5);
    comp.cosmos().dispose();
    return [
      {
        metric: 'projector: events/s vs raw store appends/s',
        ours: r.ours,
        baseline: r.baseline,
        ratio: r.ours / r.baseline,
        target: 'info',
        unit: 'events/s (projectBatch, real adapters) vs items.create events/s',
        note: `batches of ${perBatch} deliveries x ${EVENTS_PER_DELIVERY} events, ${PARALLELISM} deliveries in parallel on both sides; the projector also reads the view, queries the stream and writes the view once per delivery per batch`,
      },
    ];
  } finally {
    await cosmos.stop();
  }
}
