/**
 * What the scheduler (orchestration) and its agents (activities) pass each other. Plain JSON:
 * Durable Functions stores every input and result in the orchestration history.
 */
import type { DeliveryEvent, DeliveryRequestedData } from '../../domain/delivery/events';
import type { ForwardStep, SagaProgress, SlaSettings } from '../../domain/delivery/saga';
import type { LatLon } from '../../domain/shared/geo';

export interface SagaInput {
  readonly deliveryId: string;
  readonly correlationId: string;
  readonly request: DeliveryRequestedData;
  /** Settings taken at intake, so a running saga is not changed by a config change (replays stay deterministic). */
  readonly sla: SlaSettings;
  readonly retry: { readonly attempts: number; readonly firstRetryMs: number };
}

export interface RecoveryInput {
  readonly deliveryId: string;
  readonly correlationId: string;
  readonly reason: string;
  readonly progress: SagaProgress;
  readonly retry: { readonly attempts: number; readonly firstRetryMs: number };
}

export interface CreatePackageInput {
  readonly deliveryId: string;
  readonly package: DeliveryRequestedData['package'];
  readonly at: string;
}
export type CreatePackageResult = { readonly ok: true; readonly packageId: string } | { readonly ok: false; readonly code: string; readonly reason: string };

export interface AssignDroneInput {
  readonly deliveryId: string;
  readonly pickup: LatLon;
  readonly at: string;
}
export type AssignDroneResult = { readonly assigned: true; readonly droneId: string; readonly distanceToPickupM: number } | { readonly assigned: false; readonly reason: string };

export interface ScheduleDeliveryInput {
  readonly deliveryId: string;
  readonly droneId: string;
  readonly pickup: LatLon;
  readonly dropoff: LatLon;
  readonly deadline?: string;
  readonly at: string;
}
export type ScheduleDeliveryResult =
  | { readonly ok: true; readonly pickupEta: string; readonly dropoffEta: string }
  | { readonly ok: false; readonly code: string; readonly reason: string };

export interface CompensationInput {
  readonly deliveryId: string;
  readonly reason: string;
  readonly at: string;
}
export interface CompensationResult {
  /** What was undone (package id, drone id), absent when the step had nothing to undo. */
  readonly undone?: string;
}

export interface CloseIntakeInput {
  readonly deliveryId: string;
  readonly outcome: string;
}

export type EmitInput = DeliveryEvent;

export type { ForwardStep };
