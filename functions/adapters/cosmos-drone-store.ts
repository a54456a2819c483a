/**
 * DroneStateStore on Cosmos DB: one document per drone (id = droneId) holding its latest state
 * and an `available` flag the scheduler queries (the time-free rules; freshness is judged when
 * the scheduler reads, against its own clock). Writes are conditional (create, or replace
 * with If-Match on the ETag read), so concurrent or replayed batches cannot regress a drone.
 * Fields other writers may add to the document are carried over untouched.
 */
import type { Container, ItemDefinition } from '@azure/cosmos';
import { isAssignable } from '../../domain/telemetry/drone-state';
import type { DroneState } from '../../domain/telemetry/drone-state';
import type { DroneStateStore, VersionedDroneState } from '../../domain/telemetry/ports';
import { isConcurrentWrite } from './cosmos-errors';

export interface DroneDocument extends ItemDefinition, DroneState {
  id: string;
  available: boolean;
  _etag?: string;
}

const SYSTEM_FIELDS = ['_rid', '_self', '_etag', '_attachments', '_ts', '_lsn'] as const;

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

export class CosmosDroneStateStore implements DroneStateStore {
  /**
   * Raw documents by ETag, so a replace keeps fields this store does not own exactly as they
   * were in the version it replaces. Bounded: entries are dropped on write or when it fills.
   */
  private readonly byVersion = new Map<string, DroneDocument>();
  private static readonly MAX_REMEMBERED = 10_000;

  constructor(
    private readonly container: Container,
    private readonly onRequest: (kind: 'read' | 'write', requestCharge: number) => void = () => undefined,
  ) {}

  async read(droneId: string): Promise<VersionedDroneState | undefined> {
    const res = await this.container.item(droneId, droneId).read<DroneDocument>();
    this.onRequest('read', res.requestCharge ?? 0);
    if (!res.resource || res.statusCode === 404) return undefined;
    const version = res.resource._etag ?? res.etag;
    if (this.byVersion.size >= CosmosDroneStateStore.MAX_REMEMBERED) {
      const oldest = this.byVersion.keys().next();
      if (!oldest.done) this.byVersion.delete(oldest.value);
    }
    this.byVersion.set(version, res.resource);
    return { state: stateFromDocument(res.resource), version };
  }

  async write(next: DroneState, expectedVersion: string | undefined): Promise<boolean> {
    const previous = expectedVersion ? this.byVersion.get(expectedVersion) : undefined;
    if (expectedVersion) this.byVersion.delete(expectedVersion);
    const base: Record<string, unknown> = { ...previous };
    for (const f of SYSTEM_FIELDS) delete base[f];
    delete base.deliveryId;
    const doc: DroneDocument = { ...base, ...next, id: next.droneId, available: isAssignable(next) };
    try {
      if (expectedVersion === undefined) {
        const res = await this.container.items.create(doc);
        this.onRequest('write', res.requestCharge ?? 0);
      } else {
        const res = await this.container
          .item(next.droneId, next.droneId)
          .replace(doc, { accessCondition: { type: 'IfMatch', condition: expectedVersion } });
        this.onRequest('write', res.requestCharge ?? 0);
      }
      return true;
    } catch (e) {
      if (isConcurrentWrite(e)) return false;
      throw e;
    }
  }
}
