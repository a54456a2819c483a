/**
 * DeliveryEventStore on Cosmos DB (`deliveryEvents`, partitioned by /deliveryId): one document
 * per event with id `${deliveryId}:${sequence}`. Cosmos keeps ids unique within a partition, so
 * the (deliveryId, sequence) slot is taken by the first writer: a create that meets 409 reads
 * the stored event and tells a harmless duplicate from a conflicting one. Nothing is ever
 * replaced, which is what makes the store append-only.
 */
import type { Container, ItemDefinition } from '@azure/cosmos';
import type { DeliveryEvent } from '../../domain/delivery/events';
import type { AppendOutcome, DeliveryEventStore } from '../../domain/delivery/ports';
import { stableStringify } from '../../domain/delivery/request';
import { isConflict } from './cosmos-errors';

type EventDocument = ItemDefinition & DeliveryEvent & { id: string };

const SYSTEM_FIELDS = ['id', '_rid', '_self', '_etag', '_attachments', '_ts', '_lsn'];

export const eventDocumentId = (deliveryId: string, sequence: number): string => `${deliveryId}:${sequence}`;

function eventFromDocument(doc: Record<string, unknown>): DeliveryEvent {
  const event: Record<string, unknown> = { ...doc };
  for (const f of SYSTEM_FIELDS) delete event[f];
  return event as unknown as DeliveryEvent;
}

/** Same event: equal after a JSON round trip, key order aside (what was stored is what was sent). */
const sameEvent = (a: DeliveryEvent, b: DeliveryEvent): boolean => stableStringify(a) === stableStringify(b);

export class CosmosDeliveryEventStore implements DeliveryEventStore {
  constructor(private readonly container: Container) {}

  async append(event: DeliveryEvent): Promise<AppendOutcome> {
    const id = eventDocumentId(event.deliveryId, event.sequence);
    // A JSON round trip gives the exact form Cosmos stores (undefined fields gone), so the
    // duplicate check below compares like with like.
    const doc = { ...(JSON.parse(JSON.stringify(event)) as DeliveryEvent), id } as EventDocument;
    try {
      await this.container.items.create(doc);
      return { outcome: 'appended' };
    } catch (e) {
      if (!isConflict(e)) throw e;
    }
    const { resource } = await this.container.item(id, event.deliveryId).read<Record<string, unknown>>();
    if (!resource)
      throw Object.assign(new Error(`event ${id} reported as existing but not readable`), { transient: true });
    const existing = eventFromDocument(resource);
    return sameEvent(existing, eventFromDocument(doc)) ? { outcome: 'duplicate' } : { outcome: 'conflict', existing };
  }

  async has(deliveryId: string, sequence: number): Promise<boolean> {
    const res = await this.container.item(eventDocumentId(deliveryId, sequence), deliveryId).read();
    return res.resource !== undefined && res.statusCode !== 404;
  }

  async readStream(deliveryId: string): Promise<DeliveryEvent[]> {
    // One partition, one query. The stand-in parses a plain ORDER BY (not OFFSET/LIMIT); the
    // sort in code keeps the promise even where ORDER BY is unavailable.
    const { resources } = await this.container.items
      .query<Record<string, unknown>>(
        {
          query: 'SELECT * FROM c WHERE c.deliveryId = @d ORDER BY c.sequence ASC',
          parameters: [{ name: '@d', value: deliveryId }],
        },
        { partitionKey: deliveryId },
      )
      .fetchAll();
    return resources.map(eventFromDocument).sort((a, b) => a.sequence - b.sequence);
  }
}
