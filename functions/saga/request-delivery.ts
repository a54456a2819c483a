/** `POST /api/deliveries`: request a delivery; starts its saga (docs/contract.md §1). */
import { randomUUID } from 'node:crypto';
import { app } from '@azure/functions';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { DurableSagas } from '../adapters/durable-sagas';
import { composition } from '../composition';
import type { Composition } from '../composition';
import { withCaller } from '../http/edge';
import { fromDomainError, jsonResponse } from '../http/problem';
import { FUNCTIONS, ROUTES } from '../names';
import * as intake from './intake';
import { DELIVERY_ID, inSpan, invocationParent, traceparentOf } from '../tracing/spans';

/**
 * The delivery's trace starts here: under the host's invocation span in Azure, or the caller's
 * `traceparent` header, or as a new trace.
 */
export async function requestDelivery(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const c = composition();
  const parent = invocationParent(context.traceContext, request.headers.get('traceparent'));
  return inSpan(
    'delivery.intake',
    { parent, attributes: { 'http.request.method': 'POST', 'http.route': `/api/${ROUTES.deliveries}` } },
    async (span) => {
      const response = await intakeRequest(request, context, c, (deliveryId) =>
        span.setAttribute(DELIVERY_ID, deliveryId),
      );
      span.setAttribute('http.response.status_code', response.status ?? 200);
      return response;
    },
  );
}

async function intakeRequest(
  request: HttpRequest,
  context: InvocationContext,
  c: Composition,
  named: (deliveryId: string) => void,
): Promise<HttpResponseInit> {
  return withCaller(request, async (caller) => {
    const traceparent = traceparentOf();
    const result = await intake.requestDelivery(await request.text(), caller, {
      intakes: c.intakes(),
      sagas: new DurableSagas(df.getClient(context)),
      inFlight: () => c.inFlightSagas(),
      maxInFlight: c.config.saga.maxInFlight,
      sla: c.sagaSla,
      retry: c.config.saga.stepRetry,
      // The composition's clock, which the supervisor's windows and the durable store share.
      now: () => new Date(c.wallClock()),
      newId: () => randomUUID(),
      ...(traceparent ? { traceparent } : {}),
    });
    if (!result.ok) return fromDomainError(result.error);
    const { deliveryId, created } = result.value;
    named(deliveryId);
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
