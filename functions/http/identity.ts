/**
 * Caller identity from App Service Authentication headers (docs/contract.md §1). Azure sets them after
 * Entra ID sign-in and strips any a client sends, but only when App Service Authentication is on
 * for the app; without it the platform passes client-sent headers through. So the headers are
 * read only under a trust the configuration established (PrincipalTrust): otherwise there is no
 * caller. We read the two headers the contract names ourselves: `request.user` throws when the
 * optional name/idp headers are absent, and a missing header must be a 401, never a 500.
 */
import type { HttpRequest } from '@azure/functions';
import type { Caller } from '../../domain/shared/caller';
import type { PrincipalTrust } from '../config';

/** The claim type App Service names in `role_typ` for Entra ID. */
export const ENTRA_ROLE_CLAIM_TYPE = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role';
/** How Entra ID app-role claims arrive in `claims`, whatever `role_typ` says (microsoft-identity-web #1983, #2166). */
const ROLES_CLAIM = 'roles';

interface Claim {
  readonly typ?: unknown;
  readonly val?: unknown;
}

export function callerFrom(request: HttpRequest, trust: PrincipalTrust): Caller | undefined {
  if (trust.kind === 'untrusted') return undefined;
  const id = request.headers.get('x-ms-client-principal-id')?.trim();
  if (!id) return undefined;
  return { id, roles: rolesFrom(request.headers.get('x-ms-client-principal')) };
}

/** A role is a claim typed `roles`, or typed as the principal's `role_typ` names it. */
export function rolesFrom(header: string | null): string[] {
  if (!header) return [];
  let principal: unknown;
  try {
    principal = JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
  } catch {
    return [];
  }
  if (!principal || typeof principal !== 'object') return [];
  const p = principal as { role_typ?: unknown; claims?: unknown };
  const roleTypes = new Set([ROLES_CLAIM]);
  if (typeof p.role_typ === 'string' && p.role_typ !== '') roleTypes.add(p.role_typ);
  if (!Array.isArray(p.claims)) return [];
  const roles = (p.claims as Claim[])
    .filter(
      (c) =>
        c !== null &&
        typeof c === 'object' &&
        typeof c.typ === 'string' &&
        roleTypes.has(c.typ) &&
        typeof c.val === 'string',
    )
    .map((c) => c.val as string);
  return [...new Set(roles)];
}

/**
 * Builds the headers App Service sends for an Entra ID principal (role_typ the role URI, app
 * roles typed `roles`); used by tests, tools and the dev principal.
 */
export function principalHeaders(caller: Caller): Record<string, string> {
  const principal = {
    auth_typ: 'aad',
    name_typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
    role_typ: ENTRA_ROLE_CLAIM_TYPE,
    claims: [{ typ: 'name', val: caller.id }, ...caller.roles.map((r) => ({ typ: ROLES_CLAIM, val: r }))],
  };
  return {
    'x-ms-client-principal-id': caller.id,
    'x-ms-client-principal-name': caller.id,
    'x-ms-client-principal-idp': 'aad',
    'x-ms-client-principal': Buffer.from(JSON.stringify(principal)).toString('base64'),
  };
}
