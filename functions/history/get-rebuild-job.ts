/**
 * `GET /api/ops/rebuild-views/{jobId}` (Deliveries.Admin): the rebuild job's status and progress
 * (`{ jobId, status: Running | Completed | Failed, progress }`), read from its orchestration:
 * the custom status while it runs, the output once it completed. Unknown job: 404.
 */
import { app } from '@azure/functions';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { isAdmin } from '../../domain/shared/caller';
import { jobStatusOf } from '../../domain/delivery/rebuild-job';
import { withCaller } from '../http/edge';
import { fromDomainError, jsonResponse } from '../http/problem';
import { FUNCTIONS, ORCHESTRATIONS, ROUTES } from '../names';

export async function getRebuildJob(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return withCaller(request, async (caller) => {
    if (!isAdmin(caller))
      return fromDomainError({ code: 'Forbidden', message: 'Rebuild jobs are for Deliveries.Admin.' });
    const jobId = request.params.jobId ?? '';
    const notFound = fromDomainError({ code: 'NotFound', message: `No rebuild job ${jobId}.` });
    let status: df.DurableOrchestrationStatus;
    try {
      status = await df.getClient(context).getStatus(jobId, { showInput: false });
    } catch (e) {
      if (/\b404\b/.test((e as Error).message ?? '')) return notFound;
      throw e;
    }
    if (status.name !== ORCHESTRATIONS.rebuildViewsJob) return notFound;
    const jobStatus = jobStatusOf(String(status.runtimeStatus));
    const progress =
      jobStatus === 'Completed' && status.output && typeof status.output === 'object'
        ? status.output
        : (status.customStatus ?? {});
    return jsonResponse(
      200,
      {
        jobId,
        status: jobStatus,
        progress,
        createdAt: new Date(status.createdTime).toISOString(),
        lastUpdatedAt: new Date(status.lastUpdatedTime).toISOString(),
        ...(jobStatus === 'Failed'
          ? { failure: `The job ended ${String(status.runtimeStatus)}; ask for the same range again to rerun it.` }
          : {}),
      },
      { 'cache-control': 'no-store', ...(jobStatus === 'Running' ? { 'retry-after': '5' } : {}) },
    );
  });
}

app.http(FUNCTIONS.getRebuildJob, {
  route: ROUTES.rebuildJob,
  methods: ['GET'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: getRebuildJob,
});
