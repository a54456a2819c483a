/**
 * DroneStateStore on Cosmos DB: one document per drone (id = droneId) holding its latest state
 * and an `available` flag the scheduler queries (the time-free rules; freshness is judged when
 * the scheduler reads, against its own clock). Writes are conditional (create, or replace
 * with If-Match on the ETag read), so concurrent or replayed batches cannot regress a drone.
 * Fields other writers may add to the document are carried over untouched. For ingestion the
 * store can answer reads from an instance-local, bounded LRU of the documents it last wrote, so
 * a drone costs one request per batch in steady state: the If-Match on the remembered ETag is
 * what keeps that safe (a 412 forgets the entry and the caller re-reads and re-plans). With
 * `bulkWrites` the conditional writes a batch issues together travel as one bulk request.
 */
import type { Container, ItemDefinition, OperationInput } from '@azure/cosmos';
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
  /**
   * Send the writes issued in one turn of the event loop (a batch writes its drones in parallel)
   * as bulk requests of up to BULK_MAX_OPERATIONS, each operation keeping its own condition:
   * Cosmos DB judges every operation of a bulk request on its own (not atomically), so a create
   * answers 409 and a replace 412 exactly as alone. An operation answered anything else (a 429,
   * a 5xx), or a bulk request that fails as a whole, is sent again alone, with the SDK's retries.
   * Uses `items.bulk`, not `executeBulkOperations`: the latter waits a fixed second for a batch to
   * fill (bulk is built for throughput, not latency; azure-cosmos-dotnet-v3 #1277, #2443), which
   * would add a second to every invocation.
   */
  readonly bulkWrites?: boolean;
  /** Called once per operation written, bulk or not, with its request charge. */
  readonly onRequest?: (kind: 'read' | 'write', requestCharge: number) => void;
}

/** The SDK refuses a bulk call with more operations than this for one partition key range. */
export const BULK_MAX_OPERATIONS = 100;

interface QueuedWrite {
  readonly doc: DroneDocument;
  readonly expectedVersion: string | undefined;
  readonly settle: (written: Promise<boolean>) => void;
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
  private readonly bulkWrites: boolean;
  private queued: QueuedWrite[] = [];

  constructor(
    private readonly container: Container,
    options: DroneStoreOptions | ((kind: 'read' | 'write', requestCharge: number) => void) = {},
  ) {
    const o = typeof options === 'function' ? { onRequest: options } : options;
    this.cachedReads = o.cachedReads ?? false;
    this.capacity = Math.max(1, o.capacity ?? DEFAULT_DRONE_CACHE_CAPACITY);
    this.onRequest = o.onRequest ?? (() => undefined);
    this.bulkWrites = o.bulkWrites ?? false;
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
    if (!this.bulkWrites) return this.writeOne(doc, expectedVersion);
    return new Promise<boolean>((resolve, reject) => {
      if (this.queued.length === 0) setImmediate(() => this.flush());
      this.queued.push({ doc, expectedVersion, settle: (written) => written.then(resolve, reject) });
    });
  }

  private async writeOne(doc: DroneDocument, expectedVersion: string | undefined): Promise<boolean> {
    const droneId = doc.id;
    try {
      const res =
        expectedVersion === undefined
          ? await this.container.items.create(doc)
          : await this.container
              .item(droneId, droneId)
              .replace(doc, { accessCondition: { type: 'IfMatch', condition: expectedVersion } });
      this.onRequest('write', res.requestCharge ?? 0);
      this.written(doc, res.resource?._etag ?? res.etag, res.resource);
      return true;
    } catch (e) {
      this.remembered.delete(droneId);
      // 409: created by someone else meanwhile; 412: replaced by someone else meanwhile; 404:
      // deleted meanwhile. Either way the caller reads again and plans against what is there.
      if (isConcurrentWrite(e) || isNotFound(e)) return false;
      throw e;
    }
  }

  private written(doc: DroneDocument, etag: string | undefined, stored: object | undefined): void {
    if (etag) this.remember({ ...doc, ...stored, _etag: etag });
    else this.remembered.delete(doc.id);
  }

  /** Sends what was queued, in bulk requests of up to BULK_MAX_OPERATIONS. */
  private flush(): void {
    const all = this.queued;
    this.queued = [];
    for (let i = 0; i < all.length; i += BULK_MAX_OPERATIONS) {
      const chunk = all.slice(i, i + BULK_MAX_OPERATIONS);
      // Whatever goes wrong unexpectedly fails the writes still waiting, never leaves them hanging
      // (settling a write already settled changes nothing).
      this.sendBulk(chunk).catch((e: unknown) => {
        for (const w of chunk) w.settle(Promise.reject(e instanceof Error ? e : new Error(String(e))));
      });
    }
  }

  private async sendBulk(writes: readonly QueuedWrite[]): Promise<void> {
    const operations: OperationInput[] = writes.map(({ doc, expectedVersion }) =>
      expectedVersion === undefined
        ? { operationType: 'Create', partitionKey: doc.id, resourceBody: doc }
        : { operationType: 'Replace', id: doc.id, partitionKey: doc.id, ifMatch: expectedVersion, resourceBody: doc },
    );
    let results: Awaited<ReturnType<Container['items']['bulk']>>;
    try {
      // Deprecated in favour of executeBulkOperations, which waits a second per call: see `bulkWrites`.
      results = await this.container.items.bulk(operations, { continueOnError: true });
    } catch {
      for (const w of writes) w.settle(this.writeOne(w.doc, w.expectedVersion));
      return;
    }
    writes.forEach((w, i) => {
      const r = results[i];
      const status = r?.statusCode ?? 0;
      if (r && status >= 200 && status < 300) {
        this.onRequest('write', r.requestCharge ?? 0);
        this.written(w.doc, r.eTag ?? (r.resourceBody as { _etag?: string } | undefined)?._etag, r.resourceBody);
        w.settle(Promise.resolve(true));
      } else if (status === 409 || status === 412 || status === 404) {
        // As alone: a write refused by its condition is the caller's cue to re-read.
        this.remembered.delete(w.doc.id);
        w.settle(Promise.resolve(false));
      } else {
        w.settle(this.writeOne(w.doc, w.expectedVersion));
      }
    });
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
