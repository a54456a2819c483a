/**
 * What telemetry ingestion needs from the outside world, in the domain's language: the drone
 * state store and the sink for delivery milestones. Dead letters and event origins, which the
 * delivery history shares, are in shared/ports.ts.
 */
import type { DroneState } from './drone-state';
import type { Milestone } from './milestones';

export interface VersionedDroneState {
  readonly state: DroneState;
  /** Opaque concurrency token (an ETag in Cosmos DB). */
  readonly version: string;
}

export interface DroneStateStore {
  read(droneId: string): Promise<VersionedDroneState | undefined>;
  /**
   * Creates the state when `expectedVersion` is undefined, else replaces it only if it is still
   * at that version. Resolves false when another writer got there first (the caller re-reads).
   */
  write(next: DroneState, expectedVersion: string | undefined): Promise<boolean>;
}

export interface MilestoneSink {
  /** At least once: the saga ignores duplicates and late milestones. `false`: it was not raised (told to nobody). */
  raise(milestone: Milestone): Promise<boolean | void>;
}
