/**
 * Caller identity from App Service Authentication headers (CONTRACT §1). Azure sets them after
 * Entra ID sign-in and strips any a client sends. We read the two headers the contract names
 * ourselves: `request.user` throws when the optional name/idp headers are absent, and a missing
 * header must be a 401, never a 500.
 */
import type { HttpRequest } from '@azure/functions';
import type { Caller } from '../../domain/shared/caller';

interface Claim {
  readonly typ?: unknown;
  readonly val?: unknown;
}

export function callerFrom(request: HttpRequest): Caller | undefined {
  const id = request.headers.get('x-ms-client-principal-id')?.trim();
  if (!id) return undefined;
  return { id, roles: rolesFrom(request.headers.get('x-ms-client-principal')) };
}

function rolesFrom(header: string | null): string[] {
  if (!header) return [];
  let principal: unknown;
  try {
    principal = JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
  } catch {
    return [];
  }
  if (!principal || typeof principal !== 'object') return [];
  const p = principal as { role_typ?: unknown; claims?: unknown };
  const roleType = typeof p.role_typ === 'string' && p.role_typ ? p.role_typ : 'roles';
  if (!Array.isArray(p.claims)) return [];
  return (p.claims as Claim[])
    .filter((c) => c && c.typ === roleType && typeof c.val === 'string')
    .map((c) => c.val as string);
}

/** Builds the headers App Service would send for a principal; used by tests, tools and the dev principal. */
export function principalHeaders(caller: Caller): Record<string, string> {
  const principal = {
    auth_typ: 'aad',
    name_typ: 'name',
    role_typ: 'roles',
    claims: caller.roles.map((r) => ({ typ: 'roles', val: r })),
  };
  return {
    'x-ms-client-principal-id': caller.id,
    'x-ms-client-principal-name': caller.id,
    'x-ms-client-principal-idp': 'aad',
    'x-ms-client-principal': Buffer.from(JSON.stringify(principal)).toString('base64'),
  };
}
