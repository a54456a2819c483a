/**
 * `POST /api/ops/rebuild-views` (Deliveries.Admin): `{ from, to, deliveryId? }` starts the job
 * that replays the archived delivery events of the range into the event store and rebuilds the
 * status views they touch (rebuild-views-job.ts), and answers 202 with the job's Location. The job id
 * comes from the range: the same range asked again while its job runs answers with that job; once
 * it has finished, asking again starts it afresh. The range is bounded by RebuildMaxRangeDays.
 */
import { app } from '@azure/functions';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { isAdmin } from '../../domain/shared/caller';
import { validationFailed } from '../../domain/shared/errors';
import { rebuildJobId } from '../../domain/delivery/rebuild-job';
import { composition } from '../composition';
import { withCaller } from '../http/edge';
import { fromDomainError, jsonResponse } from '../http/problem';
import type { RebuildRequest } from '../http/schemas';
import { FUNCTIONS, ORCHESTRATIONS, ROUTES } from '../names';
import { checkRebuildRequest } from './rebuild';
import type { RebuildJobInput } from './rebuild-views-job';

const MAX_BODY_BYTES = 4 * 1024;

type Parsed =
  { readonly ok: true; readonly value: RebuildRequest } | { readonly ok: false; readonly response: HttpResponseInit };

async function parseRequest(request: HttpRequest, maxRangeMs: number): Promise<Parsed> {
  const invalid = (path: string, message: string): Parsed => ({
    ok: false,
    response: fromDomainError(validationFailed('The rebuild request is not valid.', [{ path, message }])),
  });
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) return invalid('/', `body over ${MAX_BODY_BYTES} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    return invalid('/', `not JSON: ${(e as Error).message}`);
  }
  const checked = checkRebuildRequest(body);
  if (!checked.ok) return { ok: false, response: fromDomainError(checked.error) };
  const span = Date.parse(checked.value.to) - Date.parse(checked.value.from);
  if (span > maxRangeMs)
    return invalid('/to', `the range may span at most ${maxRangeMs / 86_400_000} days (RebuildMaxRangeDays)`);
  return checked;
}

export const rebuildJobLocation = (jobId: string): string =>
  `/api/${ROUTES.rebuildJob.replace('{jobId}', encodeURIComponent(jobId))}`;

/** HTTP 409 from the extension: an instance with that id exists and has not finished. */
const isExists = (e: unknown): boolean => /\b409\b|already exists/i.test((e as Error).message ?? '');

export async function rebuildViews(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return withCaller(request, async (caller) => {
    if (!isAdmin(caller))
      return fromDomainError({ code: 'Forbidden', message: 'Rebuilding views is for Deliveries.Admin.' });
    const c = composition();
    const checked = await parseRequest(request, c.config.history.rebuildMaxRangeMs);
    if (!checked.ok) return checked.response;
    if (!c.archiveReader())
      return fromDomainError({ code: 'DependencyUnavailable', message: 'No archive is configured for this app.' });
    const { from, to, deliveryId } = checked.value;
    const range = { from, to, ...(deliveryId !== undefined ? { deliveryId } : {}) };
    const jobId = rebuildJobId(range);
    const input: RebuildJobInput = { range, retry: c.config.saga.stepRetry };
    let started = true;
    try {
      await df.getClient(context).startNew(ORCHESTRATIONS.rebuildViewsJob, { instanceId: jobId, input });
    } catch (e) {
      if (!isExists(e)) throw e;
      started = false;
    }
    context.info(
      JSON.stringify({
        event: started ? 'history.rebuild.started' : 'history.rebuild.joined',
        by: caller.id,
        jobId,
        ...range,
      }),
    );
    const location = rebuildJobLocation(jobId);
    return jsonResponse(
      202,
      { jobId, status: 'Running', links: { status: location } },
      { location, 'retry-after': '5', 'cache-control': 'no-store' },
    );
  });
}

app.http(FUNCTIONS.rebuildViews, {
  route: ROUTES.rebuildViews,
  methods: ['POST'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: rebuildViews,
});
