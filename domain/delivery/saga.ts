/**
 * The delivery saga's plan (Scheduler-Agent-Supervisor with compensating transactions), pure:
 * the forward steps and their compensations, the milestone state machine, the SLA clock, and
 * the progress the scheduler publishes as custom status. The orchestrator interprets this; it
 * makes no decision of its own.
 */
import { assertNever } from '../shared/errors';
import type { DeliveryEvent, DeliveryRequestedData } from './events';

export const FORWARD_STEPS = ['CreatePackage', 'AssignDrone', 'ScheduleDelivery'] as const;
export type ForwardStep = (typeof FORWARD_STEPS)[number];

export const COMPENSATION_OF = {
  CreatePackage: 'CancelPackage',
  AssignDrone: 'ReleaseDrone',
  ScheduleDelivery: 'CancelDelivery',
} as const satisfies Record<ForwardStep, string>;
export type Compensation = (typeof COMPENSATION_OF)[ForwardStep];

/** The compensations of exactly the completed steps, last step first. */
export function compensationsFor(completed: readonly ForwardStep[]): Compensation[] {
  return [...completed].reverse().map((s) => COMPENSATION_OF[s]);
}

/** Where the saga is; `Compensating` precedes the terminal Cancelled or Failed. */
export type SagaStage =
  | 'Requested'
  | 'Scheduling'
  | 'Scheduled'
  | 'PickedUp'
  | 'InTransit'
  | 'Delivered'
  | 'Compensating'
  | 'Cancelled'
  | 'Failed';

export const TERMINAL_STAGES: ReadonlySet<SagaStage> = new Set(['Delivered', 'Cancelled', 'Failed']);

export type MilestoneEventName = 'PackagePickedUp' | 'DeliveryInTransit' | 'DeliveryCompleted';
export const MILESTONE_EVENTS: readonly MilestoneEventName[] = ['PackagePickedUp', 'DeliveryInTransit', 'DeliveryCompleted'];

const STAGE_AFTER: Record<MilestoneEventName, SagaStage> = {
  PackagePickedUp: 'PickedUp',
  DeliveryInTransit: 'InTransit',
  DeliveryCompleted: 'Delivered',
};
const RANK: Partial<Record<SagaStage, number>> = { Scheduled: 0, PickedUp: 1, InTransit: 2, Delivered: 3 };

/**
 * A milestone moves the saga forward only: a duplicate, or one older than the current stage
 * (late), is ignored. A skipped one (Completed straight after Scheduled) is accepted.
 */
export function applyMilestone(stage: SagaStage, milestone: MilestoneEventName): SagaStage | undefined {
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

/** When the saga waits for the package to be picked up, and for the delivery to complete. */
export function milestoneDeadlines(scheduledAt: Date, request: DeliveryRequestedData, sla: SlaSettings): { pickupBy: Date; deliverBy: Date } {
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

/** Custom status of the orchestration: progress for callers and what the supervisor reads. */
export interface SagaProgress {
  readonly stage: SagaStage;
  readonly completedSteps: readonly ForwardStep[];
  readonly droneId?: string;
  readonly completeBy: string;
  /**
   * The last event the saga scheduled for emission, in full. Recorded with the action that
   * emits it, so a recovery can re-send it (same id) and go on from the next sequence with no gap.
   */
  readonly lastEvent?: DeliveryEvent;
  readonly failure?: { readonly code: string; readonly reason: string };
  /** Set once everything the delivery held is released; only then is the saga truly done. */
  readonly finished?: boolean;
}

export type SagaEnd = { readonly outcome: 'Delivered' } | { readonly outcome: 'Cancelled'; readonly reason: string } | { readonly outcome: 'Failed'; readonly code: string; readonly reason: string };

export function endStage(end: SagaEnd): SagaStage {
  switch (end.outcome) {
    case 'Delivered':
      return 'Delivered';
    case 'Cancelled':
      return 'Cancelled';
    case 'Failed':
      return 'Failed';
    default:
      return assertNever(end, 'saga end');
  }
}
