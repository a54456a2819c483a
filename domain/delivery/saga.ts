/**
 * The delivery saga's plan (Scheduler-Agent-Supervisor with compensating transactions), pure:
 * the forward steps and their compensations, what the agents answer, the milestone order, the
 * SLA clock, the retry rounds, and the progress the scheduler publishes as custom status. The
 * decisions themselves are the workflow's (`saga-workflow.ts`); this module is its vocabulary.
 */
import type { DeliveryEvent, DeliveryRequestedData } from './events';
import type { MilestoneName } from '../telemetry/milestones';
import type { DeliveryStage, FinishedStage } from './status';
import type { LatLon } from '../shared/geo';

export const FORWARD_STEPS = ['CreatePackage', 'AssignDrone', 'ScheduleDelivery'] as const;
export type ForwardStep = (typeof FORWARD_STEPS)[number];

export const COMPENSATION_OF = {
  CreatePackage: 'CancelPackage',
  AssignDrone: 'ReleaseDrone',
  ScheduleDelivery: 'CancelDeliverySchedule',
} as const satisfies Record<ForwardStep, string>;
export type Compensation = (typeof COMPENSATION_OF)[ForwardStep];

/** What the saga does once a delivery was made, in order. */
export const CLOSING_CALLS_DELIVERED = ['CompleteDelivery', 'CloseIntake'] as const;
export const CLOSING_CALLS_UNDONE = ['CloseIntake'] as const;
export type ClosingCall = (typeof CLOSING_CALLS_DELIVERED)[number] | (typeof CLOSING_CALLS_UNDONE)[number];

/**
 * Where the saga is: the delivery's own stages (the status view's vocabulary) plus the two the
 * saga passes through on its way, `Scheduling` (forward steps) and `Compensating` (undoing them).
 */
export type SagaStage = DeliveryStage | 'Scheduling' | 'Compensating';

const STAGE_AFTER: Record<MilestoneName, DeliveryStage> = {
  PackagePickedUp: 'PickedUp',
  DeliveryInTransit: 'InTransit',
  DeliveryCompleted: 'Delivered',
};
const RANK: Partial<Record<SagaStage, number>> = { Scheduled: 0, PickedUp: 1, InTransit: 2, Delivered: 3 };

/**
 * A milestone moves the saga forward only: a duplicate, or one older than the current stage
 * (late), is ignored. A skipped one (Completed straight after Scheduled) is accepted.
 */
export function applyMilestone(stage: SagaStage, milestone: MilestoneName): DeliveryStage | undefined {
  const from = RANK[stage];
  const toStage = STAGE_AFTER[milestone];
  const to = RANK[toStage];
  if (from === undefined || to === undefined || to <= from) return undefined;
  return toStage;
}

export interface SlaSettings {
  /** From scheduling until the package must be picked up. */
  readonly pickupSlaMs: number;
  /** From scheduling until the delivery must be completed (a request's own deadline may be earlier). */
  readonly deliverySlaMs: number;
  /** How long to keep looking for a free drone before failing the delivery. */
  readonly assignmentSlaMs: number;
  /** Pause between attempts to find a free drone. */
  readonly assignmentRetryMs: number;
}

/** The longest wait between two attempts of one agent call (the Durable extension retries it). */
export const STEP_MAX_RETRY_MS = 60_000;

/**
 * Rounds: when a call that must eventually succeed (an emit, a compensation, a closing call)
 * has used up its attempts, the saga waits and calls it again. Compensations give up after
 * `compensationRounds`; emits and closing calls never do, since giving up would lose an event
 * or leave the delivery counted in flight.
 */
export const DEFAULT_COMPENSATION_ROUNDS = 6;
const ROUND_FIRST_WAIT_MS = 60_000;
const ROUND_MAX_WAIT_MS = 3_600_000;

/** The wait before round `round + 1` (round 1 failed: one minute, then doubling, capped at an hour). */
export function roundWaitMs(round: number): number {
  return Math.min(ROUND_FIRST_WAIT_MS * 2 ** Math.max(0, round - 1), ROUND_MAX_WAIT_MS);
}

/** When the saga waits for the package to be picked up, and for the delivery to complete. */
export function milestoneDeadlines(
  scheduledAt: Date,
  request: DeliveryRequestedData,
  sla: SlaSettings,
): { pickupBy: Date; deliverBy: Date } {
  const pickupBy = new Date(scheduledAt.getTime() + sla.pickupSlaMs);
  let deliverBy = scheduledAt.getTime() + sla.deliverySlaMs;
  if (request.deadline !== undefined) deliverBy = Math.min(deliverBy, Date.parse(request.deadline));
  return { pickupBy, deliverBy: new Date(Math.max(deliverBy, pickupBy.getTime())) };
}

/** The latest time the whole saga should have finished by; the supervisor acts past it. */
export function completeBy(requestedAt: Date, request: DeliveryRequestedData, sla: SlaSettings): Date {
  const worst = requestedAt.getTime() + sla.assignmentSlaMs + Math.max(sla.pickupSlaMs, sla.deliverySlaMs);
  const deadline = request.deadline !== undefined ? Date.parse(request.deadline) : worst;
  return new Date(Math.max(worst, deadline));
}

// ------------------------------------------------------------------ what the agents take and answer

export interface CreatePackageInput {
  readonly deliveryId: string;
  readonly package: DeliveryRequestedData['package'];
  readonly at: string;
}
export type CreatePackageResult =
  | { readonly ok: true; readonly packageId: string }
  | { readonly ok: false; readonly code: string; readonly reason: string };

export interface AssignDroneInput {
  readonly deliveryId: string;
  readonly pickup: LatLon;
  readonly at: string;
}
export type AssignDroneResult =
  | {
      readonly assigned: true;
      readonly droneId: string;
      readonly distanceToPickupM: number;
      /** Where the drone reported it was when it was assigned: the schedule's ETA starts there. */
      readonly dronePosition?: LatLon;
    }
  | { readonly assigned: false; readonly reason: string };

export interface ScheduleDeliveryInput {
  readonly deliveryId: string;
  readonly droneId: string;
  readonly pickup: LatLon;
  readonly dropoff: LatLon;
  readonly deadline?: string;
  readonly at: string;
  /** The assigned drone's position from the assignment; without it, the agent reads the drone's state. */
  readonly dronePosition?: LatLon;
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

export interface CompleteDeliveryInput {
  readonly deliveryId: string;
  readonly at: string;
}
export interface CompleteDeliveryResult {
  /** The drone let go of, absent when none was reserved any more. */
  readonly releasedDroneId?: string;
}

export interface CloseIntakeInput {
  readonly deliveryId: string;
  readonly outcome: SagaOutcome;
  readonly failureCode?: string;
}

// ------------------------------------------------------------------ outcome and progress

/** How a saga ends: the finished stage its delivery ends in. */
export type SagaOutcome = FinishedStage;

export type SagaEnd =
  | { readonly outcome: 'Delivered' }
  | { readonly outcome: 'Cancelled'; readonly reason: string }
  | { readonly outcome: 'Failed'; readonly code: string; readonly reason: string };

/** The saga's result (orchestration output). */
export interface SagaResult {
  readonly deliveryId: string;
  readonly outcome: SagaOutcome;
  readonly reason?: string;
}

/**
 * Custom status of the orchestration: progress for callers, and everything a recovery needs to
 * finish the saga's work when the saga itself died. It is written in the same episode as the
 * actions it describes, so it never claims less than what may have been scheduled.
 */
export interface SagaProgress {
  readonly stage: SagaStage;
  /** Steps whose agent said yes. */
  readonly completedSteps: readonly ForwardStep[];
  /** Steps whose agent was called at least once (and so may have written): each is compensated. */
  readonly attemptedSteps: readonly ForwardStep[];
  /** Compensations finished (or given up). */
  readonly compensated: readonly Compensation[];
  /** Closing calls finished. */
  readonly closed: readonly ClosingCall[];
  readonly droneId?: string;
  readonly packageId?: string;
  readonly completeBy: string;
  /** The last sequence number given to an event of the stream. */
  readonly sequence: number;
  /** Events decided but not yet confirmed as sent, in order; a recovery sends them again as they are. */
  readonly outbox: readonly DeliveryEvent[];
  /** The outcome, once decided: from then on it does not change (but for CompensationStuck). */
  readonly outcome?: SagaOutcome;
  readonly failure?: { readonly code: string; readonly reason: string };
  /** Set once everything the delivery held is released; only then is the saga truly done. */
  readonly finished?: boolean;
}
