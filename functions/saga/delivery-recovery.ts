/**
 * Recovery for a saga that died holding resources (runtime status Failed or Terminated before a
 * terminal stage): started by the supervisor with the dead saga's last progress. It re-sends the
 * saga's last recorded event (same id: a no-op if it had been sent), compensates the completed
 * steps from the next sequence on, and ends the stream with DeliveryFailed, so the stream stays
 * gapless and the delivery's resources are freed.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import { TERMINAL_EVENT_TYPES } from '../../domain/delivery/events';
import { ACTIVITIES, ORCHESTRATIONS } from '../names';
import type { RecoveryInput } from './contracts';
import { SagaSession } from './saga-runtime';

function* deliveryRecovery(context: OrchestrationContext): Generator<Task, unknown, unknown> {
  const input = context.df.getInput() as RecoveryInput;
  const s = new SagaSession(context, input.deliveryId, input.correlationId, input.retry, input.progress);
  yield* s.resendLast();
  const last = input.progress.lastEvent;
  let outcome = 'Failed';
  if (last?.type === 'DeliveryCompleted' || (last?.type === 'DroneReleased' && input.progress.stage === 'Delivered')) {
    // Delivered, but the saga died before letting go of the drone.
    outcome = 'Delivered';
    yield* s.persistently(ACTIVITIES.completeDelivery, { deliveryId: input.deliveryId, at: s.now().toISOString() });
    const released = (yield* s.persistently(ACTIVITIES.releaseDrone, s.compensationInput('delivery completed'))) as { undone?: string } | undefined;
    if (last.type === 'DeliveryCompleted') yield* s.emit('DroneReleased', { droneId: released?.undone ?? input.progress.droneId ?? 'unknown', reason: 'delivery completed' });
  } else if (last && TERMINAL_EVENT_TYPES.has(last.type)) {
    outcome = last.type === 'DeliveryCancelled' ? 'Cancelled' : 'Failed';
  } else {
    yield* s.compensate(input.progress.completedSteps, input.reason);
    yield* s.emit('DeliveryFailed', { reason: input.reason, code: 'SupervisorRecovered' });
  }
  s.setProgress({ stage: outcome === 'Delivered' ? 'Delivered' : outcome === 'Cancelled' ? 'Cancelled' : 'Failed', finished: true, ...(outcome === 'Failed' ? { failure: { code: 'SupervisorRecovered', reason: input.reason } } : {}) });
  yield* s.persistently(ACTIVITIES.closeIntake, { deliveryId: input.deliveryId, outcome });
  return { deliveryId: input.deliveryId, outcome, reason: input.reason };
}

df.app.orchestration(ORCHESTRATIONS.deliveryRecovery, deliveryRecovery);
