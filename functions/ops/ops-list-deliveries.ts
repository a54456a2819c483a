/** `GET /api/ops/deliveries?status=<stage>` (Deliveries.Admin): counts per stage and the (filtered) deliveries, late and stuck marked. ETag/304. */
import { app } from '@azure/functions';
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { composition } from '../composition';
import { conditionalJson } from '../http/conditional';
import { withCaller } from '../http/edge';
import { fromDomainError } from '../http/problem';
import { FUNCTIONS, ROUTES } from '../names';
import { listDeliveries, parseStage, requireAdmin } from './ops-queries';

export async function opsListDeliveries(request: HttpRequest): Promise<HttpResponseInit> {
  return withCaller(request, async (caller) => {
    const admin = requireAdmin(caller);
    if (!admin.ok) return fromDomainError(admin.error);
    const stage = parseStage(request.query.get('status'));
    if (!stage.ok) return fromDomainError(stage.error);
    return conditionalJson(request, await listDeliveries(stage.value, composition().opsDeps()));
  });
}

app.http(FUNCTIONS.opsListDeliveries, {
  route: ROUTES.opsDeliveries,
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: opsListDeliveries,
});
