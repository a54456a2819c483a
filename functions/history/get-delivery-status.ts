/** `GET /api/deliveries/{deliveryId}`: the delivery's status view, with ETag and If-None-Match → 304. */
import { app } from '@azure/functions';
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { composition } from '../composition';
import { withCaller } from '../http/edge';
import { fromDomainError, jsonResponse } from '../http/problem';
import { FUNCTIONS, ROUTES } from '../names';
import * as queries from './status-queries';

export async function getDeliveryStatus(request: HttpRequest): Promise<HttpResponseInit> {
  return withCaller(request, async (caller) => {
    const id = queries.checkId('deliveryId', request.params.deliveryId);
    if (!id.ok) return fromDomainError(id.error);
    const found = await queries.getDeliveryStatus(caller, id.value, composition().statusQueryDeps);
    if (!found.ok) return fromDomainError(found.error);
    const etag = queries.entityTag(found.value.etag);
    // The view changes with every event: caches revalidate (ETag) rather than guess an age.
    const headers = { etag, 'cache-control': 'private, no-cache' };
    if (queries.matchesIfNoneMatch(request.headers.get('if-none-match'), etag)) return { status: 304, headers };
    return jsonResponse(200, found.value.view, headers);
  });
}

app.http(FUNCTIONS.getDeliveryStatus, {
  route: ROUTES.delivery,
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: getDeliveryStatus,
});
