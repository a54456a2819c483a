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
 * Available drones within reach of the pickup, in the order the fleet listed them. A drone
 * beyond `maxDistanceM` could not get there and back on one charge; a drone whose last report is
 * too old may no longer be where it said, or there at all. One pass, no sort: an assignment
 * needs its first few candidates only (`candidateOrder` with a limit), not the fleet in order.
 */
export function dronesInReach(
  drones: readonly DroneState[],
  pickup: LatLon,
  freshness: Freshness,
  maxDistanceM = Number.POSITIVE_INFINITY,
): DroneCandidate[] {
  const inReach: DroneCandidate[] = [];
  for (const d of drones) {
    if (!isAvailable(d, freshness.now, freshness.freshnessMs)) continue;
    const distance = distanceM(d.position, pickup);
    if (distance <= maxDistanceM) inReach.push({ droneId: d.droneId, distanceM: distance, position: d.position });
  }
  return inReach;
}

/** The drones in reach (`dronesInReach`), nearest first, ties by id (so the order is deterministic). */
export function rankDrones(
  drones: readonly DroneState[],
  pickup: LatLon,
  freshness: Freshness,
  maxDistanceM = Number.POSITIVE_INFINITY,
): DroneCandidate[] {
  return dronesInReach(drones, pickup, freshness, maxDistanceM).sort(byDistance);
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
 * is a pure function of the set of drones given (not of how they are listed; a fleet answer
 * holds each drone once), so a retried attempt tries the same drones in the same order.
 *
 * `limit`: only the first `limit` drones of that order (a fraction counts down, NaN as none),
 * picked without sorting the others: an assignment tries a hundred at most, and with thousands of
 * drones at one spot a full sort per assignment was most of its time.
 */
export function candidateOrder(
  ranked: readonly DroneCandidate[],
  deliveryId: string,
  equallyNearM = EQUALLY_NEAR_M,
  limit = Number.POSITIVE_INFINITY,
): DroneCandidate[] {
  const k = Math.floor(limit);
  if (ranked.length === 0 || !(k >= 1)) return []; // also for NaN
  let nearest = Number.POSITIVE_INFINITY;
  for (const c of ranked) if (c.distanceM < nearest) nearest = c.distanceM;
  const bound = nearest + equallyNearM;
  const prefix = fnv1a(FNV_OFFSET, `${deliveryId}\u0000`);
  const near: { readonly c: DroneCandidate; readonly key: number }[] = [];
  const rest: DroneCandidate[] = [];
  for (const c of ranked) {
    if (c.distanceM <= bound) near.push({ c, key: finalise(fnv1a(prefix, c.droneId)) });
    else rest.push(c);
  }
  const first = smallest(near, k, (a, b) => a.key - b.key || byId(a.c, b.c)).map((n) => n.c);
  return first.length >= k ? first : [...first, ...smallest(rest, k - first.length, byDistance)];
}

function byDistance(a: DroneCandidate, b: DroneCandidate): number {
  return a.distanceM - b.distanceM || byId(a, b);
}

function byId(a: DroneCandidate, b: DroneCandidate): number {
  return a.droneId < b.droneId ? -1 : a.droneId > b.droneId ? 1 : 0;
}

/**
 * The `k` smallest items by `cmp`, in order: a sorted copy when that is all of them, otherwise
 * one pass that keeps the k smallest so far in a max-heap (the largest kept at the root, so most
 * items are turned away by one comparison), sorted at the end.
 */
function smallest<T>(items: readonly T[], k: number, cmp: (a: T, b: T) => number): T[] {
  if (!(k >= 1)) return [];
  if (k >= items.length) return [...items].sort(cmp);
  const heap: T[] = [];
  const at = (i: number): T => heap[i] as T;
  const swap = (i: number, j: number): void => {
    const t = at(i);
    heap[i] = at(j);
    heap[j] = t;
  };
  for (const item of items) {
    if (heap.length < k) {
      heap.push(item);
      for (let i = heap.length - 1; i > 0 && cmp(at(i), at((i - 1) >> 1)) > 0; i = (i - 1) >> 1) swap(i, (i - 1) >> 1);
    } else if (cmp(item, at(0)) < 0) {
      heap[0] = item;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        let top = i;
        if (l < k && cmp(at(l), at(top)) > 0) top = l;
        if (l + 1 < k && cmp(at(l + 1), at(top)) > 0) top = l + 1;
        if (top === i) break;
        swap(i, top);
        i = top;
      }
    }
  }
  return heap.sort(cmp);
}

const FNV_OFFSET = 0x811c9dc5;

/**
 * The delivery's key for a drone: 32-bit FNV-1a over the UTF-16 code units of
 * `${deliveryId}\u0000${droneId}`, then MurmurHash3's finaliser so that ids differing only in
 * their last characters still land far apart (a stable, well-spread hash, not a secure one).
 * FNV-1a runs left to right, so the delivery's part is hashed once per order, not per drone:
 * `finalise(fnv1a(fnv1a(FNV_OFFSET, deliveryPart), droneId))`.
 */
function fnv1a(h: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function finalise(h: number): number {
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
