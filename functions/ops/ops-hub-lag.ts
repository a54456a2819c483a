/** `GET /api/ops/hub-lag` (Deliveries.Admin): each consumer's lag per partition, or why it is unavailable here. ETag/304. */
import { app } from '@azure/functions';
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { composition } from '../composition';
import { conditionalJson } from '../http/conditional';
import { withCaller } from '../http/edge';
import { fromDomainError } from '../http/problem';
import { FUNCTIONS, ROUTES } from '../names';
import { hubLag, requireAdmin } from './ops-queries';

export async function opsHubLag(request: HttpRequest): Promise<HttpResponseInit> {
  return withCaller(request, async (caller) => {
    const admin = requireAdmin(caller);
    if (!admin.ok) return fromDomainError(admin.error);
    return conditionalJson(request, await hubLag(composition().opsDeps()));
  });
}

app.http(FUNCTIONS.opsHubLag, {
  route: ROUTES.opsHubLag,
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: opsHubLag,
});
