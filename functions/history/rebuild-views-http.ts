/**
 * `POST /api/ops/rebuild-views` (Deliveries.Admin): `{ from, to, deliveryId? }` replays the
 * archived delivery events of a time range into the event store and rebuilds the status views
 * they touch. Runs within the request and answers with the report; a range too large for one
 * request is split by the caller (or run with the CLI, which has no request timeout).
 */
import { app } from '@azure/functions';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { isAdmin } from '../../domain/shared/caller';
import { validationFailed } from '../../domain/shared/errors';
import { composition } from '../composition';
import { withCaller } from '../http/edge';
import { fromDomainError, jsonResponse } from '../http/problem';
import type { RebuildRequest } from '../http/schemas';
import { FUNCTIONS, ROUTES } from '../names';
import { checkRebuildRequest, rebuildViews } from './rebuild';

const MAX_BODY_BYTES = 4 * 1024;

type Parsed = { readonly ok: true; readonly value: RebuildRequest } | { readonly ok: false; readonly response: HttpResponseInit };

async function parseRequest(request: HttpRequest): Promise<Parsed> {
  const invalid = (message: string): Parsed => ({
    ok: false,
    response: fromDomainError(validationFailed('The rebuild request is not valid.', [{ path: '/', message }])),
  });
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) return invalid(`body over ${MAX_BODY_BYTES} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    return invalid(`not JSON: ${(e as Error).message}`);
  }
  const checked = checkRebuildRequest(body);
  return checked.ok ? checked : { ok: false, response: fromDomainError(checked.error) };
}

export async function rebuildViewsHttp(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return withCaller(request, async (caller) => {
    if (!isAdmin(caller)) return fromDomainError({ code: 'Forbidden', message: 'Rebuilding views is for Deliveries.Admin.' });
    const checked = await parseRequest(request);
    if (!checked.ok) return checked.response;
    const parsed = checked.value;
    const c = composition();
    const archive = c.archiveReader();
    if (!archive) return fromDomainError({ code: 'DependencyUnavailable', message: 'No archive is configured for this app.' });
    const range = { from: parsed.from, to: parsed.to, ...(parsed.deliveryId !== undefined ? { deliveryId: parsed.deliveryId } : {}) };
    context.info(JSON.stringify({ event: 'history.rebuild.started', by: caller.id, ...range }));
    const report = await rebuildViews(archive.events(range), {
      ...c.historyDeps,
      ...(parsed.deliveryId !== undefined ? { deliveryId: parsed.deliveryId } : {}),
      onProgress: (p) => context.info(JSON.stringify({ event: 'history.rebuild.progress', ...p })),
    });
    return jsonResponse(200, report, { 'cache-control': 'no-store' });
  });
}

app.http(FUNCTIONS.rebuildViews, {
  route: ROUTES.rebuildViews,
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: rebuildViewsHttp,
});
