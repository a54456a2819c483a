/**
 * Conditional GET for read models that have no stored version of their own (lists, reports):
 * the entity tag is a hash of the representation, so a poller that sends it back in
 * If-None-Match gets 304 with no body while nothing changed. The read still happens; what is
 * saved is the transfer and the client's re-render.
 */
import { createHash } from 'node:crypto';
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { jsonResponse } from './problem';
import { matchesIfNoneMatch } from '../history/status-queries';

export function conditionalJson(request: HttpRequest, body: unknown): HttpResponseInit {
  const text = JSON.stringify(body);
  const etag = `"${createHash('sha256').update(text).digest('base64url').slice(0, 27)}"`;
  const headers = { etag, 'cache-control': 'private, no-cache' };
  if (matchesIfNoneMatch(request.headers.get('if-none-match'), etag)) return { status: 304, headers };
  return { ...jsonResponse(200, undefined, headers), body: text };
}
