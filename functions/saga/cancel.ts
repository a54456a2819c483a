/**
 * The cancel use case (docs/contract.md §1 `DELETE /api/deliveries/{id}`): only the owner or an admin
 * may cancel, and others learn nothing (404). A delivery whose saga never started is not found
 * (404). One that is over, or whose saga has already fixed another outcome (delivered, or
 * compensating a failure), cannot be cancelled (409, naming the stage). Otherwise the saga is
 * told, and compensates every step it may have taken; a repeated cancel is accepted again.
 */
import { isFinished } from '../../domain/delivery/status';
import { canChange } from '../../domain/shared/caller';
import type { Caller } from '../../domain/shared/caller';
import { err, ok } from '../../domain/shared/errors';
import type { DomainError, Result } from '../../domain/shared/errors';
import { isValidId } from '../../domain/shared/ids';
import { SAGA_EVENTS } from '../names';
import type { IntakeRecords, Sagas } from '../../domain/delivery/ports';

export interface CancelDeps {
  readonly intakes: IntakeRecords;
  readonly sagas: Sagas;
  readonly now: () => Date;
}

export async function cancelDelivery(
  deliveryId: string,
  caller: Caller,
  deps: CancelDeps,
): Promise<Result<{ deliveryId: string }, DomainError>> {
  if (!isValidId(deliveryId)) {
    return err({
      code: 'ValidationFailed',
      message: 'deliveryId is not a valid id.',
      errors: [{ path: '/deliveryId', message: 'must be 1-64 of [A-Za-z0-9_-]' }],
    });
  }
  const notFound = err<DomainError>({ code: 'NotFound', message: `delivery ${deliveryId} was not found` });
  const conflict = (stage: string, why: string): Result<{ deliveryId: string }, DomainError> =>
    err({ code: 'Conflict', message: `delivery ${deliveryId} is ${stage}: ${why}` });
  const intake = await deps.intakes.get(deliveryId);
  if (!intake || !canChange(caller, intake.ownerId)) return notFound;
  const saga = await deps.sagas.status(deliveryId);
  if (!saga)
    return intake.outcome !== undefined && isFinished(intake.outcome)
      ? conflict(intake.outcome, 'it is over')
      : notFound;
  const progress = saga.progress;
  const stage = progress?.stage ?? 'Requested';
  if (isFinished(stage) || progress?.finished) return conflict(stage, 'it is over');
  if (intake.outcome !== undefined && isFinished(intake.outcome)) return conflict(intake.outcome, 'it is over');
  if (progress?.outcome === 'Delivered') return conflict('Delivered', 'it was delivered');
  if (progress?.outcome === 'Failed') return conflict(stage, 'it is already compensating a failure');
  if (progress?.outcome === 'Cancelled') return ok({ deliveryId });
  if (saga.runtimeStatus === 'Failed' || saga.runtimeStatus === 'Terminated')
    return conflict('Failed', 'its saga stopped; the supervisor recovers it');
  const told = await deps.sagas.signal(deliveryId, SAGA_EVENTS.cancelRequested, {
    requestedBy: caller.id,
    at: deps.now().toISOString(),
  });
  return told === 'delivered' ? ok({ deliveryId }) : conflict(stage, 'its saga has just finished');
}
