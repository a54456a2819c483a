/**
 * `GET /api/ops/deliveries/{deliveryId}/trace` (Deliveries.Admin): the spans of one delivery's
 * trace, for the console's waterfall. Served only where the app keeps spans in memory (the local
 * runtime, tracing/span-store.ts); in Azure the spans go to Application Insights, which serves
 * traces itself, so the route answers 501 saying where to look.
 */
import { app } from '@azure/functions';
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { isAdmin } from '../../domain/shared/caller';
import { composition } from '../composition';
import { checkId } from '../history/status-queries';
import { withCaller } from '../http/edge';
import { fromDomainError, jsonResponse, problemResponse } from '../http/problem';
import { FUNCTIONS, ROUTES } from '../names';
import { DELIVERY_ID } from '../tracing/spans';

export async function getDeliveryTrace(request: HttpRequest): Promise<HttpResponseInit> {
  return withCaller(request, async (caller) => {
    if (!isAdmin(caller)) return fromDomainError({ code: 'Forbidden', message: 'Traces are for Deliveries.Admin.' });
    const id = checkId('deliveryId', request.params.deliveryId);
    if (!id.ok) return fromDomainError(id.error);
    const store = composition().tracing.spans;
    if (!store) {
      return problemResponse(
        501,
        'trace-not-kept',
        'Traces are served by Application Insights.',
        `This app keeps no spans in memory outside the local runtime: it exports them to Application Insights. Find the trace there by the span attribute ${DELIVERY_ID} = "${id.value}" (Transaction search, or the dependencies/requests tables by operation_Id).`,
      );
    }
    const { traceIds, spans } = store.traceOf(DELIVERY_ID, id.value);
    if (spans.length === 0) {
      return fromDomainError({
        code: 'NotFound',
        message: `No span of delivery ${id.value} is kept (the last ${store.capacity} spans are).`,
      });
    }
    return jsonResponse(200, { deliveryId: id.value, traceIds, spans }, { 'cache-control': 'no-store' });
  });
}

app.http(FUNCTIONS.getDeliveryTrace, {
  route: ROUTES.deliveryTrace,
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: getDeliveryTrace,
});
