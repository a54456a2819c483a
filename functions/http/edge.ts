/**
 * What every authenticated read endpoint does before and after its use case: identity first
 * (401 before anything is read), and a dependency that is down or throttling becomes a 503
 * problem with Retry-After instead of an unhandled 500.
 */
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { Caller } from '../../domain/shared/caller';
import { isTransient } from '../resilience/transient';
import { callerFrom } from './identity';
import { fromDomainError } from './problem';

export function unauthenticated(): HttpResponseInit {
  return fromDomainError({ code: 'Unauthenticated', message: 'This endpoint needs a signed-in caller (App Service Authentication).' });
}

/** Runs `handle` for an identified caller; answers 401 without one and 503 for transient dependency failures. */
export async function withCaller(request: HttpRequest, handle: (caller: Caller) => Promise<HttpResponseInit>): Promise<HttpResponseInit> {
  const caller = callerFrom(request);
  if (!caller) return unauthenticated();
  try {
    return await handle(caller);
  } catch (e) {
    if (isTransient(e)) return fromDomainError({ code: 'DependencyUnavailable', message: 'A store did not answer; try again shortly.' });
    throw e;
  }
}
