/**
 * StatusViewStore on Cosmos DB (`deliveryStatus`, partitioned by /id, per-item TTL enabled by
 * the container's defaultTtl -1): one document per delivery, id = deliveryId, holding the view
 * and, once the delivery is finished, a `ttl` so the view expires. Writes are conditional
 * (create, or replace with If-Match), so two projectors never overwrite each other blindly.
 */
import type { Container } from '@azure/cosmos';
import type { DeliveryStatusView } from '../../domain/delivery/status';
import type { StatusViewStore, VersionedStatusView } from '../../domain/delivery/ports';
import { isConcurrentWrite } from './cosmos-errors';

const VIEW_FIELDS = [
  'deliveryId',
  'ownerId',
  'stage',
  'droneId',
  'lastKnownLocation',
  'failureReason',
  'version',
  'updatedAt',
] as const;

export function viewFromDocument(doc: Record<string, unknown>): DeliveryStatusView {
  const view: Record<string, unknown> = {};
  for (const f of VIEW_FIELDS) if (doc[f] !== undefined && doc[f] !== null) view[f] = doc[f];
  return view as unknown as DeliveryStatusView;
}

export class CosmosStatusViewStore implements StatusViewStore {
  constructor(private readonly container: Container) {}

  async read(deliveryId: string): Promise<VersionedStatusView | undefined> {
    const res = await this.container.item(deliveryId, deliveryId).read<Record<string, unknown>>();
    if (!res.resource || res.statusCode === 404) return undefined;
    const etag = (typeof res.resource._etag === 'string' ? res.resource._etag : undefined) ?? res.etag;
    return { view: viewFromDocument(res.resource), etag };
  }

  async write(view: DeliveryStatusView, expectedEtag: string | undefined, ttlSeconds?: number): Promise<boolean> {
    const doc = { ...view, id: view.deliveryId, ...(ttlSeconds !== undefined ? { ttl: ttlSeconds } : {}) };
    try {
      if (expectedEtag === undefined) await this.container.items.create(doc);
      else
        await this.container
          .item(view.deliveryId, view.deliveryId)
          .replace(doc, { accessCondition: { type: 'IfMatch', condition: expectedEtag } });
      return true;
    } catch (e) {
      if (isConcurrentWrite(e)) return false;
      throw e;
    }
  }
}
