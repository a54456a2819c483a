/**
 * Drone reservations on Cosmos DB: one document per reserved drone (id = droneId, so a create is
 * exclusive) and one claim document per delivery that says which drones its attempts went for,
 * which one it holds, and whether it was released. The protocol and why it holds under any
 * interleaving are described on the class. `heldDrones` answers which drones are held, from one
 * query across the container, so that an assignment can pass over them before it tries any.
 */
import type { Container } from '@azure/cosmos';
import { readDoc } from './cosmos-agents';
import { isConcurrentWrite, isConflict, isNotFound, isPreconditionFailed } from './cosmos-errors';
import { SharedSnapshot } from './shared-snapshot';
import type { SnapshotOptions } from './shared-snapshot';
import type { DroneReservations, HeldDrones, Reservation, ReservationOutcome } from '../../domain/delivery/ports';

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
  readonly #held: SharedSnapshot<ReadonlyMap<string, string>>;

  /** `heldSnapshot`: how long one answer of `heldDrones` serves every assignment (0, the default: each call queries). */
  constructor(
    private readonly c: Container,
    heldSnapshot: SnapshotOptions = {},
  ) {
    this.#held = new SharedSnapshot(() => this.queryHeld(), heldSnapshot);
  }

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

  async heldDrones(options: { readonly fresh?: boolean } = {}): Promise<HeldDrones> {
    const { value, shared } = await this.#held.get(options);
    return { byDrone: value, shared };
  }

  /**
   * One query across the whole container: the reservations only (claims are another kind), two
   * fields each. Its cost grows with the drones held, that is with the deliveries in flight.
   */
  private async queryHeld(): Promise<ReadonlyMap<string, string>> {
    const { resources } = await this.c.items
      .query<Pick<ReservationDoc, 'droneId' | 'deliveryId'>>(
        "SELECT c.droneId, c.deliveryId FROM c WHERE c.kind = 'reservation'",
      )
      .fetchAll();
    return new Map(resources.map((r) => [r.droneId, r.deliveryId]));
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
