/**
 * The agents' records on Cosmos DB, one container per bounded context: packages, the fleet view,
 * delivery schedules and intakes (drone reservations: cosmos-reservations.ts). Writes are create-if-absent or ETag-guarded
 * replaces, so retries and concurrent callers converge; compensations write a mark when there
 * was nothing to undo, so a late forward step finds it and stops.
 */
import type { Container, PatchOperation } from '@azure/cosmos';
import type { PackageSize } from '../../domain/delivery/events';
import type { DroneState } from '../../domain/telemetry/drone-state';
import { stateFromDocument } from './cosmos-drone-store';
import type { DroneDocument } from './cosmos-drone-store';
import { isConcurrentWrite, isConflict, isNotFound, isPreconditionFailed } from './cosmos-errors';
import { SharedSnapshot } from './shared-snapshot';
import type { SnapshotOptions } from './shared-snapshot';
import type {
  CreatePackageOutcome,
  DeliverySchedules,
  FleetAnswer,
  FleetView,
  IntakeRecord,
  IntakeRecords,
  PackageRecords,
  ScheduleRecord,
} from '../../domain/delivery/ports';
import { NOT_STARTED, closedUnstarted } from '../../domain/delivery/intake-record';

/** A point read; undefined when there is no such document. */
export async function readDoc<T>(c: Container, id: string): Promise<(T & { _etag: string }) | undefined> {
  try {
    const res = await c.item(id, id).read<T & { _etag: string }>();
    return res.resource ?? undefined;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** Read-modify-replace with If-Match, repeated until no other writer interferes; true when it wrote. */
async function update<T extends { id: string }>(
  c: Container,
  id: string,
  change: (current: (T & { _etag: string }) | undefined) => T | undefined,
): Promise<boolean> {
  for (;;) {
    const current = await readDoc<T>(c, id);
    const next = change(current);
    if (next === undefined) return false;
    try {
      if (current)
        await c.item(id, id).replace(next, { accessCondition: { type: 'IfMatch', condition: current._etag } });
      else await c.items.create(next);
      return true;
    } catch (e) {
      if (isConcurrentWrite(e)) continue;
      throw e;
    }
  }
}

/**
 * One conditional patch (Cosmos DB's filter predicate, judged against the stored document in the
 * same write): true when it applied, false when there is no such document (404) or the
 * condition does not hold (412). One request where read-then-replace takes two.
 */
async function patchIf(c: Container, id: string, condition: string, operations: PatchOperation[]): Promise<boolean> {
  return (await patchWhere(c, id, condition, operations)) === 'applied';
}

/** As `patchIf`, telling a missing document (404) from a condition that did not hold (412). */
async function patchWhere(
  c: Container,
  id: string,
  condition: string,
  operations: PatchOperation[],
): Promise<'applied' | 'missing' | 'unmet'> {
  try {
    await c.item(id, id).patch({ condition, operations });
    return 'applied';
  } catch (e) {
    if (isNotFound(e)) return 'missing';
    if (isPreconditionFailed(e)) return 'unmet';
    throw e;
  }
}

interface PackageDoc {
  id: string;
  packageId: string;
  status: 'Active' | 'Cancelled' | 'Delivered';
  /**
   * `status === 'Active'`, kept beside it so that one conditional patch can test it: a boolean
   * predicate means the same on Cosmos DB and on the local stand-in, which lowercases a
   * predicate's string literals. Absent on packages written before it was kept. Every writer
   * sets it with the status; while a deployment rolls, an older instance's cancel leaves it true
   * beside `Cancelled`, which no "delivered" mark can meet: a delivery is either completed or
   * compensated (its outcome is fixed once), so its package is never both marked and cancelled.
   */
  active?: boolean;
  size?: PackageSize;
  weightKg?: number;
  tag?: string;
  createdAt?: string;
  cancelledAt?: string;
  cancelReason?: string;
  deliveredAt?: string;
}

export class CosmosPackageRecords implements PackageRecords {
  constructor(private readonly c: Container) {}

  async create(
    deliveryId: string,
    pkg: { size: PackageSize; weightKg: number; tag?: string },
    at: string,
  ): Promise<CreatePackageOutcome> {
    const doc: PackageDoc = {
      id: deliveryId,
      packageId: `pkg-${deliveryId}`,
      status: 'Active',
      active: true,
      ...pkg,
      createdAt: at,
    };
    try {
      await this.c.items.create(doc);
      return { ok: true, packageId: doc.packageId };
    } catch (e) {
      if (!isConflict(e)) throw e;
    }
    const existing = await readDoc<PackageDoc>(this.c, deliveryId);
    if (existing?.status === 'Cancelled')
      return { ok: false, code: 'PackageCancelled', reason: `package of ${deliveryId} was cancelled` };
    return { ok: true, packageId: existing?.packageId ?? doc.packageId };
  }

  async cancel(deliveryId: string, reason: string, at: string): Promise<string | undefined> {
    let cancelled: string | undefined;
    await update<PackageDoc>(this.c, deliveryId, (cur) => {
      cancelled = undefined;
      if (cur?.status === 'Cancelled' || cur?.status === 'Delivered') return undefined;
      if (cur) cancelled = cur.packageId;
      return {
        ...(cur ?? { id: deliveryId, packageId: `pkg-${deliveryId}` }),
        status: 'Cancelled',
        active: false,
        cancelledAt: at,
        cancelReason: reason,
      };
    });
    return cancelled;
  }

  /**
   * Only an active package: a cancelled or already delivered one stays as it is. One patch
   * conditional on `active`; when it does not apply, a package written before `active` was kept
   * may still be active by its status, so that case is read and replaced by ETag.
   */
  async markDelivered(deliveryId: string, at: string): Promise<void> {
    const marked = await patchIf(this.c, deliveryId, 'FROM c WHERE c.active = true', [
      { op: 'set', path: '/status', value: 'Delivered' },
      { op: 'set', path: '/active', value: false },
      { op: 'set', path: '/deliveredAt', value: at },
    ]);
    if (marked) return;
    await update<PackageDoc>(this.c, deliveryId, (cur) =>
      cur && cur.active === undefined && cur.status === 'Active'
        ? { ...cur, status: 'Delivered', active: false, deliveredAt: at }
        : undefined,
    );
  }
}

export class CosmosFleetView implements FleetView {
  readonly #available: SharedSnapshot<DroneState[]>;

  constructor(
    private readonly c: Container,
    /** How long one answer of the fleet query serves every assignment on this instance. */
    options: SnapshotOptions = {},
  ) {
    this.#available = new SharedSnapshot(() => this.queryAvailable(), options);
  }

  /**
   * The drones that say they are available, as of at most `snapshotMs` ago unless `fresh`. Any
   * answer is a snapshot (a drone may change the moment after it is read); exclusivity comes
   * from the reservations, and freshness is judged by each drone's own report time.
   */
  async availableDrones(options: { readonly fresh?: boolean } = {}): Promise<FleetAnswer> {
    const { value, shared } = await this.#available.get(options);
    return { drones: value, shared };
  }

  /** Only the fields of a drone's state: the documents also carry system and other writers' fields. */
  private async queryAvailable(): Promise<DroneState[]> {
    const { resources } = await this.c.items
      .query<DroneDocument>(
        'SELECT c.droneId, c.status, c.position, c.batteryPct, c.speedMps, c.sequence, c.reportedAt, c.deliveryId FROM c WHERE c.available = true',
      )
      .fetchAll();
    return resources.map(stateFromDocument);
  }

  async drone(droneId: string): Promise<DroneState | undefined> {
    const doc = await readDoc<DroneDocument>(this.c, droneId);
    return doc ? stateFromDocument(doc) : undefined;
  }
}

interface ScheduleDoc extends ScheduleRecord {
  id: string;
}

export class CosmosDeliverySchedules implements DeliverySchedules {
  constructor(private readonly c: Container) {}

  async get(deliveryId: string): Promise<ScheduleRecord | undefined> {
    const d = await readDoc<ScheduleDoc>(this.c, deliveryId);
    return d
      ? {
          deliveryId: d.deliveryId,
          droneId: d.droneId,
          pickupEta: d.pickupEta,
          dropoffEta: d.dropoffEta,
          status: d.status,
        }
      : undefined;
  }

  async createIfAbsent(record: ScheduleRecord): Promise<ScheduleRecord> {
    try {
      await this.c.items.create<ScheduleDoc>({ id: record.deliveryId, ...record });
      return record;
    } catch (e) {
      if (!isConflict(e)) throw e;
    }
    return (await this.get(record.deliveryId)) ?? record;
  }

  /** One atomic patch of the status when there is a schedule; a mark of just the status when not. */
  async setStatus(deliveryId: string, status: 'Cancelled' | 'Delivered'): Promise<void> {
    for (;;) {
      try {
        await this.c.item(deliveryId, deliveryId).patch([{ op: 'set', path: '/status', value: status }]);
        return;
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      try {
        await this.c.items.create<ScheduleDoc>({
          id: deliveryId,
          deliveryId,
          droneId: '',
          pickupEta: '',
          dropoffEta: '',
          status,
        });
        return;
      } catch (e) {
        if (!isConflict(e)) throw e; // created meanwhile: patch that one
      }
    }
  }
}

interface IntakeDoc extends IntakeRecord {
  id: string;
}

const toIntake = (d: IntakeDoc): IntakeRecord => ({
  deliveryId: d.deliveryId,
  ownerId: d.ownerId,
  canonical: d.canonical,
  requestedAt: d.requestedAt,
  active: d.active,
  ...(d.outcome !== undefined ? { outcome: d.outcome } : {}),
  ...(d.failureCode !== undefined ? { failureCode: d.failureCode } : {}),
  ...(d.supervisorRequestedAt !== undefined ? { supervisorRequestedAt: d.supervisorRequestedAt } : {}),
  ...(d.recoveryClaimedAt !== undefined ? { recoveryClaimedAt: d.recoveryClaimedAt } : {}),
  ...(d.sagaStartedAt !== undefined ? { sagaStartedAt: d.sagaStartedAt } : {}),
});

export class CosmosIntakeRecords implements IntakeRecords {
  constructor(private readonly c: Container) {}

  async createOrGet(record: IntakeRecord): Promise<{ created: boolean; record: IntakeRecord }> {
    try {
      await this.c.items.create<IntakeDoc>({ id: record.deliveryId, ...record });
      return { created: true, record };
    } catch (e) {
      if (!isConflict(e)) throw e;
    }
    const existing = await this.get(record.deliveryId);
    if (!existing) throw new Error(`intake ${record.deliveryId} conflicted but cannot be read`);
    return { created: false, record: existing };
  }

  async get(deliveryId: string): Promise<IntakeRecord | undefined> {
    const d = await readDoc<IntakeDoc>(this.c, deliveryId);
    return d ? toIntake(d) : undefined;
  }

  /**
   * One conditional patch while the record is active (the usual case). If it is closed, the
   * record is read, and a never-started close is replaced by this outcome (the start had reached
   * the engine after all); a record reopened between the two is closed. Any other first outcome
   * stands; no record, nothing to close.
   */
  async close(deliveryId: string, outcome: string, failureCode?: string): Promise<void> {
    const patched = await patchWhere(this.c, deliveryId, 'FROM c WHERE c.active = true', [
      { op: 'set', path: '/active', value: false },
      { op: 'set', path: '/outcome', value: outcome },
      ...(failureCode !== undefined ? [{ op: 'set' as const, path: '/failureCode', value: failureCode }] : []),
    ]);
    if (patched !== 'unmet' || outcome === NOT_STARTED) return;
    await update<IntakeDoc>(this.c, deliveryId, (cur) =>
      cur && (cur.active || closedUnstarted(cur))
        ? { ...cur, active: false, outcome, ...(failureCode !== undefined ? { failureCode } : {}) }
        : undefined,
    );
  }

  /**
   * Read, then replace against the ETag read: the mark is a field a patch condition cannot test
   * on the local stand-in (it lower-cases a condition's property names), and the ETag makes a
   * mark (or a reopen) written after the read win.
   */
  async closeUnstarted(deliveryId: string, requestedBy: string): Promise<boolean> {
    return update<IntakeDoc>(this.c, deliveryId, (cur) =>
      cur && cur.active && cur.sagaStartedAt === undefined && cur.requestedAt <= requestedBy
        ? { ...cur, active: false, outcome: NOT_STARTED }
        : undefined,
    );
  }

  async reopen(deliveryId: string, at: string): Promise<void> {
    await update<IntakeDoc>(this.c, deliveryId, (cur) => {
      if (!cur || !(closedUnstarted(cur) || (cur.active && cur.sagaStartedAt === undefined))) return undefined;
      // Reopened for a saga that never started: the next start is checked afresh, once its grace is over.
      const { outcome: _outcome, sagaStartedAt: _started, ...rest } = cur;
      return { ...rest, active: true, requestedAt: at };
    });
  }

  async claimRecovery(deliveryId: string, at: string): Promise<boolean> {
    for (;;) {
      const cur = await readDoc<IntakeDoc>(this.c, deliveryId);
      if (!cur || cur.recoveryClaimedAt !== undefined) return false;
      try {
        await this.c
          .item(deliveryId, deliveryId)
          .replace({ ...cur, recoveryClaimedAt: at }, { accessCondition: { type: 'IfMatch', condition: cur._etag } });
        return true;
      } catch (e) {
        if (isPreconditionFailed(e)) continue;
        throw e;
      }
    }
  }

  async listActive(before: string): Promise<IntakeRecord[]> {
    return this.#activeBefore(before, '');
  }

  async listUnconfirmed(before: string): Promise<IntakeRecord[]> {
    return this.#activeBefore(before, ' AND NOT IS_DEFINED(c.sagaStartedAt)');
  }

  /** Active records requested before `before` that also meet `andWhere` (a fixed clause). */
  async #activeBefore(before: string, andWhere: string): Promise<IntakeRecord[]> {
    const { resources } = await this.c.items
      .query<IntakeDoc>({
        query: `SELECT * FROM c WHERE c.active = true AND c.requestedAt < @before${andWhere}`,
        parameters: [{ name: '@before', value: before }],
      })
      .fetchAll();
    return resources.map(toIntake);
  }

  async markSagaStarted(deliveryId: string, at: string): Promise<void> {
    // Conditioned on `active` only: the local stand-in lower-cases a patch condition's property
    // names, so a condition on `sagaStartedAt` would test a field that does not exist. Two
    // supervisors marking at once both write a time at which the saga had started.
    const patched = await patchWhere(this.c, deliveryId, 'FROM c WHERE c.active = true', [
      { op: 'set', path: '/sagaStartedAt', value: at },
    ]);
    if (patched !== 'unmet') return;
    // Closed as never started by someone who looked before the start: in flight again. A read
    // only off the usual path (the saga closed it already, or it was closed as never started).
    await update<IntakeDoc>(this.c, deliveryId, (cur) => {
      if (!cur || !closedUnstarted(cur)) return undefined;
      const { outcome: _outcome, ...rest } = cur;
      return { ...rest, active: true, sagaStartedAt: at };
    });
  }

  async listStuck(): Promise<IntakeRecord[]> {
    const { resources } = await this.c.items
      .query<IntakeDoc>("SELECT * FROM c WHERE c.failureCode = 'CompensationStuck'")
      .fetchAll();
    return resources.map(toIntake);
  }

  async markSupervised(deliveryId: string, at: string): Promise<void> {
    await update<IntakeDoc>(this.c, deliveryId, (cur) =>
      cur && !cur.supervisorRequestedAt ? { ...cur, supervisorRequestedAt: at } : undefined,
    );
  }

  async countActive(): Promise<number> {
    const { resources } = await this.c.items
      .query<number>('SELECT VALUE COUNT(1) FROM c WHERE c.active = true')
      .fetchAll();
    return resources[0] ?? 0;
  }
}
