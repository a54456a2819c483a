/**
 * What the saga's agents need from storage, in their own words. Every operation is keyed by
 * delivery id and idempotent; every compensation is safe for a step that never happened, and
 * leaves a mark so a late forward step cannot undo it.
 */
import type { LatLon } from '../shared/geo';
import type { DroneState } from '../telemetry/drone-state';
import type { PackageSize } from './events';

export type CreatePackageOutcome =
  | { readonly ok: true; readonly packageId: string }
  | { readonly ok: false; readonly code: 'PackageCancelled'; readonly reason: string };

export interface PackageRecords {
  create(deliveryId: string, pkg: { size: PackageSize; weightKg: number; tag?: string }, at: string): Promise<CreatePackageOutcome>;
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

export interface DroneReservations {
  /** The reservation a delivery already holds (a retried assignment returns the same drone). */
  findByDelivery(deliveryId: string): Promise<Reservation | undefined>;
  /** The reservation holding a drone, if any. */
  findByDrone(droneId: string): Promise<Reservation | undefined>;
  /** Exclusive: resolves false when the drone is already reserved. */
  tryReserve(reservation: Reservation): Promise<boolean>;
  /** Removes the delivery's reservation; resolves the released drone id, if there was one. */
  release(deliveryId: string): Promise<string | undefined>;
  /** Marks a delivery as released so that a late reservation attempt for it is refused. */
  isReleased(deliveryId: string): Promise<boolean>;
}

export interface FleetView {
  availableDrones(): Promise<DroneState[]>;
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
  readonly requestedAt: string;
  readonly active: boolean;
  readonly outcome?: string;
  /** Set when the saga ended with resources it could not release (CompensationStuck). */
  readonly failureCode?: string;
  readonly supervisorRequestedAt?: string;
  /** Set by the one supervisor that starts the recovery of this delivery's dead saga. */
  readonly recoveryClaimedAt?: string;
}

export interface IntakeRecords {
  /** Resolves the existing record instead when the delivery id is taken. */
  createOrGet(record: IntakeRecord): Promise<{ created: boolean; record: IntakeRecord }>;
  get(deliveryId: string): Promise<IntakeRecord | undefined>;
  /** The delivery no longer counts in flight; `failureCode` keeps why, when it ended badly. */
  close(deliveryId: string, outcome: string, failureCode?: string): Promise<void>;
  /** A repeated request whose saga never started counts in flight again. */
  reopen(deliveryId: string): Promise<void>;
  markSupervised(deliveryId: string, at: string): Promise<void>;
  /** Exclusive: resolves true for exactly one caller, the one that may start the recovery. */
  claimRecovery(deliveryId: string, at: string): Promise<boolean>;
  countActive(): Promise<number>;
  /** Records still counted in flight that were requested before `before`. */
  listActive(before: string): Promise<IntakeRecord[]>;
  /** Records of deliveries that ended with a compensation given up. */
  listStuck(): Promise<IntakeRecord[]>;
}

export type { LatLon };
