/**
 * Recovery for a saga that died holding resources (runtime status Failed or Terminated before
 * it finished): started once by the supervisor, under a stable instance id, with the dead
 * saga's last progress. The same workflow and interpreter take over from that progress: the
 * events the saga had decided but not confirmed are sent again as they were, every step that
 * may have run is compensated (a Delivered saga is closed instead), and the stream goes on from
 * the next sequence, so it stays gapless.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import type { SagaResult } from '../../domain/delivery/saga';
import { recoveryState } from '../../domain/delivery/saga-workflow';
import { ORCHESTRATIONS } from '../names';
import type { RecoveryInput } from './contracts';
import { runSaga } from './saga-interpreter';

export function* deliveryRecovery(context: OrchestrationContext): Generator<Task, SagaResult, unknown> {
  const input = context.df.getInput() as RecoveryInput;
  const state = recoveryState({
    deliveryId: input.deliveryId,
    correlationId: input.correlationId,
    progress: input.progress,
    retry: input.retry,
    ...(input.compensationRounds !== undefined ? { compensationRounds: input.compensationRounds } : {}),
  });
  return yield* runSaga(
    context,
    state,
    (at) => ({ type: 'RecoveryStarted', reason: input.reason, at }),
    input.traceparent,
  );
}

df.app.orchestration(ORCHESTRATIONS.deliveryRecovery, deliveryRecovery);
