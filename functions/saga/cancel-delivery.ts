/** `DELETE /api/deliveries/{deliveryId}`: cancel; the saga compensates what it completed (docs/contract.md §1). */
import { app } from '@azure/functions';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { DurableSagas } from '../adapters/durable-sagas';
import { composition } from '../composition';
import { withCaller } from '../http/edge';
import { fromDomainError, jsonResponse } from '../http/problem';
import { FUNCTIONS, ROUTES } from '../names';
import * as cancel from './cancel';

export async function cancelDelivery(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return withCaller(request, async (caller) => {
    const c = composition();
    const deliveryId = request.params.deliveryId ?? '';
    const result = await cancel.cancelDelivery(deliveryId, caller, {
      intakes: c.intakes(),
      sagas: new DurableSagas(df.getClient(context)),
      now: () => new Date(),
    });
    if (!result.ok) return fromDomainError(result.error);
    context.info(JSON.stringify({ event: 'delivery.cancelRequested', deliveryId, callerId: caller.id }));
    return jsonResponse(202, {
      deliveryId,
      status: 'CancelRequested',
      links: { status: `/api/deliveries/${deliveryId}` },
    });
  });
}

app.http(FUNCTIONS.cancelDelivery, {
  route: ROUTES.delivery,
  methods: ['DELETE'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: cancelDelivery,
});
