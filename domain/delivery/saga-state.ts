/**
 * The delivery saga workflow's vocabulary and state: the messages it takes, the commands it
 * gives, its state, how a saga or a recovery starts, the progress it publishes (custom status)
 * and which signals it listens to. The decisions are in `saga-workflow.ts`.
 */
import { assertNever } from '../shared/errors';
import type { LatLon } from '../shared/geo';
import type { RetryPolicy } from '../shared/retry';
import type { MilestoneName } from '../telemetry/milestones';
import type { DeliveryEvent, DeliveryRequestedData, Location3D } from './events';
import { DEFAULT_COMPENSATION_ROUNDS } from './saga';
import type {
  AssignDroneResult,
  ClosingCall,
  Compensation,
  CompensationInput,
  CompensationResult,
  CompleteDeliveryResult,
  CreatePackageResult,
  ForwardStep,
  SagaEnd,
  SagaProgress,
  SagaResult,
  ScheduleDeliveryResult,
  SlaSettings,
} from './saga';

export type SagaTimer = 'PickupSla' | 'DeliverySla' | 'Retry';
export type AgentCall = ForwardStep | ClosingCall;

/** External events the saga listens to (raised by telemetry ingestion, the API and the supervisor). */
export type ExternalSignal = MilestoneName | 'CancelRequested' | 'CompensationRequested';
export const EXTERNAL_SIGNALS: readonly ExternalSignal[] = [
  'PackagePickedUp',
  'DeliveryInTransit',
  'DeliveryCompleted',
  'CancelRequested',
  'CompensationRequested',
];

export interface MilestoneReport {
  readonly milestone: MilestoneName;
  readonly droneId?: string;
  readonly position?: Location3D;
  readonly reportedAt?: string;
}

/** Everything that can happen to a delivery's saga; `at` is the orchestration's time when it is handled. */
export type SagaMessage = { readonly at: string } & (
  | { readonly type: 'SagaStarted' }
  | { readonly type: 'RecoveryStarted'; readonly reason: string }
  | { readonly type: 'StepSucceeded'; readonly step: 'CreatePackage'; readonly result: CreatePackageResult }
  | { readonly type: 'StepSucceeded'; readonly step: 'AssignDrone'; readonly result: AssignDroneResult }
  | { readonly type: 'StepSucceeded'; readonly step: 'ScheduleDelivery'; readonly result: ScheduleDeliveryResult }
  | { readonly type: 'StepFailed'; readonly step: ForwardStep; readonly error: string }
  | { readonly type: 'EventSent'; readonly sequence: number }
  | { readonly type: 'EventSendFailed'; readonly sequence: number; readonly error: string }
  | { readonly type: 'Compensated'; readonly compensation: Compensation; readonly result: CompensationResult }
  | { readonly type: 'CompensationFailed'; readonly compensation: Compensation; readonly error: string }
  | { readonly type: 'ClosingCallSucceeded'; readonly call: ClosingCall; readonly result: CompleteDeliveryResult }
  | { readonly type: 'ClosingCallFailed'; readonly call: ClosingCall; readonly error: string }
  | ({ readonly type: 'MilestoneReported' } & MilestoneReport)
  | { readonly type: 'CancelRequested'; readonly requestedBy?: string }
  | { readonly type: 'CompensationRequested'; readonly reason: string }
  | { readonly type: 'TimerFired'; readonly timer: SagaTimer }
);

/** What the orchestrator does. */
export type SagaCommand =
  | {
      readonly type: 'CallAgent';
      readonly agent: AgentCall;
      readonly input: { readonly deliveryId: string; readonly at: string } & Record<string, unknown>;
    }
  | { readonly type: 'EmitEvent'; readonly event: DeliveryEvent }
  | { readonly type: 'Compensate'; readonly compensation: Compensation; readonly input: CompensationInput }
  | { readonly type: 'ArmTimer'; readonly timer: SagaTimer; readonly fireAt: string }
  | { readonly type: 'CancelTimer'; readonly timer: SagaTimer }
  | { readonly type: 'Complete'; readonly result: SagaResult }
  | {
      readonly type: 'Log';
      readonly level: 'info' | 'warn' | 'error';
      readonly event: string;
      readonly detail: string;
    };

export type Work =
  | { readonly kind: 'agent'; readonly agent: AgentCall }
  | { readonly kind: 'emit'; readonly sequence: number }
  | { readonly kind: 'compensate'; readonly compensation: Compensation };

/**
 * The workflow's state. Every state is made by `changed` (or starts as one of its literals), which
 * writes every field in one order, an absent value as `undefined`.
 */
export interface SagaState extends Omit<SagaProgress, 'outcome' | 'failure' | 'finished'> {
  readonly deliveryId: string;
  readonly correlationId: string;
  /** Absent in a recovery, which never goes forward. */
  readonly request?: DeliveryRequestedData;
  readonly sla?: SlaSettings;
  readonly retry: RetryPolicy;
  readonly compensationRounds: number;
  readonly end?: SagaEnd;
  /** The piece of work in flight. */
  readonly work?: Work;
  /** Failed rounds of the work that is due next. */
  readonly round: number;
  readonly timers: Partial<Record<SagaTimer, string>>;
  readonly assignGiveUpAt?: string;
  /** Where the assigned drone was when it was assigned (what the schedule's ETA starts from). */
  readonly dronePosition?: LatLon;
  /** Milestones from the (future) assigned drone that arrived before the delivery was scheduled. */
  readonly early: readonly MilestoneReport[];
  readonly done: boolean;
}

/** Every field of a state, written out: what `changed` and the starting states build. */
type EveryField = SagaState & Readonly<Record<keyof SagaState, unknown>>;

/**
 * `s` with the fields of `change` replaced: how the workflow makes every next state. The copy is
 * one object literal naming every field (the type makes a missing one a compile error), not a
 * spread: the workflow copies its state several times per message on every replay of every
 * episode, and on Node 20 a spread of this many fields costs ~0.8–1 µs where this copy and
 * assign cost ~80 ns (bench/README.md); on Node 22 both are cheap. Every state keeps one shape.
 */
export function changed(s: SagaState, change: Partial<SagaState>): SagaState {
  const copy: EveryField = {
    deliveryId: s.deliveryId,
    correlationId: s.correlationId,
    request: s.request,
    sla: s.sla,
    retry: s.retry,
    compensationRounds: s.compensationRounds,
    completeBy: s.completeBy,
    stage: s.stage,
    completedSteps: s.completedSteps,
    attemptedSteps: s.attemptedSteps,
    compensated: s.compensated,
    closed: s.closed,
    droneId: s.droneId,
    packageId: s.packageId,
    sequence: s.sequence,
    outbox: s.outbox,
    end: s.end,
    work: s.work,
    round: s.round,
    timers: s.timers,
    assignGiveUpAt: s.assignGiveUpAt,
    dronePosition: s.dronePosition,
    early: s.early,
    done: s.done,
  };
  return Object.assign(copy, change);
}

export interface SagaStart {
  readonly deliveryId: string;
  readonly correlationId: string;
  readonly request: DeliveryRequestedData;
  readonly sla: SlaSettings;
  readonly retry: RetryPolicy;
  readonly completeBy: string;
  readonly compensationRounds?: number;
}

export function initialSagaState(s: SagaStart): SagaState {
  const state: EveryField = {
    deliveryId: s.deliveryId,
    correlationId: s.correlationId,
    request: s.request,
    sla: s.sla,
    retry: s.retry,
    compensationRounds: s.compensationRounds ?? DEFAULT_COMPENSATION_ROUNDS,
    completeBy: s.completeBy,
    stage: 'Requested',
    completedSteps: [],
    attemptedSteps: [],
    compensated: [],
    closed: [],
    droneId: undefined,
    packageId: undefined,
    sequence: 0,
    outbox: [],
    end: undefined,
    work: undefined,
    round: 0,
    timers: {},
    assignGiveUpAt: undefined,
    dronePosition: undefined,
    early: [],
    done: false,
  };
  return state;
}

export interface RecoveryStart {
  readonly deliveryId: string;
  readonly correlationId: string;
  readonly progress: SagaProgress;
  readonly retry: RetryPolicy;
  readonly compensationRounds?: number;
}

/** A recovery takes over a dead saga's progress; its first message is `RecoveryStarted`. */
export function recoveryState(r: RecoveryStart): SagaState {
  const p = r.progress;
  const state: EveryField = {
    deliveryId: r.deliveryId,
    correlationId: r.correlationId,
    request: undefined,
    sla: undefined,
    retry: r.retry,
    compensationRounds: r.compensationRounds ?? DEFAULT_COMPENSATION_ROUNDS,
    completeBy: p.completeBy,
    stage: p.stage,
    completedSteps: [...p.completedSteps],
    // A dead saga's progress from before attemptedSteps existed names only completed steps.
    attemptedSteps: [...(p.attemptedSteps ?? p.completedSteps)],
    compensated: [...(p.compensated ?? [])],
    closed: [...(p.closed ?? [])],
    droneId: p.droneId,
    packageId: p.packageId,
    sequence: p.sequence,
    outbox: [...p.outbox],
    end: endFromProgress(p),
    work: undefined,
    round: 0,
    timers: {},
    assignGiveUpAt: undefined,
    dronePosition: undefined,
    early: [],
    done: false,
  };
  return state;
}

function endFromProgress(p: SagaProgress): SagaEnd | undefined {
  switch (p.outcome) {
    case undefined:
      return undefined;
    case 'Delivered':
      return { outcome: 'Delivered' };
    case 'Cancelled':
      return { outcome: 'Cancelled', reason: p.failure?.reason ?? 'cancelled on request' };
    case 'Failed':
      return { outcome: 'Failed', code: p.failure?.code ?? 'Unknown', reason: p.failure?.reason ?? 'failed' };
    default:
      return assertNever(p.outcome, 'saga outcome');
  }
}

/**
 * The progress the saga publishes as custom status. An absent field is `undefined` here, which
 * the custom status's JSON leaves out: one literal, no conditional spreads, since it is built at
 * every wait of every replay (see `changed` for what spreads cost on Node 20).
 */
export function progressOf(s: SagaState): SagaProgress {
  const end = s.end;
  return {
    stage: s.stage,
    completedSteps: s.completedSteps,
    attemptedSteps: s.attemptedSteps,
    compensated: s.compensated,
    closed: s.closed,
    droneId: s.droneId,
    packageId: s.packageId,
    completeBy: s.completeBy,
    sequence: s.sequence,
    outbox: s.outbox,
    outcome: end?.outcome,
    failure:
      end && end.outcome !== 'Delivered'
        ? { code: end.outcome === 'Failed' ? end.code : 'Cancelled', reason: end.reason }
        : undefined,
    finished: s.done ? true : undefined,
  };
}

const STOP_SIGNALS: readonly ExternalSignal[] = ['CancelRequested', 'CompensationRequested'];

/**
 * The signals worth waking up for: none once the outcome is fixed, and no milestones before the
 * saga knows its drone (they would only be ignored).
 */
export function listensTo(s: SagaState): readonly ExternalSignal[] {
  if (s.done || s.end) return [];
  return s.droneId === undefined ? STOP_SIGNALS : EXTERNAL_SIGNALS;
}
