/**
 * The saga bench's request floor (tools/bench/request-floor.ts) compares the SDK with bare REST
 * requests; the comparison means something only if the bare requests are real ones: signed as
 * the SDK signs, and accepted by the store.
 */
import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Container } from '@azure/cosmos';
import { masterKeyAuthorization, requestFloorProbe } from '../../../tools/bench/request-floor';
import { useEmulators } from '../../support/emulators';

let container: Container;
const account = { endpoint: '', key: '' };

beforeAll(async () => {
  const env = await useEmulators('request-floor');
  account.endpoint = env.env.CosmosConnection__accountEndpoint ?? '';
  account.key = env.env.CosmosConnection__accountKey ?? '';
  container = (
    await env.cosmos
      .database(env.databaseId)
      .containers.createIfNotExists({ id: 'floor', partitionKey: { paths: ['/id'] } })
  ).container;
});

describe('the request floor of the saga bench', () => {
  it('signs a bare create exactly as the Cosmos DB SDK signs its own', async () => {
    const sent: { path: string; method: string; authorization: string; date: string }[] = [];
    const onStart = (message: unknown): void => {
      const request = (message as { request: ClientRequest }).request;
      sent.push({
        path: request.path,
        method: request.method,
        authorization: String(request.getHeader('authorization')),
        date: String(request.getHeader('x-ms-date')),
      });
    };
    diagnostics.subscribe('http.client.request.start', onStart);
    try {
      await container.items.create({ id: 'signed-by-the-sdk' });
    } finally {
      diagnostics.unsubscribe('http.client.request.start', onStart);
    }
    const create = sent.find((s) => s.method === 'POST' && s.path.endsWith('/docs'));
    expect(create, JSON.stringify(sent)).toBeDefined();
    const link = `dbs/${container.database.id}/colls/${container.id}`;
    expect(masterKeyAuthorization(account.key, 'POST', 'docs', link, create?.date ?? '')).toBe(create?.authorization);
  });

  it("creates every document on both paths, each round timed by the main thread's own CPU clock on Linux", async () => {
    const probe = requestFloorProbe(container, account, 15);
    const bare: { path: string; authorization: string; date: string }[] = [];
    const onStart = (message: unknown): void => {
      const request = (message as { request: ClientRequest }).request;
      if (request.method === 'POST' && request.getHeader('user-agent') === undefined)
        bare.push({
          path: request.path,
          authorization: String(request.getHeader('authorization')),
          date: String(request.getHeader('x-ms-date')),
        });
    };
    diagnostics.subscribe('http.client.request.start', onStart);
    try {
      const rounds = [await probe.round(), await probe.round()];
      expect(probe.measures).toBe(process.platform === 'linux' ? 'thread CPU' : 'event loop busy');
      for (const r of rounds) {
        expect(Number.isFinite(r.sdkMicros) && r.sdkMicros > 0).toBe(true);
        expect(Number.isFinite(r.bareMicros) && r.bareMicros > 0).toBe(true);
      }
    } finally {
      diagnostics.unsubscribe('http.client.request.start', onStart);
      probe.close();
    }
    // The bare requests (no user agent, unlike the SDK's) are signed as the SDK signs a create here.
    const link = `dbs/${container.database.id}/colls/${container.id}`;
    expect(bare).toHaveLength(2 * 15);
    for (const b of bare) {
      expect(b.path).toBe(`/${link}/docs`);
      expect(b.authorization).toBe(masterKeyAuthorization(account.key, 'POST', 'docs', link, b.date));
    }
    // Two rounds of 15 creates on each path.
    const { resources } = await container.items
      .query<number>("SELECT VALUE COUNT(1) FROM c WHERE c.kind = 'floor'")
      .fetchAll();
    expect(resources[0]).toBe(2 * 15 * 2);
  });
});
