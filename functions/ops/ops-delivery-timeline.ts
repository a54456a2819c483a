/**
 * `GET /api/ops/deliveries/{deliveryId}/timeline` (Deliveries.Admin): the delivery's event stream
 * beside its saga's (and recovery's) durable history, read from the durable client's status
 * with history. ETag/304.
 */
import { app } from '@azure/functions';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { composition } from '../composition';
import { conditionalJson } from '../http/conditional';
import { withCaller } from '../http/edge';
import { fromDomainError } from '../http/problem';
import { checkId } from '../history/status-queries';
import { FUNCTIONS, ROUTES } from '../names';
import { deliveryTimeline, requireAdmin } from './ops-queries';
import type { SagaHistory } from './ops-queries';
import { sagaTimeline } from './saga-timeline';

async function sagaHistoryOf(client: df.DurableClient, instanceId: string): Promise<SagaHistory | undefined> {
  let status: df.DurableOrchestrationStatus;
  try {
    status = await client.getStatus(instanceId, { showHistory: true, showHistoryOutput: false, showInput: false });
  } catch (e) {
    if (/\b404\b/.test((e as Error).message ?? '')) return undefined;
    throw e;
  }
  return {
    instanceId,
    runtimeStatus: String(status.runtimeStatus),
    createdAt: new Date(status.createdTime).toISOString(),
    lastUpdatedAt: new Date(status.lastUpdatedTime).toISOString(),
    entries: sagaTimeline(instanceId, Array.isArray(status.history) ? status.history : []),
  };
}

export async function opsDeliveryTimeline(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return withCaller(request, async (caller) => {
    const admin = requireAdmin(caller);
    if (!admin.ok) return fromDomainError(admin.error);
    const id = checkId('deliveryId', request.params.deliveryId);
    if (!id.ok) return fromDomainError(id.error);
    const client = df.getClient(context);
    const found = await deliveryTimeline(caller, id.value, composition().statusQueryDeps, (instanceId) =>
      sagaHistoryOf(client, instanceId),
    );
    if (!found.ok) return fromDomainError(found.error);
    return conditionalJson(request, found.value);
  });
}

app.http(FUNCTIONS.opsDeliveryTimeline, {
  route: ROUTES.opsDeliveryTimeline,
  methods: ['GET'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: opsDeliveryTimeline,
});
