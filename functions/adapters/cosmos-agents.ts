/**
 * The agents' records on Cosmos DB, one container per bounded context: packages, drone
 * reservations, delivery schedules and intakes. Writes are create-if-absent or ETag-guarded
 * replaces, so retries and concurrent callers converge; compensations write a mark when there
 * was nothing to undo, so a late forward step finds it and stops.
 */
import type { Container } from '@azure/cosmos';
import type { PackageSize } from '../../domain/delivery/events';
import type { DroneState } from '../../domain/telemetry/drone-state';
import { stateFromDocument } from './cosmos-drone-store';
import type { DroneDocument } from './cosmos-drone-store';
import { isConcurrentWrite, isConflict, isNotFound, isPreconditionFailed } from './cosmos-errors';
import type {
  CreatePackageOutcome,
  DeliverySchedules,
  DroneReservations,
  FleetView,
  IntakeRecord,
  IntakeRecords,
  PackageRecords,
  Reservation,
  ReservationOutcome,
  ScheduleRecord,
} from '../../domain/delivery/ports';

async function readDoc<T>(c: Container, id: string): Promise<(T & { _etag: string }) | undefined> {
  try {
    const res = await c.item(id, id).read<T & { _etag: string }>();
    return res.resource ?? undefined;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** Read-modify-replace with If-Match, repeated until no other writer interferes. */
async function update<T extends { id: string }>(
  c: Container,
  id: string,
  change: (current: (T & { _etag: string }) | undefined) => T | undefined,
): Promise<void> {
  for (;;) {
    const current = await readDoc<T>(c, id);
    const next = change(current);
    if (next === undefined) return;
    try {
      if (current)
        await c.item(id, id).replace(next, { accessCondition: { type: 'IfMatch', condition: current._etag } });
      else await c.items.create(next);
      return;
    } catch (e) {
      if (isConcurrentWrite(e)) continue;
      throw e;
    }
  }
}

interface PackageDoc {
  id: string;
  packageId: string;
  status: 'Active' | 'Cancelled' | 'Delivered';
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
    const doc: PackageDoc = { id: deliveryId, packageId: `pkg-${deliveryId}`, status: 'Active', ...pkg, createdAt: at };
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
        cancelledAt: at,
        cancelReason: reason,
      };
    });
    return cancelled;
  }

  async markDelivered(deliveryId: string, at: string): Promise<void> {
    await update<PackageDoc>(this.c, deliveryId, (cur) =>
      cur && cur.status === 'Active' ? { ...cur, status: 'Delivered', deliveredAt: at } : undefined,
    );
  }
}

interface ReservationDoc {
  id: string;
  kind: 'reservation';
  deliveryId: string;
  droneId: string;
  reservedAt?: string;
}

/**
 * One per delivery, `claim:<deliveryId>` (ids cannot hold a colon, so it never meets a drone
 * id): every drone an attempt for the delivery went for (written *before* that drone's
 * reservation is created, never removed), the one an attempt committed to, and whether the
 * delivery was released.
 */
interface ClaimDoc {
  id: string;
  kind: 'claim';
  deliveryId: string;
  drones: string[];
  droneId?: string;
  reservedAt?: string;
  /** The committed reservation's ETag (reservations never change), so a release deletes it unread. */
  reservationEtag?: string;
  released?: boolean;
}

type Stored<T> = T & { _etag: string };

/** A reservation the delivery holds, with its document's ETag. */
interface Held {
  readonly reservation: Reservation;
  readonly etag: string;
}

/** Rounds of re-reading the claim after losing a write to a concurrent attempt, before giving up. */
const CLAIM_ROUNDS = 20;

const claimId = (deliveryId: string): string => `claim:${deliveryId}`;

/**
 * Reservations are keyed by drone id (id = droneId), which makes them exclusive: creating a
 * second one for the same drone fails. Which drone a delivery holds is found through its claim
 * document, by point reads (no query across partitions).
 *
 * Why this holds under any interleaving of attempts and releases, given that every claim write is
 * conditional (create, replace If-Match, or an atomic patch that changes the ETag), so claim
 * writes are serialised:
 * - A reservation for the delivery exists only for a drone its claim lists, since the drone is
 *   listed before the reservation is created, and drones are never unlisted.
 * - A release first marks the claim released, then deletes the delivery's reservations of every
 *   listed drone. An attempt that created its reservation after that sweep then fails to commit
 *   (the claim changed), reads the mark and deletes its own reservation: nothing stays held.
 * - Of attempts running at once, the first to commit wins; the others see its drone committed and
 *   let go of the drones they reserved meanwhile, so all of them answer with the same drone.
 *
 * On the usual path a first attempt creates the claim unread, reserves, and commits (three
 * writes), and a release marks the claim and deletes the committed reservation by its ETag (two).
 */
export class CosmosDroneReservations implements DroneReservations {
  constructor(private readonly c: Container) {}

  async reserveFor(
    deliveryId: string,
    at: string,
    candidates: () => Promise<readonly string[]>,
  ): Promise<ReservationOutcome> {
    const wanted = await candidates();
    // A delivery's first attempt finds no claim: create it listing the first candidate, unread (a
    // conflict means there is one already: read it and go on from there).
    const first = wanted[0];
    let created = first === undefined ? undefined : await this.list(deliveryId, undefined, first);
    rounds: for (let round = 0; round < CLAIM_ROUNDS; round++) {
      let claim = created ?? (await readDoc<ClaimDoc>(this.c, claimId(deliveryId)));
      const justCreated = created !== undefined;
      created = undefined;
      if (claim?.released) {
        await this.letGo(deliveryId, claim.drones);
        return { outcome: 'released' };
      }
      if (claim && !justCreated) {
        const held = await this.heldFrom(claim);
        if (held === 'changed') continue rounds;
        if (held) return { outcome: 'held', reservation: held.reservation };
      }
      for (const droneId of wanted) {
        if (!claim?.drones.includes(droneId)) {
          claim = await this.list(deliveryId, claim, droneId);
          if (!claim) continue rounds;
        }
        const held = await this.reserve(droneId, deliveryId, at);
        if (!held) continue;
        if (await this.commit(claim, held)) return { outcome: 'reserved', reservation: held.reservation };
        continue rounds;
      }
      // Every candidate is held. If the claim changed meanwhile, a duplicate attempt may have
      // reserved a drone for the delivery: look again before saying none is free.
      const latest = await readDoc<ClaimDoc>(this.c, claimId(deliveryId));
      if (latest && latest._etag !== claim?._etag) continue rounds;
      return { outcome: 'allTaken' };
    }
    throw new Error(`the drone claim of ${deliveryId} kept changing under ${CLAIM_ROUNDS} attempts; try again`);
  }

  async findByDrone(droneId: string): Promise<Reservation | undefined> {
    return (await this.findHeld(droneId))?.reservation;
  }

  async release(deliveryId: string): Promise<string | undefined> {
    const id = claimId(deliveryId);
    for (let round = 0; round < CLAIM_ROUNDS; round++) {
      let claim: Stored<ClaimDoc> | undefined;
      try {
        // Atomic, and it changes the ETag: every attempt's conditional claim write after it fails.
        const res = await this.c.item(id, id).patch<ClaimDoc>([{ op: 'set', path: '/released', value: true }]);
        claim = res.resource ? { ...res.resource, _etag: res.resource._etag ?? res.etag } : undefined;
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      if (!claim) {
        try {
          const mark: ClaimDoc = { id, kind: 'claim', deliveryId, drones: [], released: true };
          await this.c.items.create(mark);
        } catch (e) {
          if (isConflict(e)) continue;
          throw e;
        }
        return (await this.letGo(deliveryId, await this.unclaimed(deliveryId)))[0];
      }
      const committed =
        claim.droneId !== undefined && claim.reservationEtag !== undefined
          ? { droneId: claim.droneId, etag: claim.reservationEtag }
          : undefined;
      const freed = await this.letGo(deliveryId, claim.drones, committed);
      return claim.droneId !== undefined && freed.includes(claim.droneId) ? claim.droneId : freed[0];
    }
    throw new Error(`the drone claim of ${deliveryId} kept changing under ${CLAIM_ROUNDS} attempts; try again`);
  }

  /**
   * Drones reserved for the delivery without a claim: by the version before claims, which found
   * them with this query. Asked only when a delivery without a claim is released (it never got
   * as far as an assignment, or was assigned before the upgrade), so no drone stays held.
   */
  private async unclaimed(deliveryId: string): Promise<string[]> {
    const { resources } = await this.c.items
      .query<ReservationDoc>({
        query: "SELECT c.droneId FROM c WHERE c.kind = 'reservation' AND c.deliveryId = @d",
        parameters: [{ name: '@d', value: deliveryId }],
      })
      .fetchAll();
    return resources.map((r) => r.droneId);
  }

  /**
   * The drone the claim's delivery holds: the committed one (letting go of any other listed one an
   * attempt reserved meanwhile), else a listed one an earlier attempt reserved but did not commit
   * (committed now). `changed`: the claim changed meanwhile, read it again.
   */
  private async heldFrom(claim: Stored<ClaimDoc>): Promise<Held | undefined | 'changed'> {
    const committed = claim.droneId !== undefined ? await this.heldBy(claim.droneId, claim.deliveryId) : undefined;
    if (committed) {
      const others = claim.drones.filter((d) => d !== committed.reservation.droneId);
      if (others.length > 0) await this.letGo(claim.deliveryId, others);
      return committed;
    }
    for (const droneId of claim.drones) {
      const held = await this.heldBy(droneId, claim.deliveryId);
      if (held) return (await this.commit(claim, held)) ? held : 'changed';
    }
    return undefined;
  }

  /** Adds a drone to the claim (creating it); undefined if another writer got there first. */
  private async list(
    deliveryId: string,
    claim: Stored<ClaimDoc> | undefined,
    droneId: string,
  ): Promise<Stored<ClaimDoc> | undefined> {
    try {
      if (!claim) {
        const created: ClaimDoc = { id: claimId(deliveryId), kind: 'claim', deliveryId, drones: [droneId] };
        const res = await this.c.items.create(created);
        return { ...created, _etag: res.etag };
      }
      return await this.replaceClaim({ ...claim, drones: [...claim.drones, droneId] }, claim._etag);
    } catch (e) {
      if (isConcurrentWrite(e)) return undefined;
      throw e;
    }
  }

  /**
   * Records the drone as the delivery's; false if the claim changed since it was read. Then lets
   * go of any other listed drone a duplicate attempt reserved for the delivery and did not commit
   * (it may have died): on the usual path the claim lists only this drone, and nothing is read.
   */
  private async commit(claim: Stored<ClaimDoc>, held: Held): Promise<boolean> {
    const { droneId, reservedAt } = held.reservation;
    try {
      await this.replaceClaim({ ...claim, droneId, reservedAt, reservationEtag: held.etag }, claim._etag);
    } catch (e) {
      if (isPreconditionFailed(e) || isNotFound(e)) return false;
      throw e;
    }
    const others = claim.drones.filter((d) => d !== droneId);
    if (others.length > 0) await this.letGo(claim.deliveryId, others);
    return true;
  }

  private async replaceClaim(next: ClaimDoc & { _etag?: string }, etag: string): Promise<Stored<ClaimDoc>> {
    const { _etag: _old, ...body } = next;
    const res = await this.c
      .item(body.id, body.id)
      .replace<ClaimDoc>(body, { accessCondition: { type: 'IfMatch', condition: etag } });
    return { ...body, _etag: res.etag };
  }

  /**
   * Creates the drone's reservation for the delivery. On a conflict the drone may be the
   * delivery's already (an earlier or a duplicate attempt reserved it), and that counts too.
   */
  private async reserve(droneId: string, deliveryId: string, at: string): Promise<Held | undefined> {
    const doc: ReservationDoc = { id: droneId, kind: 'reservation', deliveryId, droneId, reservedAt: at };
    try {
      const res = await this.c.items.create<ReservationDoc>(doc);
      return { reservation: toReservation(doc), etag: res.etag };
    } catch (e) {
      if (!isConflict(e)) throw e;
    }
    return this.heldBy(droneId, deliveryId);
  }

  private async findHeld(droneId: string): Promise<Held | undefined> {
    const r = await readDoc<ReservationDoc>(this.c, droneId);
    return r?.kind === 'reservation' ? { reservation: toReservation(r), etag: r._etag } : undefined;
  }

  private async heldBy(droneId: string, deliveryId: string): Promise<Held | undefined> {
    const held = await this.findHeld(droneId);
    return held?.reservation.deliveryId === deliveryId ? held : undefined;
  }

  /**
   * Deletes the delivery's reservations of these drones; resolves the drones it let go of. The
   * committed one, when its ETag is known, is deleted unread (a 412 means it is no longer that
   * document, so it is read like the others: after a stand-in restart, ETags are new).
   */
  private async letGo(
    deliveryId: string,
    drones: readonly string[],
    committed?: { readonly droneId: string; readonly etag: string },
  ): Promise<string[]> {
    const freed: string[] = [];
    for (const droneId of drones) {
      if (droneId === committed?.droneId) {
        const outcome = await this.deleteIf(droneId, committed.etag);
        if (outcome === 'deleted') freed.push(droneId);
        if (outcome !== 'changed') continue;
      }
      const held = await this.heldBy(droneId, deliveryId);
      if (held && (await this.deleteIf(droneId, held.etag)) === 'deleted') freed.push(droneId);
    }
    return freed;
  }

  private async deleteIf(droneId: string, etag: string): Promise<'deleted' | 'gone' | 'changed'> {
    try {
      await this.c.item(droneId, droneId).delete({ accessCondition: { type: 'IfMatch', condition: etag } });
      return 'deleted';
    } catch (e) {
      if (isNotFound(e)) return 'gone';
      if (isPreconditionFailed(e)) return 'changed';
      throw e;
    }
  }
}

const toReservation = (r: ReservationDoc): Reservation => ({
  droneId: r.droneId,
  deliveryId: r.deliveryId,
  reservedAt: r.reservedAt ?? '',
});

export class CosmosFleetView implements FleetView {
  constructor(private readonly c: Container) {}

  async availableDrones(): Promise<DroneState[]> {
    const { resources } = await this.c.items
      .query<DroneDocument>('SELECT * FROM c WHERE c.available = true')
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

  async close(deliveryId: string, outcome: string, failureCode?: string): Promise<void> {
    await update<IntakeDoc>(this.c, deliveryId, (cur) =>
      cur && cur.active
        ? { ...cur, active: false, outcome, ...(failureCode !== undefined ? { failureCode } : {}) }
        : undefined,
    );
  }

  async reopen(deliveryId: string): Promise<void> {
    await update<IntakeDoc>(this.c, deliveryId, (cur) => {
      if (!cur || cur.active) return undefined;
      const { outcome: _outcome, ...rest } = cur;
      return { ...rest, active: true };
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
    const { resources } = await this.c.items
      .query<IntakeDoc>({
        query: 'SELECT * FROM c WHERE c.active = true AND c.requestedAt < @before',
        parameters: [{ name: '@before', value: before }],
      })
      .fetchAll();
    return resources.map(toIntake);
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
