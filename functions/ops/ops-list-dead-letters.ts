/** `GET /api/ops/dead-letters?source=&reason=` (Deliveries.Admin): dead letters with reason, metadata and body. ETag/304. */
import { app } from '@azure/functions';
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { composition } from '../composition';
import { conditionalJson } from '../http/conditional';
import { withCaller } from '../http/edge';
import { fromDomainError } from '../http/problem';
import { FUNCTIONS, ROUTES } from '../names';
import { listDeadLetters, requireAdmin } from './ops-queries';

export async function opsListDeadLetters(request: HttpRequest): Promise<HttpResponseInit> {
  return withCaller(request, async (caller) => {
    const admin = requireAdmin(caller);
    if (!admin.ok) return fromDomainError(admin.error);
    const source = request.query.get('source') ?? undefined;
    const reason = request.query.get('reason') ?? undefined;
    const filter = { ...(source ? { source } : {}), ...(reason ? { reason } : {}) };
    return conditionalJson(request, await listDeadLetters(filter, composition().opsDeps()));
  });
}

app.http(FUNCTIONS.opsListDeadLetters, {
  route: ROUTES.opsDeadLetters,
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: opsListDeadLetters,
});
