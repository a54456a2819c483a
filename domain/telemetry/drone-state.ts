/**
 * The latest known state of a drone: a fold over its telemetry where the highest `sequence`
 * wins. Duplicates and older events are no-ops, so any order and any number of deliveries of
 * the same events fold to the same state. Each event is a full snapshot, so a newer one never
 * leaves a field of an older one behind (no partial updates).
 */
import type { DroneStatus, Position, Telemetry } from './schema';

export interface DroneState {
  readonly droneId: string;
  readonly status: DroneStatus;
  readonly position: Position;
  readonly batteryPct: number;
  readonly speedMps: number;
  readonly sequence: number;
  readonly reportedAt: string;
  readonly deliveryId?: string;
}

export function stateFromTelemetry(t: Telemetry): DroneState {
  return {
    droneId: t.droneId,
    status: t.status,
    position: { lat: t.position.lat, lon: t.position.lon, altitudeM: t.position.altitudeM },
    batteryPct: t.batteryPct,
    speedMps: t.speedMps,
    sequence: t.sequence,
    reportedAt: t.timestamp,
    ...(t.deliveryId !== undefined ? { deliveryId: t.deliveryId } : {}),
  };
}

/** True when `t` would move `state` forward. */
export function isNewer(state: Pick<DroneState, 'sequence'> | undefined, t: Pick<Telemetry, 'sequence'>): boolean {
  return state === undefined || t.sequence > state.sequence;
}

/** evolve(state, event): the newer snapshot replaces the state; anything else leaves it as it is. */
export function evolveDrone(state: DroneState | undefined, t: Telemetry): DroneState | undefined {
  if (state !== undefined && state.droneId !== t.droneId) {
    throw new Error(`telemetry for ${t.droneId} folded into state of ${state.droneId}`);
  }
  return isNewer(state, t) ? stateFromTelemetry(t) : state;
}

export function foldDrone(events: readonly Telemetry[], initial?: DroneState): DroneState | undefined {
  return events.reduce<DroneState | undefined>(evolveDrone, initial);
}

/** Minimum battery for a new assignment: enough for a round trip with reserve. */
const MIN_BATTERY_FOR_ASSIGNMENT_PCT = 30;

/** docs/contract.md §2 default of `DroneFreshnessMinutes`. */
export const DEFAULT_DRONE_FRESHNESS_MS = 10 * 60_000;

/**
 * The time-free half of availability (Idle, battery ≥ 30, no delivery): what a stored drone
 * document can carry as a flag, since it does not change until the drone reports again.
 */
export function isAssignable(state: Pick<DroneState, 'status' | 'batteryPct' | 'deliveryId'>): boolean {
  return (
    state.status === 'Idle' && state.batteryPct >= MIN_BATTERY_FOR_ASSIGNMENT_PCT && state.deliveryId === undefined
  );
}

/**
 * True when the drone's last accepted report is older than `freshnessMs` at `now`. A report
 * stamped ahead of `now` (a drone clock running fast) counts as fresh; an unreadable stamp as stale.
 */
export function isStale(state: Pick<DroneState, 'reportedAt'>, now: Date, freshnessMs: number): boolean {
  const reported = Date.parse(state.reportedAt);
  if (!Number.isFinite(reported)) return true;
  return now.getTime() - reported > freshnessMs;
}

/**
 * docs/contract.md §2: an Idle drone with batteryPct ≥ 30, no delivery, and a last accepted report at
 * most `freshnessMs` old at `now` is available for scheduling. A drone that stopped reporting
 * (switched off, out of range, left over from an earlier run) is not, whatever it said last.
 */
export function isAvailable(
  state: Pick<DroneState, 'status' | 'batteryPct' | 'deliveryId' | 'reportedAt'>,
  now: Date,
  freshnessMs: number,
): boolean {
  return isAssignable(state) && !isStale(state, now, freshnessMs);
}
