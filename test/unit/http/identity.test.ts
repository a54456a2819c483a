/**
 * Roles and trust (docs/contract.md §1 "Caller identity"): a role is a claim typed `roles`, or typed as
 * `role_typ` names it; principal payloads are shaped as App Service sends them for Entra ID
 * (learn.microsoft.com, "Work with user identities in Azure App Service authentication"), from
 * v1.0 and v2.0 access tokens. The headers count only under a trust the configuration found.
 */
import path from 'node:path';
import { HttpRequest } from '@azure/functions';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ROLE_ADMIN, ROLE_READER } from '../../../domain/shared/caller';
import { parsePrincipalTrust } from '../../../functions/config';
import type { PrincipalTrust } from '../../../functions/config';
import { callerFrom, ENTRA_ROLE_CLAIM_TYPE, principalHeaders, rolesFrom } from '../../../functions/http/identity';
import { reportPrincipalTrust } from '../../../functions/ops/principal-trust';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OID = '5b5450db-eb26-4c1a-981c-ba1d25f0483d';
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64');

/** App Service, Entra ID, a v1.0 access token: issuer sts.windows.net, the long claim URIs. */
const V1_PRINCIPAL = {
  auth_typ: 'aad',
  name_typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
  role_typ: ENTRA_ROLE_CLAIM_TYPE,
  claims: [
    { typ: 'aud', val: 'api://0a1b2c3d-0000-4000-8000-000000000001' },
    { typ: 'iss', val: `https://sts.windows.net/${TENANT}/` },
    { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: OID },
    { typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name', val: 'Ada Admin' },
    { typ: 'groups', val: 'f08bbbea-b793-4a36-a5fc-136c18d8aa8f' },
    { typ: 'roles', val: ROLE_ADMIN },
    { typ: 'roles', val: ROLE_READER },
    { typ: 'ver', val: '1.0' },
  ],
};

/** The same caller with a v2.0 token: issuer login.microsoftonline.com/…/v2.0, short claim names. */
const V2_PRINCIPAL = {
  auth_typ: 'aad',
  name_typ: 'name',
  role_typ: ENTRA_ROLE_CLAIM_TYPE,
  claims: [
    { typ: 'aud', val: '0a1b2c3d-0000-4000-8000-000000000001' },
    { typ: 'iss', val: `https://login.microsoftonline.com/${TENANT}/v2.0` },
    { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: OID },
    { typ: 'name', val: 'Rita Reader' },
    { typ: 'preferred_username', val: 'rita@fabrikam.example' },
    { typ: 'roles', val: ROLE_READER },
    { typ: 'ver', val: '2.0' },
  ],
};

const request = (headers: Record<string, string>): HttpRequest =>
  new HttpRequest({ method: 'GET', url: 'http://127.0.0.1/api/health', headers });
const LOCAL: PrincipalTrust = { kind: 'localRuntime' };

describe('roles from x-ms-client-principal', () => {
  it('Entra ID v1.0 token: app roles typed `roles` count although role_typ names the role URI', () => {
    expect(rolesFrom(b64(V1_PRINCIPAL))).toEqual([ROLE_ADMIN, ROLE_READER]);
  });

  it('Entra ID v2.0 token: the same', () => {
    expect(rolesFrom(b64(V2_PRINCIPAL))).toEqual([ROLE_READER]);
  });

  it('claims typed as role_typ names them count too (a provider that maps roles to the URI)', () => {
    const mapped = {
      ...V1_PRINCIPAL,
      claims: [
        { typ: ENTRA_ROLE_CLAIM_TYPE, val: ROLE_ADMIN },
        { typ: 'roles', val: ROLE_ADMIN },
      ],
    };
    expect(rolesFrom(b64(mapped))).toEqual([ROLE_ADMIN]);
  });

  it('no other claim is a role: groups, scopes, names', () => {
    const p = {
      ...V2_PRINCIPAL,
      claims: [
        { typ: 'groups', val: ROLE_ADMIN },
        { typ: 'scp', val: ROLE_ADMIN },
        { typ: 'name', val: ROLE_ADMIN },
      ],
    };
    expect(rolesFrom(b64(p))).toEqual([]);
  });

  it('a malformed header gives no roles instead of failing', () => {
    expect(rolesFrom('not base64 json')).toEqual([]);
    expect(rolesFrom(b64({ claims: 'x' }))).toEqual([]);
    expect(rolesFrom(b64({ claims: [null, 7, { typ: 'roles', val: 3 }] }))).toEqual([]);
  });

  it('principalHeaders builds exactly that shape, so tools and tests speak like App Service', () => {
    const h = principalHeaders({ id: OID, roles: [ROLE_ADMIN] });
    const decoded = JSON.parse(
      Buffer.from(h['x-ms-client-principal'] ?? '', 'base64').toString('utf8'),
    ) as typeof V1_PRINCIPAL;
    expect(decoded.role_typ).toBe(ENTRA_ROLE_CLAIM_TYPE);
    expect(decoded.claims.filter((c) => c.typ === 'roles').map((c) => c.val)).toEqual([ROLE_ADMIN]);
    expect(callerFrom(request(h), LOCAL)).toEqual({ id: OID, roles: [ROLE_ADMIN] });
  });
});

describe('callerFrom believes the headers only under a trust', () => {
  const headers = { 'x-ms-client-principal-id': OID, 'x-ms-client-principal': b64(V1_PRINCIPAL) };

  it('behind App Service Authentication and under the local runtime: the caller and roles', () => {
    expect(callerFrom(request(headers), { kind: 'appServiceAuthentication' })).toEqual({
      id: OID,
      roles: [ROLE_ADMIN, ROLE_READER],
    });
    expect(callerFrom(request(headers), LOCAL)).toEqual({ id: OID, roles: [ROLE_ADMIN, ROLE_READER] });
  });

  it('untrusted: no caller, whatever the headers say', () => {
    expect(callerFrom(request(headers), { kind: 'untrusted', reason: 'x' })).toBeUndefined();
  });

  it('without a principal id there is no caller', () => {
    expect(callerFrom(request({ 'x-ms-client-principal': b64(V1_PRINCIPAL) }), LOCAL)).toBeUndefined();
  });
});

describe('PrincipalTrust from the settings', () => {
  it('App Service Authentication on (WEBSITE_AUTH_ENABLED=True, as App Service sets it)', () => {
    expect(parsePrincipalTrust({ WEBSITE_SITE_NAME: 'func-x', WEBSITE_AUTH_ENABLED: 'True' })).toEqual({
      kind: 'appServiceAuthentication',
    });
    expect(parsePrincipalTrust({ WEBSITE_SITE_NAME: 'func-x', WEBSITE_AUTH_ENABLED: 'true' })).toEqual({
      kind: 'appServiceAuthentication',
    });
  });

  it('in Azure without it: untrusted, even when LocalRuntime is set', () => {
    for (const env of [
      { WEBSITE_SITE_NAME: 'func-x' },
      { WEBSITE_SITE_NAME: 'func-x', WEBSITE_AUTH_ENABLED: 'False' },
      { WEBSITE_SITE_NAME: 'func-x', LocalRuntime: 'true' },
    ]) {
      const trust = parsePrincipalTrust(env);
      expect(trust.kind, JSON.stringify(env)).toBe('untrusted');
      expect(trust.kind === 'untrusted' ? trust.reason : '').toContain('WEBSITE_AUTH_ENABLED');
    }
  });

  it('under the local runtime (LocalRuntime=true, set by npm start)', () => {
    expect(parsePrincipalTrust({ LocalRuntime: 'true' })).toEqual({ kind: 'localRuntime' });
  });

  it('anywhere else (func start, a bare node process): untrusted, saying why', () => {
    const trust = parsePrincipalTrust({});
    expect(trust.kind).toBe('untrusted');
    expect(trust.kind === 'untrusted' ? trust.reason : '').toMatch(/App Service Authentication.*local runtime.*401/s);
  });
});

describe('the start-up check', () => {
  it('logs exactly one error naming the reason when untrusted', () => {
    const lines: string[] = [];
    reportPrincipalTrust(parsePrincipalTrust({}), (l) => lines.push(l));
    expect(lines).toHaveLength(1);
    const parsed = JSON.parse(lines[0] ?? '{}') as { event?: string; level?: string; reason?: string };
    expect(parsed).toMatchObject({ event: 'identity.untrusted', level: 'error' });
    expect(parsed.reason).toContain('401');
  });

  it('logs nothing when trusted', () => {
    const lines: string[] = [];
    reportPrincipalTrust({ kind: 'appServiceAuthentication' }, (l) => lines.push(l));
    reportPrincipalTrust({ kind: 'localRuntime' }, (l) => lines.push(l));
    expect(lines).toEqual([]);
  });
});

describe('the start-up check as the app loads it', () => {
  const STARTUP_MODULE = path.resolve(__dirname, '../../../functions/ops/principal-trust.ts');
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    vi.restoreAllMocks();
  });

  it('importing the module logs one identity.untrusted error outside the local runtime and App Service Authentication', async () => {
    delete process.env.LocalRuntime;
    delete process.env.WEBSITE_AUTH_ENABLED;
    delete process.env.WEBSITE_SITE_NAME;
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    vi.resetModules();
    await import(STARTUP_MODULE);
    expect(error).toHaveBeenCalledTimes(1);
    expect(String(error.mock.calls[0]?.[0])).toContain('"event":"identity.untrusted"');
  });

  it('and logs nothing under the local runtime', async () => {
    process.env.LocalRuntime = 'true';
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    vi.resetModules();
    await import(STARTUP_MODULE);
    expect(error).not.toHaveBeenCalled();
  });
});
