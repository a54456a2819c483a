/** `POST /api/deliveries`: request a delivery; starts its saga (docs/contract.md §1). */
import { randomUUID } from 'node:crypto';
import { app } from '@azure/functions';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { DurableSagas } from '../adapters/durable-sagas';
import { composition } from '../composition';
import { withCaller } from '../http/edge';
import { fromDomainError, jsonResponse } from '../http/problem';
import { FUNCTIONS, ROUTES } from '../names';
import * as intake from './intake';

export async function requestDelivery(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return withCaller(request, async (caller) => {
    const c = composition();
    const result = await intake.requestDelivery(await request.text(), caller, {
      intakes: c.intakes(),
      sagas: new DurableSagas(df.getClient(context)),
      inFlight: () => c.inFlightSagas(),
      maxInFlight: c.config.saga.maxInFlight,
      sla: c.sagaSla,
      retry: c.config.saga.stepRetry,
      now: () => new Date(),
      newId: () => randomUUID(),
    });
    if (!result.ok) return fromDomainError(result.error);
    const { deliveryId, created } = result.value;
    const status = `/api/deliveries/${deliveryId}`;
    context.info(JSON.stringify({ event: 'delivery.requested', deliveryId, created, callerId: caller.id }));
    return jsonResponse(
      202,
      { deliveryId, stage: 'Requested', links: { status, history: `${status}/history` } },
      { location: status },
    );
  });
}

app.http(FUNCTIONS.requestDelivery, {
  route: ROUTES.deliveries,
  methods: ['POST'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: requestDelivery,
});
