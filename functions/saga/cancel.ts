/**
 * The cancel use case (CONTRACT §1 `DELETE /api/deliveries/{id}`): only the owner or an admin
 * may cancel, and others learn nothing (404); a delivered delivery cannot be cancelled (409);
 * otherwise the saga is told, and compensates whatever it completed.
 */
import type { IntakeRecords } from '../../domain/delivery/agents';
import { canChange } from '../../domain/shared/caller';
import type { Caller } from '../../domain/shared/caller';
import { err, ok } from '../../domain/shared/errors';
import type { DomainError, Result } from '../../domain/shared/errors';
import { isValidId } from '../../domain/shared/ids';
import type { Sagas } from '../adapters/durable-sagas';
import { SAGA_EVENTS } from '../names';

export interface CancelDeps {
  readonly intakes: IntakeRecords;
  readonly sagas: Sagas;
  readonly now: () => Date;
}

export async function cancelDelivery(deliveryId: string, caller: Caller, deps: CancelDeps): Promise<Result<{ deliveryId: string }, DomainError>> {
  if (!isValidId(deliveryId)) {
    return err({ code: 'ValidationFailed', message: 'deliveryId is not a valid id.', errors: [{ path: '/deliveryId', message: 'must be 1-64 of [A-Za-z0-9_-]' }] });
  }
  const notFound = err<DomainError>({ code: 'NotFound', message: `delivery ${deliveryId} was not found` });
  const intake = await deps.intakes.get(deliveryId);
  if (!intake || !canChange(caller, intake.ownerId)) return notFound;
  const saga = await deps.sagas.status(deliveryId);
  const stage = saga?.progress?.stage;
  if (stage === 'Delivered' || intake.outcome === 'Delivered') {
    return err({ code: 'Conflict', message: `delivery ${deliveryId} was already delivered` });
  }
  if (stage === 'Failed' || intake.outcome === 'Failed') {
    return err({ code: 'Conflict', message: `delivery ${deliveryId} already failed; there is nothing to cancel` });
  }
  if (stage === 'Cancelled' || intake.outcome === 'Cancelled') return ok({ deliveryId });
  await deps.sagas.signal(deliveryId, SAGA_EVENTS.cancelRequested, { requestedBy: caller.id, at: deps.now().toISOString() });
  return ok({ deliveryId });
}
