/**
 * Without App Service Authentication (in Azure) or the local runtime, the principal headers
 * could come from anyone: every HTTP route but health answers 401, even to a caller claiming
 * Deliveries.Admin; health still answers, without error text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callHttp, loadFunctionApp } from '../../support/app';
import { useEmulators } from '../../support/emulators';
import { ROLE_ADMIN } from '../../../domain/shared/caller';
import { principalHeaders } from '../../../functions/http/identity';
import { FUNCTIONS } from '../../../functions/names';

const forged = principalHeaders({ id: 'mallory', roles: [ROLE_ADMIN] });
const sample: Record<string, string> = { deliveryId: 'd-1', droneId: 'drone-1', instanceId: 'x' };

describe.each([
  [
    'in Azure without App Service Authentication',
    { LocalRuntime: '', WEBSITE_SITE_NAME: 'func-test', WEBSITE_AUTH_ENABLED: 'False' },
  ],
  ['outside Azure and the local runtime (func start, plain node)', { LocalRuntime: '' }],
])('%s', (_label, overrides) => {
  beforeAll(async () => {
    await useEmulators('untrusted', overrides);
  });
  afterAll(async () => {
    delete process.env.WEBSITE_SITE_NAME;
    delete process.env.WEBSITE_AUTH_ENABLED;
    await useEmulators('untrusted-restore', { LocalRuntime: 'true' });
  });

  it('every HTTP route but health answers 401 to forged admin headers', async () => {
    const registry = await loadFunctionApp();
    const http = [...registry.functions.values()].filter(
      (f) => f.trigger.type === 'httpTrigger' && f.name !== FUNCTIONS.health,
    );
    expect(http.length).toBeGreaterThanOrEqual(8);
    for (const fn of http) {
      const method = Array.isArray(fn.trigger.methods) ? String(fn.trigger.methods[0]) : 'GET';
      const res = await callHttp(fn.name, {
        method,
        path: String(fn.trigger.route),
        headers: { ...forged, 'content-type': 'application/json' },
        params: sample,
        body: method === 'GET' ? undefined : '{}',
      });
      expect(res.status, `${fn.name} ${method}`).toBe(401);
      expect(res.headers['content-type'], fn.name).toContain('application/problem+json');
    }
  });

  it('health still answers, with status and latency only', async () => {
    const res = await callHttp(FUNCTIONS.health, { path: 'health', headers: forged });
    expect(res.status).toBe(200);
    for (const check of Object.values(res.json<{ checks: Record<string, object> }>().checks))
      expect(Object.keys(check).sort()).toEqual(['latencyMs', 'status']);
  });
});
