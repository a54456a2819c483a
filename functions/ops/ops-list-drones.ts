/** `GET /api/ops/drones` (Deliveries.Admin): every drone's latest state with its freshness, for the console's fleet map. ETag/304. */
import { app } from '@azure/functions';
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { composition } from '../composition';
import { conditionalJson } from '../http/conditional';
import { withCaller } from '../http/edge';
import { fromDomainError } from '../http/problem';
import { FUNCTIONS, ROUTES } from '../names';
import { listFleet, requireAdmin } from './ops-queries';

export async function opsListDrones(request: HttpRequest): Promise<HttpResponseInit> {
  return withCaller(request, async (caller) => {
    const admin = requireAdmin(caller);
    if (!admin.ok) return fromDomainError(admin.error);
    return conditionalJson(request, await listFleet(composition().opsDeps()));
  });
}

app.http(FUNCTIONS.opsListDrones, {
  route: ROUTES.opsDrones,
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: opsListDrones,
});
