/**
 * The agents of the Scheduler-Agent-Supervisor pattern as use cases: Package (create, cancel),
 * Drone scheduler (reserve the nearest available drone exclusively, release), Delivery
 * (schedule with an ETA, cancel, complete). Each is idempotent per delivery id, and each
 * compensation is safe for a step that never happened. Business refusals are values
 * (`ok: false`); exceptions mean "try again".
 */
import { candidateOrder, dronesInReach, EQUALLY_NEAR_M, schedule } from '../../domain/delivery/scheduling';
import type { DroneCandidate } from '../../domain/delivery/scheduling';
import { assertNever } from '../../domain/shared/errors';
import { distanceM } from '../../domain/shared/geo';
import type {
  AssignDroneInput,
  AssignDroneResult,
  CompensationInput,
  CompensationResult,
  CompleteDeliveryInput,
  CompleteDeliveryResult,
  CreatePackageInput,
  CreatePackageResult,
  ScheduleDeliveryInput,
  ScheduleDeliveryResult,
} from './contracts';
import type {
  DeliverySchedules,
  DroneReservations,
  FleetView,
  PackageRecords,
  ReservationOutcome,
} from '../../domain/delivery/ports';

export interface AgentDeps {
  readonly packages: PackageRecords;
  readonly reservations: DroneReservations;
  readonly fleet: FleetView;
  readonly schedules: DeliverySchedules;
  readonly cruiseSpeedMps: number;
  readonly handlingSeconds: number;
  /** How far from the pickup a drone may be to be assigned. */
  readonly maxPickupDistanceM: number;
  /** How old a drone's last report may be for it to be assigned (docs/contract.md §2, `DroneFreshnessMinutes`). */
  readonly droneFreshnessMs: number;
  /** Drones tried per assignment before giving up for this attempt. */
  readonly maxCandidates?: number;
}

export async function createPackage(d: AgentDeps, input: CreatePackageInput): Promise<CreatePackageResult> {
  return d.packages.create(input.deliveryId, input.package, input.at);
}

export async function cancelPackage(d: AgentDeps, input: CompensationInput): Promise<CompensationResult> {
  const undone = await d.packages.cancel(input.deliveryId, input.reason, input.at);
  return undone ? { undone } : {};
}

export async function assignDrone(d: AgentDeps, input: AssignDroneInput): Promise<AssignDroneResult> {
  let inReach: DroneCandidate[] | undefined;
  let shared = false;
  const attempt = (fresh: boolean): Promise<ReservationOutcome> =>
    d.reservations.reserveFor(input.deliveryId, input.at, async () => {
      const [answer, held] = await Promise.all([
        d.fleet.availableDrones({ fresh }),
        d.reservations.heldDrones({ fresh }),
      ]);
      shared = answer.shared || held.shared;
      // Judged at the saga's own time for this step, so a retried attempt sees the fleet as of then.
      inReach = dronesInReach(
        answer.drones,
        input.pickup,
        { now: new Date(input.at), freshnessMs: d.droneFreshnessMs },
        d.maxPickupDistanceM,
      );
      // Drones held for other deliveries are passed over before the tries are picked, so at a
      // spot busier than the tries the free ones beyond them are reached too. A drone held for
      // this delivery goes first: its claim names it anyway, except for a reservation from
      // before claims, which only a try finds (and then no second drone is taken).
      const limit = d.maxCandidates ?? 100;
      const mine: string[] = [];
      const free: DroneCandidate[] = [];
      for (const c of inReach) {
        const holder = held.byDrone.get(c.droneId);
        if (holder === undefined) free.push(c);
        else if (holder === input.deliveryId) mine.push(c.droneId);
      }
      const tries = candidateOrder(free, input.deliveryId, EQUALLY_NEAR_M, limit).map((c) => c.droneId);
      return [...mine, ...tries].slice(0, limit);
    });
  let outcome = await attempt(false);
  // A shared answer may predate a drone that has come free since: "none free" is said only from fresh ones.
  if (outcome.outcome === 'allTaken' && shared) outcome = await attempt(true);
  switch (outcome.outcome) {
    case 'held':
    case 'reserved': {
      const droneId = outcome.reservation.droneId;
      // Where the fleet answer had the drone; read only when it was not in reach of this answer (an earlier attempt's pick).
      const candidate = inReach?.find((c) => c.droneId === droneId);
      const position = candidate?.position ?? (await d.fleet.drone(droneId))?.position;
      const distance = candidate?.distanceM ?? (position ? distanceM(position, input.pickup) : 0);
      return {
        assigned: true,
        droneId,
        distanceToPickupM: Math.round(distance),
        ...(position ? { dronePosition: { lat: position.lat, lon: position.lon } } : {}),
      };
    }
    case 'released':
      return { assigned: false, reason: 'the delivery was released; no drone will be assigned' };
    case 'allTaken':
      return {
        assigned: false,
        reason:
          !inReach || inReach.length === 0
            ? `no drone that reported in the last ${Math.round(d.droneFreshnessMs / 60_000)} min is available within ${Math.round(d.maxPickupDistanceM / 1000)} km`
            : 'every drone in reach is reserved',
      };
    default:
      return assertNever(outcome, 'reservation outcome');
  }
}

export async function releaseDrone(d: AgentDeps, input: CompensationInput): Promise<CompensationResult> {
  const undone = await d.reservations.release(input.deliveryId);
  return undone ? { undone } : {};
}

export async function scheduleDelivery(d: AgentDeps, input: ScheduleDeliveryInput): Promise<ScheduleDeliveryResult> {
  const cancelled = {
    ok: false,
    code: 'DeliveryCancelled',
    reason: 'the delivery was cancelled before it was scheduled',
  } as const;
  // The position the assignment saw; a saga from before assignments passed it reads the drone.
  const dronePosition = input.dronePosition ?? (await d.fleet.drone(input.droneId))?.position;
  const verdict = dronePosition
    ? schedule({
        now: new Date(input.at),
        dronePosition,
        pickup: input.pickup,
        dropoff: input.dropoff,
        ...(input.deadline !== undefined ? { deadline: input.deadline } : {}),
        cruiseSpeedMps: d.cruiseSpeedMps,
        handlingSeconds: d.handlingSeconds,
      })
    : undefined;
  if (verdict?.ok) {
    // Create-if-absent answers with what an earlier attempt stored, or with a cancellation's mark.
    const stored = await d.schedules.createIfAbsent({
      deliveryId: input.deliveryId,
      droneId: input.droneId,
      pickupEta: verdict.pickupEta,
      dropoffEta: verdict.dropoffEta,
      status: 'Scheduled',
    });
    if (stored.status === 'Cancelled') return cancelled;
    return { ok: true, pickupEta: stored.pickupEta, dropoffEta: stored.dropoffEta };
  }
  // It cannot be scheduled now; a schedule an earlier attempt stored still stands.
  const existing = await d.schedules.get(input.deliveryId);
  if (existing?.status === 'Scheduled')
    return { ok: true, pickupEta: existing.pickupEta, dropoffEta: existing.dropoffEta };
  if (existing?.status === 'Cancelled') return cancelled;
  if (!verdict) return { ok: false, code: 'DroneUnknown', reason: `drone ${input.droneId} has no known state` };
  return { ok: false, code: verdict.code, reason: verdict.reason };
}

export async function cancelDeliverySchedule(d: AgentDeps, input: CompensationInput): Promise<CompensationResult> {
  const existing = await d.schedules.get(input.deliveryId);
  await d.schedules.setStatus(input.deliveryId, 'Cancelled');
  return existing?.status === 'Scheduled' ? { undone: input.deliveryId } : {};
}

/** Store requests `completeDelivery` makes at once: it takes as many of the agent bulkhead's permits. */
export const COMPLETE_DELIVERY_STORE_CALLS = 3;

/**
 * The delivery was made: schedule and package are closed and the drone is let go, in one call.
 * The three records belong to three agents and none waits on another, so they are written at
 * once: the call takes the longest of them (the release's two requests), not the sum of four.
 * It fails only once all three have settled, so a retry does not start beside a write of the
 * attempt it retries; what makes any repeat or overlap harmless is that each write only moves its
 * record forward (a status set to Delivered, a package marked only while active, a release
 * through the claim protocol), so it converges from any subset of them already done.
 */
export async function completeDelivery(d: AgentDeps, input: CompleteDeliveryInput): Promise<CompleteDeliveryResult> {
  const [schedule, pkg, drone] = await Promise.allSettled([
    d.schedules.setStatus(input.deliveryId, 'Delivered'),
    d.packages.markDelivered(input.deliveryId, input.at),
    d.reservations.release(input.deliveryId),
  ]);
  const errors = Object.entries({ schedule, package: pkg, 'drone release': drone }).flatMap(([what, o]) =>
    o.status === 'rejected' ? [{ what, reason: o.reason as unknown }] : [],
  );
  if (errors.length === 1) throw errors[0]?.reason;
  if (errors.length > 1) {
    const said = errors.map((e) => `${e.what}: ${e.reason instanceof Error ? e.reason.message : String(e.reason)}`);
    throw new AggregateError(
      errors.map((e) => e.reason),
      `completing ${input.deliveryId} failed: ${said.join('; ')}`,
    );
  }
  const released = drone.status === 'fulfilled' ? drone.value : undefined;
  return released ? { releasedDroneId: released } : {};
}
