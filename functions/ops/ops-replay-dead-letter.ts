/**
 * `POST /api/ops/dead-letters/replay` (Deliveries.Admin), body `{ "id": "<dead letter id>" }`:
 * re-publishes the record's body to its source hub, once. `200 { outcome: replayed }`; again:
 * `200 { outcome: alreadyReplayed }` naming the first replay; a body today's schema still
 * refuses: `409` (replaying it would only dead-letter it again); unknown id: `404`.
 */
import { app } from '@azure/functions';
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { composition } from '../composition';
import { withCaller } from '../http/edge';
import { fromDomainError, jsonResponse } from '../http/problem';
import { FUNCTIONS, ROUTES } from '../names';
import { replayDeadLetter, requireAdmin } from './ops-queries';

const MAX_ID_LENGTH = 1024;

export async function opsReplayDeadLetter(request: HttpRequest): Promise<HttpResponseInit> {
  return withCaller(request, async (caller) => {
    const admin = requireAdmin(caller);
    if (!admin.ok) return fromDomainError(admin.error);
    let id: unknown;
    try {
      id = ((await request.json()) as { id?: unknown } | null)?.id;
    } catch {
      id = undefined;
    }
    if (typeof id !== 'string' || id === '' || id.length > MAX_ID_LENGTH || id.includes('..')) {
      return fromDomainError({
        code: 'ValidationFailed',
        message: 'The body must be { "id": "<dead letter id>" }.',
        errors: [{ path: '/id', message: `must be a dead letter id (1-${MAX_ID_LENGTH} characters)` }],
      });
    }
    const result = await replayDeadLetter(id, composition().opsDeps());
    switch (result.outcome) {
      case 'replayed':
      case 'alreadyReplayed':
        return jsonResponse(200, { id, ...result });
      case 'notFound':
        return fromDomainError({ code: 'NotFound', message: `No dead letter ${id}.` });
      case 'stillInvalid':
        return fromDomainError({
          code: 'Conflict',
          message: `Today's schema still refuses this body (${result.reason}: ${result.errors[0]?.path ?? '/'} ${result.errors[0]?.message ?? ''}); replaying it would dead-letter it again.`,
        });
      case 'unsupportedSource':
        return fromDomainError({ code: 'Conflict', message: `Dead letters from ${result.source} cannot be replayed.` });
      default: {
        const _exhaustive: never = result;
        return _exhaustive;
      }
    }
  });
}

app.http(FUNCTIONS.opsReplayDeadLetter, {
  route: ROUTES.opsReplayDeadLetter,
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: opsReplayDeadLetter,
});
