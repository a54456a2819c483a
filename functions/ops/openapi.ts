/** `GET /api/openapi.json`: the API's OpenAPI 3.1 document, generated from the code's own schemas (anonymous). */
import { app } from '@azure/functions';
import type { HttpResponseInit } from '@azure/functions';
import { openApiJson } from '../http/openapi';
import { FUNCTIONS, ROUTES } from '../names';

export async function openApi(): Promise<HttpResponseInit> {
  return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'public, max-age=300' }, body: openApiJson() };
}

app.http(FUNCTIONS.openApi, {
  route: ROUTES.openApi,
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: openApi,
});
