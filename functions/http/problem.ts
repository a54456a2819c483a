/**
 * The HTTP edge's error language: RFC 9457 problem+json. Domain errors carry a stable `code`;
 * this is the one place that maps codes to statuses.
 */
import type { HttpResponseInit } from '@azure/functions';
import type { DomainError, FieldError } from '../../domain/shared/errors';
import { assertNever } from '../../domain/shared/errors';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_BASE = 'https://fabrikam.example/problems/';

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly errors?: readonly FieldError[];
}

export function problemResponse(
  status: number,
  slug: string,
  title: string,
  detail: string,
  extra: { errors?: readonly FieldError[]; headers?: Record<string, string> } = {},
): HttpResponseInit {
  const body: Problem = {
    type: TYPE_BASE + slug,
    title,
    status,
    detail,
    ...(extra.errors ? { errors: extra.errors } : {}),
  };
  return {
    status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...extra.headers },
    body: JSON.stringify(body),
  };
}

export function fromDomainError(error: DomainError): HttpResponseInit {
  switch (error.code) {
    case 'ValidationFailed':
      return problemResponse(400, 'validation-failed', 'The request is not valid.', error.message, {
        errors: error.errors,
      });
    case 'NotFound':
      return problemResponse(404, 'not-found', 'Not found.', error.message);
    case 'Conflict':
      return problemResponse(409, 'conflict', 'Conflict.', error.message);
    case 'Unauthenticated':
      return problemResponse(401, 'unauthenticated', 'Authentication required.', error.message);
    case 'Forbidden':
      return problemResponse(403, 'forbidden', 'Forbidden.', error.message);
    case 'Throttled':
      return problemResponse(429, 'throttled', 'Too many requests.', error.message, {
        headers: { 'retry-after': String(error.retryAfterSeconds) },
      });
    case 'DependencyUnavailable':
      return problemResponse(503, 'dependency-unavailable', 'A dependency is unavailable.', error.message, {
        headers: { 'retry-after': '5' },
      });
    default:
      return assertNever(error, 'domain error');
  }
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}
