/** `GET /api/deliveries/{deliveryId}/history`: the delivery's events in sequence order, from the event store. */
import { app } from '@azure/functions';
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { composition } from '../composition';
import { withCaller } from '../http/edge';
import { fromDomainError, jsonResponse } from '../http/problem';
import { FUNCTIONS, ROUTES } from '../names';
import * as queries from './status-queries';

export async function getDeliveryHistory(request: HttpRequest): Promise<HttpResponseInit> {
  return withCaller(request, async (caller) => {
    const id = queries.checkId('deliveryId', request.params.deliveryId);
    if (!id.ok) return fromDomainError(id.error);
    const found = await queries.getDeliveryHistory(caller, id.value, composition().statusQueryDeps);
    if (!found.ok) return fromDomainError(found.error);
    return jsonResponse(200, found.value, { 'cache-control': 'private, no-cache' });
  });
}

app.http(FUNCTIONS.getDeliveryHistory, {
  route: ROUTES.deliveryHistory,
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: getDeliveryHistory,
});
