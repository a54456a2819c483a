/**
 * DroneStateStore on Cosmos DB: one document per drone (id = droneId) holding its latest state
 * and an `available` flag the scheduler queries (the time-free rules; freshness is judged when
 * the scheduler reads, against its own clock). Writes are conditional (create, or replace
 * with If-Match on the ETag read), so concurrent or replayed batches cannot regress a drone.
 * Fields other writers may add to the document are carried over untouched. For ingestion the
 * store can answer reads from an instance-local, bounded LRU of the documents it last wrote, so
 * a drone costs one request per batch in steady state: the If-Match on the remembered ETag is
 * what keeps that safe (a 412 forgets the entry and the caller re-reads and re-plans).
 */
import type { Container, ItemDefinition } from '@azure/cosmos';
import { isAssignable } from '../../domain/telemetry/drone-state';
import type { DroneState } from '../../domain/telemetry/drone-state';
import type { DroneStateStore, VersionedDroneState } from '../../domain/telemetry/ports';
import { isConcurrentWrite, isNotFound } from './cosmos-errors';

export interface DroneDocument extends ItemDefinition, DroneState {
  id: string;
  available: boolean;
  _etag?: string;
}

const SYSTEM_FIELDS = ['_rid', '_self', '_etag', '_attachments', '_ts', '_lsn'] as const;
/** What a write does not carry over from the document it replaces. */
const NOT_CARRIED: ReadonlySet<string> = new Set<string>([...SYSTEM_FIELDS, 'deliveryId']);

export function stateFromDocument(doc: DroneDocument): DroneState {
  return {
    droneId: doc.droneId,
    status: doc.status,
    position: doc.position,
    batteryPct: doc.batteryPct,
    speedMps: doc.speedMps,
    sequence: doc.sequence,
    reportedAt: doc.reportedAt,
    ...(doc.deliveryId !== undefined && doc.deliveryId !== null ? { deliveryId: doc.deliveryId } : {}),
  };
}

export interface DroneStoreOptions {
  /**
   * Serve reads from the documents this instance last read or wrote, instead of asking Cosmos.
   * For ingestion only: each partition's drones land on one instance, so its own last write is
   * nearly always current, and a stale entry costs a 412 (then a real read), never a wrong write.
   */
  readonly cachedReads?: boolean;
  /** Drones remembered, least recently used dropped first. */
  readonly capacity?: number;
  readonly onRequest?: (kind: 'read' | 'write', requestCharge: number) => void;
}

export const DEFAULT_DRONE_CACHE_CAPACITY = 10_000;

export class CosmosDroneStateStore implements DroneStateStore {
  /**
   * Each drone's raw document as this instance last read or wrote it, by drone id, in LRU order.
   * Replaces start from it, so fields this store does not own survive exactly as they were in the
   * version replaced; with `cachedReads` it is also what `read` answers.
   */
  private readonly remembered = new Map<string, DroneDocument>();
  private readonly cachedReads: boolean;
  private readonly capacity: number;
  private readonly onRequest: (kind: 'read' | 'write', requestCharge: number) => void;

  constructor(
    private readonly container: Container,
    options: DroneStoreOptions | ((kind: 'read' | 'write', requestCharge: number) => void) = {},
  ) {
    const o = typeof options === 'function' ? { onRequest: options } : options;
    this.cachedReads = o.cachedReads ?? false;
    this.capacity = Math.max(1, o.capacity ?? DEFAULT_DRONE_CACHE_CAPACITY);
    this.onRequest = o.onRequest ?? (() => undefined);
  }

  /** Drones currently remembered (bounded by `capacity`). */
  get size(): number {
    return this.remembered.size;
  }

  async read(droneId: string): Promise<VersionedDroneState | undefined> {
    if (this.cachedReads) {
      const doc = this.recall(droneId);
      if (doc?._etag) return { state: stateFromDocument(doc), version: doc._etag };
    }
    const res = await this.container.item(droneId, droneId).read<DroneDocument>();
    this.onRequest('read', res.requestCharge ?? 0);
    if (!res.resource || res.statusCode === 404) {
      this.remembered.delete(droneId);
      return undefined;
    }
    const version = res.resource._etag ?? res.etag;
    this.remember({ ...res.resource, _etag: version });
    return { state: stateFromDocument(res.resource), version };
  }

  async write(next: DroneState, expectedVersion: string | undefined): Promise<boolean> {
    const droneId = next.droneId;
    const previous = this.remembered.get(droneId);
    // Replacing without the document being replaced would drop other writers' fields: treat it as
    // a conflict, so the caller reads again (this happens only if it was evicted meanwhile).
    if (expectedVersion !== undefined && previous?._etag !== expectedVersion) {
      this.remembered.delete(droneId);
      return false;
    }
    // Other writers' fields carry over; system properties and the old delivery do not. Copied
    // field by field rather than deleted from a copy, which keeps this hot object fast.
    const base: Record<string, unknown> = {};
    if (previous) for (const [key, value] of Object.entries(previous)) if (!NOT_CARRIED.has(key)) base[key] = value;
    const doc: DroneDocument = { ...base, ...next, id: droneId, available: isAssignable(next) };
    try {
      const res =
        expectedVersion === undefined
          ? await this.container.items.create(doc)
          : await this.container
              .item(droneId, droneId)
              .replace(doc, { accessCondition: { type: 'IfMatch', condition: expectedVersion } });
      this.onRequest('write', res.requestCharge ?? 0);
      const etag = res.resource?._etag ?? res.etag;
      if (etag) this.remember({ ...doc, ...res.resource, _etag: etag });
      else this.remembered.delete(droneId);
      return true;
    } catch (e) {
      this.remembered.delete(droneId);
      // 409: created by someone else meanwhile; 412: replaced by someone else meanwhile; 404:
      // deleted meanwhile. Either way the caller reads again and plans against what is there.
      if (isConcurrentWrite(e) || isNotFound(e)) return false;
      throw e;
    }
  }

  private recall(droneId: string): DroneDocument | undefined {
    const doc = this.remembered.get(droneId);
    if (doc) {
      this.remembered.delete(droneId);
      this.remembered.set(droneId, doc);
    }
    return doc;
  }

  private remember(doc: DroneDocument): void {
    this.remembered.delete(doc.id);
    this.remembered.set(doc.id, doc);
    while (this.remembered.size > this.capacity) {
      const oldest = this.remembered.keys().next();
      if (oldest.done) break;
      this.remembered.delete(oldest.value);
    }
  }
}
