/**
 * The agents' decisions: which drone to reserve (the nearest available one), and when a
 * delivery can be done (ETA from distances and a cruise speed), including the verdict that a
 * requested deadline cannot be met.
 */
import { distanceM } from '../shared/geo';
import type { LatLon } from '../shared/geo';
import { isAvailable } from '../telemetry/drone-state';
import type { DroneState } from '../telemetry/drone-state';

export interface DroneCandidate {
  readonly droneId: string;
  readonly distanceM: number;
}

/** When availability is judged: the drones' reports must be at most `freshnessMs` old at `now`. */
export interface Freshness {
  readonly now: Date;
  readonly freshnessMs: number;
}

/**
 * Available drones within reach of the pickup, nearest first (ties by id, so the choice is
 * deterministic). A drone beyond `maxDistanceM` could not get there and back on one charge; a
 * drone whose last report is too old may no longer be where it said, or there at all.
 */
export function rankDrones(
  drones: readonly DroneState[],
  pickup: LatLon,
  freshness: Freshness,
  maxDistanceM = Number.POSITIVE_INFINITY,
): DroneCandidate[] {
  return drones
    .filter((d) => isAvailable(d, freshness.now, freshness.freshnessMs))
    .map((d) => ({ droneId: d.droneId, distanceM: distanceM(d.position, pickup) }))
    .filter((c) => c.distanceM <= maxDistanceM)
    .sort((a, b) => a.distanceM - b.distanceM || (a.droneId < b.droneId ? -1 : a.droneId > b.droneId ? 1 : 0));
}

export interface ScheduleInput {
  readonly now: Date;
  readonly dronePosition: LatLon;
  readonly pickup: LatLon;
  readonly dropoff: LatLon;
  readonly deadline?: string;
  readonly cruiseSpeedMps: number;
  /** Loading and unloading time at each end. */
  readonly handlingSeconds: number;
}

export type ScheduleVerdict =
  | { readonly ok: true; readonly pickupEta: string; readonly dropoffEta: string }
  | { readonly ok: false; readonly code: 'DeadlineUnreachable'; readonly reason: string; readonly dropoffEta: string };

export function schedule(input: ScheduleInput): ScheduleVerdict {
  const toPickupS = distanceM(input.dronePosition, input.pickup) / input.cruiseSpeedMps + input.handlingSeconds;
  const toDropoffS = distanceM(input.pickup, input.dropoff) / input.cruiseSpeedMps + input.handlingSeconds;
  const pickupEta = new Date(input.now.getTime() + toPickupS * 1000);
  const dropoffEta = new Date(pickupEta.getTime() + toDropoffS * 1000);
  if (input.deadline !== undefined && dropoffEta.getTime() > Date.parse(input.deadline)) {
    return {
      ok: false,
      code: 'DeadlineUnreachable',
      reason: `earliest drop-off ${dropoffEta.toISOString()} is after the deadline ${input.deadline}`,
      dropoffEta: dropoffEta.toISOString(),
    };
  }
  return { ok: true, pickupEta: pickupEta.toISOString(), dropoffEta: dropoffEta.toISOString() };
}
