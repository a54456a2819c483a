/**
 * `GET /api/openapi.json`: the API's OpenAPI 3.1 document, generated from the code's own schemas.
 * For signed-in callers, like every route but health (App Service Authentication excludes only
 * /api/health from sign-in).
 */
import { app } from '@azure/functions';
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { withCaller } from '../http/edge';
import { openApiJson } from '../http/openapi';
import { FUNCTIONS, ROUTES } from '../names';

export async function openApi(request: HttpRequest): Promise<HttpResponseInit> {
  return withCaller(request, async () => ({
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'private, max-age=300' },
    body: openApiJson(),
  }));
}

app.http(FUNCTIONS.openApi, {
  route: ROUTES.openApi,
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: openApi,
});
