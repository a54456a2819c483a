/**
 * What every authenticated endpoint does before and after its use case: identity first (401
 * before anything is read, and for everyone when nothing vouches for the principal headers),
 * and a dependency that is down or throttling becomes a 503 problem with Retry-After instead of
 * an unhandled 500.
 */
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { Caller } from '../../domain/shared/caller';
import { composition } from '../composition';
import type { PrincipalTrust } from '../config';
import { isTransient } from '../resilience/transient';
import { callerFrom } from './identity';
import { fromDomainError } from './problem';

function unauthenticated(trust?: PrincipalTrust): HttpResponseInit {
  const message =
    trust?.kind === 'untrusted'
      ? 'This app does not run behind App Service Authentication, so it identifies no caller.'
      : 'This endpoint needs a signed-in caller (App Service Authentication).';
  return fromDomainError({ code: 'Unauthenticated', message });
}

/** The caller, when the platform vouches for the principal headers and they name one. */
export function trustedCaller(request: HttpRequest): Caller | undefined {
  return callerFrom(request, composition().config.principalTrust);
}

/** Runs `handle` for an identified caller; answers 401 without one and 503 for transient dependency failures. */
export async function withCaller(
  request: HttpRequest,
  handle: (caller: Caller) => Promise<HttpResponseInit>,
): Promise<HttpResponseInit> {
  const trust = composition().config.principalTrust;
  const caller = callerFrom(request, trust);
  if (!caller) return unauthenticated(trust);
  try {
    return await handle(caller);
  } catch (e) {
    if (isTransient(e))
      return fromDomainError({ code: 'DependencyUnavailable', message: 'A store did not answer; try again shortly.' });
    throw e;
  }
}
