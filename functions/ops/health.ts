/** `GET /api/health`: probes every dependency; 200 when all answer, 503 naming the failing ones. */
import { app } from '@azure/functions';
import type { HttpResponseInit } from '@azure/functions';
import { summarizeHealth } from '../../domain/shared/health';
import { defaultProbes, runProbes } from '../adapters/health-probes';
import type { HealthProbe } from '../adapters/health-probes';
import { composition } from '../composition';
import { FUNCTIONS, ROUTES } from '../names';
import { jsonResponse } from '../http/problem';

export async function checkHealth(probes: readonly HealthProbe[], timeoutMs: number): Promise<HttpResponseInit> {
  const report = summarizeHealth(await runProbes(probes, timeoutMs));
  return jsonResponse(report.status === 'Healthy' ? 200 : 503, report, { 'cache-control': 'no-store' });
}

app.http(FUNCTIONS.health, {
  route: ROUTES.health,
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: async () => {
    const c = composition();
    return checkHealth(defaultProbes(c), c.config.health.timeoutMs);
  },
});
