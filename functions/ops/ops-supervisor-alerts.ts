/**
 * `GET /api/ops/supervisor-alerts` (Deliveries.Admin): what the supervisor would do about each
 * unfinished saga now (the verdicts its timer run computes, nothing done) and the compensations it gave up on.
 * ETag/304.
 */
import { app } from '@azure/functions';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { DurableSagas } from '../adapters/durable-sagas';
import { composition } from '../composition';
import { conditionalJson } from '../http/conditional';
import { withCaller } from '../http/edge';
import { fromDomainError } from '../http/problem';
import { FUNCTIONS, ROUTES } from '../names';
import { supervisorDeps } from '../saga/supervisor';
import { requireAdmin, supervisorFindings } from './ops-queries';

export async function opsSupervisorAlerts(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return withCaller(request, async (caller) => {
    const admin = requireAdmin(caller);
    if (!admin.ok) return fromDomainError(admin.error);
    const c = composition();
    const supervisor = supervisorDeps(
      c,
      new DurableSagas(df.getClient(context)),
      () => new Date(),
      () => undefined,
    );
    return conditionalJson(request, await supervisorFindings(supervisor, c.opsDeps()));
  });
}

app.http(FUNCTIONS.opsSupervisorAlerts, {
  route: ROUTES.opsSupervisorAlerts,
  methods: ['GET'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: opsSupervisorAlerts,
});
