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
import type { FloorRound } from '../../../tools/bench/request-floor';
import { useEmulators } from '../../support/emulators';

let container: Container;
let link = '';
const account = { endpoint: '', key: '' };

interface Sent {
  readonly method: string;
  readonly path: string;
  readonly authorization: string;
  readonly date: string;
  readonly fromSdk: boolean;
}

/** The HTTP requests this process starts while `work` runs (the SDK's carry a user agent; the bare ones do not). */
async function sentDuring(work: () => Promise<unknown>): Promise<Sent[]> {
  const sent: Sent[] = [];
  const onStart = (message: unknown): void => {
    const request = (message as { request: ClientRequest }).request;
    sent.push({
      method: request.method,
      path: request.path,
      authorization: String(request.getHeader('authorization')),
      date: String(request.getHeader('x-ms-date')),
      fromSdk: request.getHeader('user-agent') !== undefined,
    });
  };
  diagnostics.subscribe('http.client.request.start', onStart);
  try {
    await work();
  } finally {
    diagnostics.unsubscribe('http.client.request.start', onStart);
  }
  return sent;
}

beforeAll(async () => {
  const env = await useEmulators('request-floor');
  account.endpoint = env.env.CosmosConnection__accountEndpoint ?? '';
  account.key = env.env.CosmosConnection__accountKey ?? '';
  container = (
    await env.cosmos
      .database(env.databaseId)
      .containers.createIfNotExists({ id: 'floor', partitionKey: { paths: ['/id'] } })
  ).container;
  link = `dbs/${container.database.id}/colls/${container.id}`;
});

describe('the request floor of the saga bench', () => {
  it('signs a bare create exactly as the Cosmos DB SDK signs its own', async () => {
    const sent = await sentDuring(() => container.items.create({ id: 'signed-by-the-sdk' }));
    const create = sent.find((s) => s.method === 'POST' && s.path.endsWith('/docs'));
    expect(create, JSON.stringify(sent)).toBeDefined();
    expect(create?.fromSdk).toBe(true);
    expect(masterKeyAuthorization(account.key, 'POST', 'docs', link, create?.date ?? '')).toBe(create?.authorization);
  });

  it("creates every document on both paths, each round timed by the main thread's own CPU clock on Linux", async () => {
    const probe = requestFloorProbe(container, account, 15);
    let rounds: FloorRound[] = [];
    const sent = await sentDuring(async () => {
      rounds = [await probe.round(), await probe.round()];
    }).finally(() => probe.close());
    expect(probe.measures).toBe(process.platform === 'linux' ? 'thread CPU' : 'event loop busy');
    expect(rounds).toHaveLength(2);
    for (const r of rounds) {
      expect(Number.isFinite(r.sdkMicros) && r.sdkMicros > 0).toBe(true);
      expect(Number.isFinite(r.bareMicros) && r.bareMicros > 0).toBe(true);
    }
    // The bare requests are signed as the SDK signs a create here.
    const bare = sent.filter((s) => s.method === 'POST' && !s.fromSdk);
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
