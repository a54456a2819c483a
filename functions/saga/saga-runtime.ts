/**
 * What the saga and the recovery orchestration share inside Durable Functions: an event emitter
 * that numbers the delivery's stream and records each event in custom status before it is sent,
 * retry policies, and the compensation run. Generators only; every decision comes from
 * domain/delivery/saga.ts, and time comes from the orchestration context (deterministic replay).
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import { deliveryEvent } from '../../domain/delivery/events';
import type { DeliveryEventDataMap, DeliveryEventType } from '../../domain/delivery/events';
import { COMPENSATION_OF } from '../../domain/delivery/saga';
import type { Compensation, ForwardStep, SagaProgress } from '../../domain/delivery/saga';
import { ACTIVITIES } from '../names';
import type { CompensationInput, CompensationResult } from './contracts';

export type Steps = Generator<Task, void, unknown>;

export function stepRetry(retry: { attempts: number; firstRetryMs: number }): df.RetryOptions {
  const r = new df.RetryOptions(retry.firstRetryMs, retry.attempts);
  r.backoffCoefficient = 2;
  r.maxRetryIntervalInMilliseconds = 60_000;
  return r;
}

/** Compensations and emits keep trying; a round that fails waits (durably) and tries again. */
export const PERSISTENT_ROUND_WAIT_MS = 60_000;

export class SagaSession {
  private progressValue: SagaProgress;
  private sequence: number;

  constructor(
    readonly context: OrchestrationContext,
    readonly deliveryId: string,
    readonly correlationId: string,
    readonly retry: { attempts: number; firstRetryMs: number },
    progress: SagaProgress,
  ) {
    this.progressValue = progress;
    this.sequence = progress.lastEvent?.sequence ?? 0;
  }

  get progress(): SagaProgress {
    return this.progressValue;
  }

  now(): Date {
    return this.context.df.currentUtcDateTime;
  }

  setProgress(patch: Partial<SagaProgress>): void {
    this.progressValue = { ...this.progressValue, ...patch };
    this.context.df.setCustomStatus(this.progressValue);
  }

  /** Emits the next event of the stream. Recorded in custom status first, so a recovery can re-send it. */
  *emit<K extends DeliveryEventType>(type: K, data: DeliveryEventDataMap[K]): Steps {
    this.sequence += 1;
    const event = deliveryEvent(type, this.deliveryId, this.sequence, this.now().toISOString(), this.correlationId, data);
    this.setProgress({ lastEvent: event });
    yield* this.persistently(ACTIVITIES.emitDeliveryEvent, event);
  }

  /** Re-sends the last recorded event (same id and content): the recovery's first step. */
  *resendLast(): Steps {
    const last = this.progressValue.lastEvent;
    if (last) yield* this.persistently(ACTIVITIES.emitDeliveryEvent, last);
  }

  /** Calls an activity with retries, round after round, until it succeeds. */
  *persistently(activity: string, input: unknown): Generator<Task, unknown, unknown> {
    for (;;) {
      try {
        return yield this.context.df.callActivityWithRetry(activity, stepRetry(this.retry), input);
      } catch {
        yield this.context.df.createTimer(new Date(this.now().getTime() + PERSISTENT_ROUND_WAIT_MS));
      }
    }
  }

  /**
   * Runs the compensations of exactly the completed steps, last first, each until it is done,
   * emitting the compensation events. `failedStep` (a step whose activity failed) is also undone,
   * silently: it emitted nothing, but an attempt may have written before failing.
   */
  *compensate(completed: readonly ForwardStep[], reason: string, failedStep?: ForwardStep): Steps {
    this.setProgress({ stage: 'Compensating' });
    if (failedStep !== undefined && !completed.includes(failedStep)) {
      yield* this.persistently(activityOf(COMPENSATION_OF[failedStep]), this.compensationInput(reason));
    }
    const remaining = [...completed];
    while (remaining.length > 0) {
      const step = remaining.pop() as ForwardStep;
      const compensation = COMPENSATION_OF[step];
      const result = (yield* this.persistently(activityOf(compensation), this.compensationInput(reason))) as CompensationResult | undefined;
      this.setProgress({ completedSteps: [...remaining] });
      yield* this.emitCompensation(compensation, result, reason);
    }
  }

  private *emitCompensation(compensation: Compensation, result: CompensationResult | undefined, reason: string): Steps {
    switch (compensation) {
      case 'CancelPackage':
        yield* this.emit('PackageCancelled', { packageId: result?.undone ?? `pkg-${this.deliveryId}`, reason });
        return;
      case 'ReleaseDrone':
        yield* this.emit('DroneReleased', { droneId: result?.undone ?? this.progressValue.droneId ?? 'unknown', reason });
        return;
      case 'CancelDelivery':
        // The delivery's own terminal event (cancelled or failed) tells this step's story.
        return;
      default: {
        const _exhaustive: never = compensation;
        return _exhaustive;
      }
    }
  }

  compensationInput(reason: string): CompensationInput {
    return { deliveryId: this.deliveryId, reason, at: this.now().toISOString() };
  }
}

export function activityOf(compensation: Compensation): string {
  switch (compensation) {
    case 'CancelPackage':
      return ACTIVITIES.cancelPackage;
    case 'ReleaseDrone':
      return ACTIVITIES.releaseDrone;
    case 'CancelDelivery':
      return ACTIVITIES.cancelDelivery;
    default: {
      const _exhaustive: never = compensation;
      return _exhaustive;
    }
  }
}
