/**
 * The scheduler: one orchestration per delivery (instance id = delivery id), the delivery
 * workflow run by the saga interpreter from its start: forward steps CreatePackage →
 * AssignDrone → ScheduleDelivery, then the milestones against the SLA timers, a cancel and the
 * supervisor, and on any failure or cancel the compensations of every step that may have run,
 * in reverse. The saga is the only writer of its delivery's event stream.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import { completeBy } from '../../domain/delivery/saga';
import type { SagaResult } from '../../domain/delivery/saga';
import { initialSagaState } from '../../domain/delivery/saga-workflow';
import { ORCHESTRATIONS } from '../names';
import type { SagaInput } from './contracts';
import { runSaga } from './saga-interpreter';

export function* deliverySaga(context: OrchestrationContext): Generator<Task, SagaResult, unknown> {
  const input = context.df.getInput() as SagaInput;
  const state = initialSagaState({
    deliveryId: input.deliveryId,
    correlationId: input.correlationId,
    request: input.request,
    sla: input.sla,
    retry: input.retry,
    completeBy: completeBy(context.df.currentUtcDateTime, input.request, input.sla).toISOString(),
    ...(input.compensationRounds !== undefined ? { compensationRounds: input.compensationRounds } : {}),
  });
  return yield* runSaga(context, state, (at) => ({ type: 'SagaStarted', at }), input.traceparent);
}

df.app.orchestration(ORCHESTRATIONS.deliverySaga, deliverySaga);
