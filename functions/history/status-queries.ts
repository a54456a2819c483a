/**
 * Status inquiry (docs/contract.md §1): the delivery status from its view, the history from the event
 * store, the drone state from ingestion's `drones` documents. Each answer is one point read or
 * one single-partition query, never a replay; visibility is decided here from the caller and
 * the delivery's owner, so a delivery the caller may not see is indistinguishable from one
 * that does not exist.
 */
import { canRead, canReadFleet } from '../../domain/shared/caller';
import type { Caller } from '../../domain/shared/caller';
import { err, ok, validationFailed } from '../../domain/shared/errors';
import type { DomainError, Result } from '../../domain/shared/errors';
import { isValidId } from '../../domain/shared/ids';
import type { DeliveryEventOf, DeliveryEventType } from '../../domain/delivery/events';
import type {
  DeliveryEventStore,
  DroneReservations,
  StatusViewStore,
  VersionedStatusView,
} from '../../domain/delivery/ports';
import { gaplessPrefix } from '../../domain/delivery/status';
import { isStale } from '../../domain/telemetry/drone-state';
import type { DroneState } from '../../domain/telemetry/drone-state';
import type { DroneStateStore } from '../../domain/telemetry/ports';

export interface StatusQueryDeps {
  readonly views: StatusViewStore;
  readonly events: DeliveryEventStore;
  readonly drones: DroneStateStore;
  readonly reservations: Pick<DroneReservations, 'findByDrone'>;
  readonly droneFreshnessMs: number;
  readonly now: () => Date;
}

export type HistoryEntry = {
  [K in DeliveryEventType]: Pick<DeliveryEventOf<K>, 'eventId' | 'type' | 'sequence' | 'occurredAt' | 'data'>;
}[DeliveryEventType];

export interface DeliveryHistory {
  readonly deliveryId: string;
  readonly events: readonly HistoryEntry[];
}

export interface DroneView {
  readonly droneId: string;
  readonly status: DroneState['status'];
  readonly position: DroneState['position'];
  readonly batteryPct: number;
  readonly sequence: number;
  readonly reportedAt: string;
  readonly deliveryId?: string;
  /** The last accepted report is older than `DroneFreshnessMinutes`: the drone is not assigned until it reports again. */
  readonly stale: boolean;
  /** The delivery holding the drone's reservation, while one does (from assignment until release). */
  readonly reservedFor?: string;
}

const notFound = (what: string): DomainError => ({ code: 'NotFound', message: `${what} was not found.` });

/** Ids come from the route: anything but 1-64 of [A-Za-z0-9_-] is bad input, never a read. */
export function checkId(name: 'deliveryId' | 'droneId', value: unknown): Result<string> {
  if (isValidId(value)) return ok(value);
  return err(
    validationFailed(`The ${name} is not valid.`, [
      { path: `/${name}`, message: 'must be 1-64 characters of [A-Za-z0-9_-]' },
    ]),
  );
}

export async function getDeliveryStatus(
  caller: Caller,
  deliveryId: string,
  deps: StatusQueryDeps,
): Promise<Result<VersionedStatusView>> {
  const stored = await deps.views.read(deliveryId);
  if (!stored || !canRead(caller, stored.view.ownerId)) return err(notFound(`Delivery ${deliveryId}`));
  return ok(stored);
}

/**
 * The stored stream's gapless prefix: the contract promises 1, 2, 3, … without gaps or
 * duplicates, so an event that arrived ahead of a missing one is shown once the gap is filled,
 * exactly as the status view does. The owner is read off the first event (DeliveryRequested).
 */
export async function getDeliveryHistory(
  caller: Caller,
  deliveryId: string,
  deps: StatusQueryDeps,
): Promise<Result<DeliveryHistory>> {
  const events = gaplessPrefix(await deps.events.readStream(deliveryId));
  const first = events[0];
  if (!first || first.type !== 'DeliveryRequested' || !canRead(caller, first.data.ownerId))
    return err(notFound(`Delivery ${deliveryId}`));
  return ok({
    deliveryId,
    events: events.map(
      (e) =>
        ({
          eventId: e.eventId,
          type: e.type,
          sequence: e.sequence,
          occurredAt: e.occurredAt,
          data: e.data,
        }) as HistoryEntry,
    ),
  });
}

export async function getDrone(caller: Caller, droneId: string, deps: StatusQueryDeps): Promise<Result<DroneView>> {
  // Fleet data is for operations roles; the check comes before the read, so it reveals nothing.
  if (!canReadFleet(caller))
    return err({
      code: 'Forbidden',
      message: 'Drone state is visible to Deliveries.Admin and Deliveries.Reader only.',
    });
  const [stored, reservation] = await Promise.all([deps.drones.read(droneId), deps.reservations.findByDrone(droneId)]);
  if (!stored) return err(notFound(`Drone ${droneId}`));
  const s = stored.state;
  return ok({
    droneId: s.droneId,
    status: s.status,
    position: { lat: s.position.lat, lon: s.position.lon, altitudeM: s.position.altitudeM },
    batteryPct: s.batteryPct,
    sequence: s.sequence,
    reportedAt: s.reportedAt,
    ...(s.deliveryId !== undefined ? { deliveryId: s.deliveryId } : {}),
    stale: isStale(s, deps.now(), deps.droneFreshnessMs),
    ...(reservation ? { reservedFor: reservation.deliveryId } : {}),
  });
}

/** A strong HTTP entity tag from a store's concurrency token (Cosmos quotes its own; the stand-in does not). */
export function entityTag(token: string): string {
  return token.startsWith('"') || token.startsWith('W/"') ? token : `"${token}"`;
}

/** RFC 9110 If-None-Match for GET: weak comparison, `*` matches any current representation. */
export function matchesIfNoneMatch(header: string | null, etag: string): boolean {
  if (!header) return false;
  const opaque = (t: string): string => t.trim().replace(/^W\//, '');
  const current = opaque(etag);
  return header.split(',').some((t) => t.trim() === '*' || opaque(t) === current);
}
