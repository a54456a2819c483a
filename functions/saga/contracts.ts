/**
 * What the scheduler (orchestration) and its agents (activities) pass each other. Plain JSON:
 * Durable Functions stores every input and result in the orchestration history. The agents'
 * inputs and answers are the domain's (domain/delivery/saga.ts); what is here is only what the
 * orchestrations themselves are started with.
 */
import type { DeliveryRequestedData } from '../../domain/delivery/events';
import type { SagaProgress, SlaSettings } from '../../domain/delivery/saga';
import type { RetryPolicy } from '../../domain/shared/retry';

export interface SagaInput {
  readonly deliveryId: string;
  readonly correlationId: string;
  readonly request: DeliveryRequestedData;
  /** Settings taken at intake, so a running saga is not changed by a config change (replays stay deterministic). */
  readonly sla: SlaSettings;
  readonly retry: RetryPolicy;
  /** Rounds a compensation gets before the saga reports it stuck; the workflow's default when absent. */
  readonly compensationRounds?: number;
  /** The intake request's W3C trace context, carried opaquely into every activity (tracing/activity-trace.ts). */
  readonly traceparent?: string;
}

export interface RecoveryInput {
  readonly deliveryId: string;
  readonly correlationId: string;
  readonly reason: string;
  readonly progress: SagaProgress;
  readonly retry: RetryPolicy;
  readonly compensationRounds?: number;
  /** The trace a recovery's activities join: the supervisor's run that started it. */
  readonly traceparent?: string;
}

export type {
  AssignDroneInput,
  AssignDroneResult,
  CloseIntakeInput,
  CompensationInput,
  CompensationResult,
  CompleteDeliveryInput,
  CompleteDeliveryResult,
  CreatePackageInput,
  CreatePackageResult,
  ForwardStep,
  ScheduleDeliveryInput,
  ScheduleDeliveryResult,
} from '../../domain/delivery/saga';
