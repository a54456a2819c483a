/**
 * In-memory DeliveryEventStore and StatusViewStore with the Cosmos adapters' semantics: a slot
 * per (deliveryId, sequence) taken by the first writer, values stored as JSON, ETags that change
 * on every write, conditional create/replace. For property tests where the emulators would be
 * too slow for thousands of runs.
 */
import type { DeliveryEvent } from '../../domain/delivery/events';
import type {
  AppendOutcome,
  DeliveryEventStore,
  StatusViewStore,
  VersionedStatusView,
} from '../../domain/delivery/ports';
import type { DeliveryStatusView } from '../../domain/delivery/status';
import { stableStringify } from '../../domain/delivery/request';

const roundTrip = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export class MemoryEventStore implements DeliveryEventStore {
  readonly slots = new Map<string, DeliveryEvent>();

  async append(event: DeliveryEvent): Promise<AppendOutcome> {
    const key = `${event.deliveryId}:${event.sequence}`;
    const existing = this.slots.get(key);
    if (!existing) {
      this.slots.set(key, roundTrip(event));
      return { outcome: 'appended' };
    }
    return stableStringify(existing) === stableStringify(roundTrip(event))
      ? { outcome: 'duplicate' }
      : { outcome: 'conflict', existing };
  }

  async has(deliveryId: string, sequence: number): Promise<boolean> {
    return this.slots.has(`${deliveryId}:${sequence}`);
  }

  async readStream(deliveryId: string): Promise<DeliveryEvent[]> {
    return [...this.slots.values()]
      .filter((e) => e.deliveryId === deliveryId)
      .sort((a, b) => a.sequence - b.sequence)
      .map(roundTrip);
  }
}

export class MemoryViewStore implements StatusViewStore {
  readonly docs = new Map<string, { view: DeliveryStatusView; etag: string; ttl?: number }>();
  private counter = 0;

  async read(deliveryId: string): Promise<VersionedStatusView | undefined> {
    const d = this.docs.get(deliveryId);
    return d ? { view: roundTrip(d.view), etag: d.etag } : undefined;
  }

  async write(view: DeliveryStatusView, expectedEtag: string | undefined, ttlSeconds?: number): Promise<boolean> {
    const current = this.docs.get(view.deliveryId);
    if (expectedEtag === undefined ? current !== undefined : current?.etag !== expectedEtag) return false;
    this.counter += 1;
    this.docs.set(view.deliveryId, {
      view: roundTrip(view),
      etag: `e${this.counter}`,
      ...(ttlSeconds !== undefined ? { ttl: ttlSeconds } : {}),
    });
    return true;
  }
}
