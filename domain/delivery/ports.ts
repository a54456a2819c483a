/**
 * What the delivery area needs from the outside world, in the domain's language:
 * - the history: the append-only event store, the status view store, and the archive the views
 *   are rebuilt from;
 * - the saga's agents: packages, drone reservations, the fleet, schedules and intake records.
 *   Every operation is keyed by delivery id and idempotent; every compensation is safe for a
 *   step that never happened, and leaves a mark so a late forward step cannot undo it;
 * - the sagas themselves: start one per delivery exactly once, read its status, signal it.
 */
import type { DroneState } from '../telemetry/drone-state';
import type { DeliveryEvent, PackageSize } from './events';
import type { SagaProgress } from './saga';
import type { DeliveryStatusView } from './status';
import type { RuntimeStatus } from './supervisor';

export type AppendOutcome =
  | { readonly outcome: 'appended' }
  /** The same event is already stored: appending is idempotent. */
  | { readonly outcome: 'duplicate' }
  /** A different event holds this (deliveryId, sequence); the stored one stands. */
  | { readonly outcome: 'conflict'; readonly existing: DeliveryEvent };

export interface DeliveryEventStore {
  /** Stores the event under (deliveryId, sequence) unless that slot is taken. */
  append(event: DeliveryEvent): Promise<AppendOutcome>;
  /** Every stored event of the delivery in ascending sequence (gaps possible while events are in flight). */
  readStream(deliveryId: string): Promise<DeliveryEvent[]>;
  /** Whether the (deliveryId, sequence) slot is taken: one point read, whatever the stream's length. */
  has(deliveryId: string, sequence: number): Promise<boolean>;
}

export interface VersionedStatusView {
  readonly view: DeliveryStatusView;
  /** Opaque concurrency token (an ETag in Cosmos DB); also the HTTP entity tag. */
  readonly etag: string;
}

export interface StatusViewStore {
  read(deliveryId: string): Promise<VersionedStatusView | undefined>;
  /**
   * Creates the view when `expectedEtag` is undefined, else replaces it only if it is still at
   * that ETag. `ttlSeconds` makes the document expire (finished deliveries). Resolves false when
   * another writer got there first (the caller re-reads).
   */
  write(view: DeliveryStatusView, expectedEtag: string | undefined, ttlSeconds?: number): Promise<boolean>;
}

export interface ArchiveRange {
  /** Inclusive, ISO-8601. */
  readonly from: string;
  /** Exclusive, ISO-8601. */
  readonly to: string;
  /** Only this delivery's events. */
  readonly deliveryId?: string;
}

export interface ArchiveReader {
  /** The archived delivery events of the range, in the archive's order (not necessarily by sequence). */
  events(range: ArchiveRange): AsyncIterable<DeliveryEvent>;
}

// ── The saga's agents ───────────────────────────────────────────────────────────

export type CreatePackageOutcome =
  | { readonly ok: true; readonly packageId: string }
  | { readonly ok: false; readonly code: 'PackageCancelled'; readonly reason: string };

export interface PackageRecords {
  create(
    deliveryId: string,
    pkg: { size: PackageSize; weightKg: number; tag?: string },
    at: string,
  ): Promise<CreatePackageOutcome>;
  /** Resolves the package id if an active package was cancelled now, undefined if there was none. */
  cancel(deliveryId: string, reason: string, at: string): Promise<string | undefined>;
  /** The package reached its recipient: it is no longer active. */
  markDelivered(deliveryId: string, at: string): Promise<void>;
}

export interface Reservation {
  readonly droneId: string;
  readonly deliveryId: string;
  readonly reservedAt: string;
}

/** What a reservation attempt for a delivery came to. */
export type ReservationOutcome =
  /** The delivery already held this drone (a retried or duplicate attempt gets the same one). */
  | { readonly outcome: 'held'; readonly reservation: Reservation }
  /** This attempt reserved the drone. */
  | { readonly outcome: 'reserved'; readonly reservation: Reservation }
  /** The delivery was released: nothing is or will be reserved for it. */
  | { readonly outcome: 'released' }
  /** Every candidate is held by another delivery (or there was none). */
  | { readonly outcome: 'allTaken' };

export interface DroneReservations {
  /**
   * Reserves a drone for a delivery: exclusive per drone, and at most one per delivery even when
   * retried or duplicate attempts run at once. The drone the delivery already holds, if any;
   * otherwise the first free one of `candidates()` (asked once, first: in order of preference).
   * Refused once the delivery was released, however the two interleave.
   */
  reserveFor(deliveryId: string, at: string, candidates: () => Promise<readonly string[]>): Promise<ReservationOutcome>;
  /** The reservation holding a drone, if any. */
  findByDrone(droneId: string): Promise<Reservation | undefined>;
  /**
   * Which drones are held, and for which delivery: one answer shared like the fleet's unless
   * `fresh`. An assignment passes over drones held for others before it picks the ones it tries,
   * so a busy spot does not use up its tries on them; which drone is whose is still settled by
   * `reserveFor` alone (a drone freed or taken since the answer is found out there).
   */
  heldDrones(options?: { readonly fresh?: boolean }): Promise<HeldDrones>;
  /**
   * Lets go of whatever the delivery holds and marks it released, so that no attempt, however
   * late, reserves for it again; resolves the released drone id, if there was one.
   */
  release(deliveryId: string): Promise<string | undefined>;
}

/** Held drones (drone id → the delivery holding it), and whether an earlier read's answer served this call. */
export interface HeldDrones {
  readonly byDrone: ReadonlyMap<string, string>;
  readonly shared: boolean;
}

/** The drones that said they are available, and whether an earlier read's answer served this call. */
export interface FleetAnswer {
  readonly drones: readonly DroneState[];
  readonly shared: boolean;
}

export interface FleetView {
  /** `fresh`: read now, whatever an earlier read left to share. */
  availableDrones(options?: { readonly fresh?: boolean }): Promise<FleetAnswer>;
  drone(droneId: string): Promise<DroneState | undefined>;
}

export interface ScheduleRecord {
  readonly deliveryId: string;
  readonly droneId: string;
  readonly pickupEta: string;
  readonly dropoffEta: string;
  readonly status: 'Scheduled' | 'Cancelled' | 'Delivered';
}

export interface DeliverySchedules {
  get(deliveryId: string): Promise<ScheduleRecord | undefined>;
  /** Creates the schedule unless one exists; resolves what is stored (a cancelled one stays cancelled). */
  createIfAbsent(record: ScheduleRecord): Promise<ScheduleRecord>;
  /** Sets the status (creating a cancelled mark when there was no schedule). */
  setStatus(deliveryId: string, status: 'Cancelled' | 'Delivered'): Promise<void>;
}

export interface IntakeRecord {
  readonly deliveryId: string;
  readonly ownerId: string;
  /** The canonical request text: "the same body" means the same text. */
  readonly canonical: string;
  /** When the request that (last) set out to start the saga arrived: stamped afresh by a reopen. */
  readonly requestedAt: string;
  readonly active: boolean;
  readonly outcome?: string;
  /** Set when the saga ended with resources it could not release (CompensationStuck). */
  readonly failureCode?: string;
  readonly supervisorRequestedAt?: string;
  /** Set by the one supervisor that starts the recovery of this delivery's dead saga. */
  readonly recoveryClaimedAt?: string;
  /** When the delivery's saga was known started: marked by the intake that started it, or by a supervisor that found it. */
  readonly sagaStartedAt?: string;
}

export interface IntakeRecords {
  /** Resolves the existing record instead when the delivery id is taken. */
  createOrGet(record: IntakeRecord): Promise<{ created: boolean; record: IntakeRecord }>;
  get(deliveryId: string): Promise<IntakeRecord | undefined>;
  /**
   * The delivery no longer counts in flight; `failureCode` keeps why, when it ended badly. The
   * first close's outcome stands, except that a saga's own outcome replaces `NOT_STARTED` (its
   * start was taken for failed while it had reached the engine).
   */
  close(deliveryId: string, outcome: string, failureCode?: string): Promise<void>;
  /**
   * Closes as `NOT_STARTED` a record still in flight whose saga is not known to have started
   * and that was requested no later than `requestedBy` (a record stamped afresh since is left
   * to wait its grace); true when it did. A record marked started meanwhile is left as it is.
   */
  closeUnstarted(deliveryId: string, requestedBy: string): Promise<boolean>;
  /**
   * A start is about to be tried, or may have been: a record closed as never started counts in
   * flight again, and one in flight with no start marked is stamped requested `at` (so the start
   * check waits its grace again, and a close bounded by an earlier time leaves it be). Any other
   * record is left as it is.
   */
  reopen(deliveryId: string, at: string): Promise<void>;
  markSupervised(deliveryId: string, at: string): Promise<void>;
  /** Exclusive: resolves true for exactly one caller, the one that may start the recovery. */
  claimRecovery(deliveryId: string, at: string): Promise<boolean>;
  countActive(): Promise<number>;
  /** Records still counted in flight that were requested before `before`. */
  listActive(before: string): Promise<IntakeRecord[]>;
  /** Records still counted in flight, requested before `before`, whose saga is not known to have started. */
  listUnconfirmed(before: string): Promise<IntakeRecord[]>;
  /**
   * The delivery's saga has started: marks an active record, and reopens (and marks) one closed
   * as `NOT_STARTED` by someone who looked before the start. A record the saga closed is left closed.
   */
  markSagaStarted(deliveryId: string, at: string): Promise<void>;
  /** Records of deliveries that ended with a compensation given up. */
  listStuck(): Promise<IntakeRecord[]>;
}

// ── The sagas ─────────────────────────────────────────────────────────────────────

export interface SagaStatus {
  readonly instanceId: string;
  readonly name: string;
  readonly runtimeStatus: RuntimeStatus;
  readonly createdAt: Date;
  readonly lastUpdatedAt: Date;
  readonly progress?: SagaProgress;
}

export interface SagaQuery {
  readonly runtimeStatus: RuntimeStatus[];
  readonly createdFrom?: Date;
  readonly createdTo?: Date;
}

export interface Sagas {
  status(instanceId: string): Promise<SagaStatus | undefined>;
  start(orchestration: string, instanceId: string, input: unknown): Promise<'started' | 'exists'>;
  signal(instanceId: string, event: string, data: unknown): Promise<'delivered' | 'gone'>;
  /** Instances in these states created in [createdFrom, createdTo]; an adapter follows the API's continuation tokens page by page. */
  list(query: SagaQuery): Promise<SagaStatus[]>;
  resume(instanceId: string, reason: string): Promise<void>;
}
