/** `GET /api/drones/{droneId}`: the drone's latest known state (Deliveries.Admin or Deliveries.Reader). */
import { app } from '@azure/functions';
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { composition } from '../composition';
import { withCaller } from '../http/edge';
import { fromDomainError, jsonResponse } from '../http/problem';
import { FUNCTIONS, ROUTES } from '../names';
import * as queries from './status-queries';

export async function getDrone(request: HttpRequest): Promise<HttpResponseInit> {
  return withCaller(request, async (caller) => {
    const id = queries.checkId('droneId', request.params.droneId);
    if (!id.ok) return fromDomainError(id.error);
    const found = await queries.getDrone(caller, id.value, composition().statusQueryDeps);
    if (!found.ok) return fromDomainError(found.error);
    return jsonResponse(200, found.value, { 'cache-control': 'private, no-cache' });
  });
}

app.http(FUNCTIONS.getDrone, {
  route: ROUTES.drone,
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: getDrone,
});
