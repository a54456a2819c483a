/**
 * `GET /api/health` (anonymous): probes every dependency; 200 when all answer, 503 naming the
 * failing ones. Anonymous callers learn only status and latency per dependency: error text can
 * name hosts, accounts and SDK internals, so it is for Deliveries.Admin alone.
 */
import { app } from '@azure/functions';
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { isAdmin } from '../../domain/shared/caller';
import { redactHealth, summarizeHealth } from '../../domain/shared/health';
import { defaultProbes, runProbes } from '../adapters/health-probes';
import type { HealthProbe } from '../adapters/health-probes';
import { composition } from '../composition';
import { trustedCaller } from '../http/edge';
import { FUNCTIONS, ROUTES } from '../names';
import { jsonResponse } from '../http/problem';

export async function checkHealth(
  probes: readonly HealthProbe[],
  timeoutMs: number,
  audience: 'admin' | 'anonymous',
): Promise<HttpResponseInit> {
  const full = summarizeHealth(await runProbes(probes, timeoutMs));
  const report = audience === 'admin' ? full : redactHealth(full);
  return jsonResponse(report.status === 'Healthy' ? 200 : 503, report, { 'cache-control': 'no-store' });
}

export async function health(request: HttpRequest): Promise<HttpResponseInit> {
  const c = composition();
  const caller = trustedCaller(request);
  return checkHealth(
    defaultProbes(c),
    c.config.health.timeoutMs,
    caller !== undefined && isAdmin(caller) ? 'admin' : 'anonymous',
  );
}

app.http(FUNCTIONS.health, {
  route: ROUTES.health,
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: health,
});
