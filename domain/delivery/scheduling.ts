/**
 * The agents' decisions: which drone to reserve (the nearest available one, with deliveries
 * spread over the drones about equally near), and when a delivery can be done (ETA from
 * distances and a cruise speed), including the verdict that a requested deadline cannot be met.
 */
import { distanceM } from '../shared/geo';
import type { LatLon } from '../shared/geo';
import { isAvailable } from '../telemetry/drone-state';
import type { DroneState } from '../telemetry/drone-state';

export interface DroneCandidate {
  readonly droneId: string;
  readonly distanceM: number;
  /** Where the drone reported it was (what the distance is from). */
  readonly position: LatLon;
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
    .map((d) => ({ droneId: d.droneId, distanceM: distanceM(d.position, pickup), position: d.position }))
    .filter((c) => c.distanceM <= maxDistanceM)
    .sort((a, b) => a.distanceM - b.distanceM || (a.droneId < b.droneId ? -1 : a.droneId > b.droneId ? 1 : 0));
}

/**
 * Drones whose distance to the pickup is within this margin of the nearest one's are equally
 * good: the difference is seconds of flight.
 */
export const EQUALLY_NEAR_M = 200;

/**
 * The order in which one delivery tries to reserve the ranked drones. The drones about as near as
 * the nearest one (within `equallyNearM`) come first, in an order of their own for each delivery
 * (a hash of delivery and drone ids), then the rest nearest first. Without it every delivery
 * requested at one spot races for the same nearest drone, so the k-th delivery loses k-1 races
 * before it reserves one: n deliveries make ~n²/2 reservation attempts instead of ~n. The order
 * is a pure function of its input, so a retried attempt tries the same drones in the same order.
 */
export function candidateOrder(
  ranked: readonly DroneCandidate[],
  deliveryId: string,
  equallyNearM = EQUALLY_NEAR_M,
): DroneCandidate[] {
  if (ranked.length === 0) return [];
  const limit = ranked.reduce((m, c) => Math.min(m, c.distanceM), Number.POSITIVE_INFINITY) + equallyNearM;
  const near = ranked
    .filter((c) => c.distanceM <= limit)
    .map((c) => ({ c, key: spreadHash(`${deliveryId}\u0000${c.droneId}`) }))
    .sort((a, b) => a.key - b.key || byId(a.c, b.c))
    .map((k) => k.c);
  const rest = ranked.filter((c) => c.distanceM > limit).sort((a, b) => a.distanceM - b.distanceM || byId(a, b));
  return [...near, ...rest];
}

function byId(a: DroneCandidate, b: DroneCandidate): number {
  return a.droneId < b.droneId ? -1 : a.droneId > b.droneId ? 1 : 0;
}

/**
 * 32-bit FNV-1a over UTF-16 code units, then MurmurHash3's finaliser so that ids differing only
 * in their last characters still land far apart: a stable, well-spread hash, not a secure one.
 */
function spreadHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
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
