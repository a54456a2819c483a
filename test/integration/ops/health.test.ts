import { beforeAll, describe, expect, it } from 'vitest';
import { callHttp } from '../../support/app';
import { useEmulators } from '../../support/emulators';
import { checkHealth } from '../../../functions/ops/health';
import { FUNCTIONS } from '../../../functions/names';
import { principalHeaders } from '../../../functions/http/identity';
import { ROLE_ADMIN, ROLE_READER } from '../../../domain/shared/caller';

interface Report {
  status: string;
  checks: Record<string, { status: string; latencyMs: number; error?: string }>;
}

describe('GET /api/health', () => {
  beforeAll(async () => {
    await useEmulators('health');
  });

  it('answers 200 Healthy with a latency per dependency when every dependency answers', async () => {
    const res = await callHttp(FUNCTIONS.health, { path: 'health' });
    expect(res.status).toBe(200);
    const report = res.json<Report>();
    expect(report.status).toBe('Healthy');
    expect(Object.keys(report.checks).sort()).toEqual(['cosmosDb', 'deadLetterStorage']);
    for (const check of Object.values(report.checks)) {
      expect(check.status).toBe('Healthy');
      expect(check.latencyMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('answers 503 naming the failing dependency, and still reports the healthy ones', async () => {
    const res = await checkHealth(
      [
        { name: 'up', check: async () => undefined },
        {
          name: 'down',
          check: async () => Promise.reject(Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' })),
        },
      ],
      500,
      'admin',
    );
    expect(res.status).toBe(503);
    const report = JSON.parse(String(res.body)) as Report;
    expect(report.status).toBe('Unhealthy');
    expect(report.checks.up?.status).toBe('Healthy');
    expect(report.checks.down?.status).toBe('Unhealthy');
    expect(report.checks.down?.error).toContain('ECONNREFUSED');
  });

  it('answers 503 through the real handler when Cosmos DB is down, naming it and still reporting storage', async () => {
    await useEmulators('health-down', {
      CosmosConnection__accountEndpoint: 'http://127.0.0.1:9',
      HealthCheckTimeoutMs: '500',
    });
    try {
      const res = await callHttp(FUNCTIONS.health, { path: 'health' });
      expect(res.status).toBe(503);
      const report = res.json<Report>();
      expect(report.status).toBe('Unhealthy');
      expect(report.checks.cosmosDb?.status).toBe('Unhealthy');
      expect(report.checks.deadLetterStorage?.status).toBe('Healthy');
    } finally {
      await useEmulators('health');
    }
  });

  it('reports a hung dependency as Unhealthy after the timeout instead of hanging', async () => {
    const started = Date.now();
    const res = await checkHealth([{ name: 'hung', check: () => new Promise<void>(() => undefined) }], 200, 'admin');
    expect(res.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(5000);
    expect((JSON.parse(String(res.body)) as Report).checks.hung?.error).toContain('200 ms');
  });

  describe('error text is for Deliveries.Admin only', () => {
    const down = [
      {
        name: 'down',
        check: async () => Promise.reject(new Error('getaddrinfo ENOTFOUND cosmos-secret.documents.azure.com')),
      },
    ];

    it('an anonymous caller learns status and latency per dependency, never the error', async () => {
      const res = await checkHealth(down, 500, 'anonymous');
      expect(res.status).toBe(503);
      const report = JSON.parse(String(res.body)) as Report;
      expect(report.checks.down).toEqual({ status: 'Unhealthy', latencyMs: expect.any(Number) });
      expect(String(res.body)).not.toContain('cosmos-secret');
    });

    it('through the handler: anonymous and Deliveries.Reader get no error text, Deliveries.Admin does', async () => {
      await useEmulators('health-roles', {
        CosmosConnection__accountEndpoint: 'http://127.0.0.1:9',
        HealthCheckTimeoutMs: '500',
      });
      try {
        const anonymous = await callHttp(FUNCTIONS.health, { path: 'health' });
        const reader = await callHttp(FUNCTIONS.health, {
          path: 'health',
          headers: principalHeaders({ id: 'r', roles: [ROLE_READER] }),
        });
        const admin = await callHttp(FUNCTIONS.health, {
          path: 'health',
          headers: principalHeaders({ id: 'a', roles: [ROLE_ADMIN] }),
        });
        for (const res of [anonymous, reader, admin]) expect(res.status).toBe(503);
        expect(Object.keys(anonymous.json<Report>().checks.cosmosDb ?? {}).sort()).toEqual(['latencyMs', 'status']);
        expect(Object.keys(reader.json<Report>().checks.cosmosDb ?? {}).sort()).toEqual(['latencyMs', 'status']);
        expect(admin.json<Report>().checks.cosmosDb?.error).toEqual(expect.any(String));
        expect(admin.json<Report>().checks.cosmosDb?.error?.length).toBeGreaterThan(0);
      } finally {
        await useEmulators('health');
      }
    });

    it('an admin claim is not believed when nothing vouches for the principal headers', async () => {
      await useEmulators('health-untrusted', {
        CosmosConnection__accountEndpoint: 'http://127.0.0.1:9',
        HealthCheckTimeoutMs: '500',
        LocalRuntime: '',
      });
      try {
        const res = await callHttp(FUNCTIONS.health, {
          path: 'health',
          headers: principalHeaders({ id: 'a', roles: [ROLE_ADMIN] }),
        });
        expect(res.status).toBe(503);
        expect(res.json<Report>().checks.cosmosDb?.error).toBeUndefined();
      } finally {
        await useEmulators('health', { LocalRuntime: 'true' });
      }
    });
  });
});
