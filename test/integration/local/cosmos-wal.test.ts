/**
 * The Cosmos DB stand-in's write-ahead log: what a client wrote is back after a restart on the
 * same directory (a second server on the same log stands in for a process killed mid-run), reads
 * are not logged, conditions do not break the replay, a torn last line is dropped, and a log much
 * larger than the state is compacted without changing the state.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { CosmosClient } from '@azure/cosmos';
import type { Container } from '@azure/cosmos';
import { afterEach, describe, expect, it } from 'vitest';
import { readWal, startDurableCosmos, WAL_FILE } from '../../../packages/functions-local/src/cosmos/wal';
import type { DurableCosmosHandle } from '../../../packages/functions-local/src/cosmos/wal';

const started: DurableCosmosHandle[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.allSettled(started.splice(0).map((h) => h.stop()));
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmos-wal-'));
  dirs.push(dir);
  return dir;
}

async function start(dir: string, compactSlack?: number): Promise<DurableCosmosHandle> {
  const h = await startDurableCosmos({ dir, ...(compactSlack !== undefined ? { compactSlack } : {}) });
  started.push(h);
  return h;
}

function client(h: DurableCosmosHandle): CosmosClient {
  return new CosmosClient({ endpoint: h.endpoint, key: h.key, connectionPolicy: { enableEndpointDiscovery: false } });
}

async function containerOf(
  h: DurableCosmosHandle,
  id: string,
  partitionKey = '/id',
  defaultTtl?: number,
): Promise<Container> {
  const { database } = await client(h).databases.createIfNotExists({ id: 'walt' });
  const { container } = await database.containers.createIfNotExists({
    id,
    partitionKey: { paths: [partitionKey] },
    ...(defaultTtl !== undefined ? { defaultTtl } : {}),
  });
  return container;
}

/** Documents without the server's system properties, sorted by id. */
async function contents(c: Container): Promise<Record<string, unknown>[]> {
  const { resources } = await c.items.readAll<Record<string, unknown>>().fetchAll();
  return resources
    .map((d) => Object.fromEntries(Object.entries(d).filter(([k]) => !k.startsWith('_'))))
    .sort((a, b) => String(a.id).localeCompare(String(b.id)));
}

describe('the Cosmos DB stand-in with a write-ahead log', () => {
  it('brings back every kind of write after a restart on the same directory', async () => {
    const dir = tempDir();
    const first = await start(dir);
    expect(first.replayed).toBe(0);
    const drones = await containerOf(first, 'drones');
    const events = await containerOf(first, 'events', '/deliveryId', -1);

    await drones.items.create({ id: 'd1', battery: 90 });
    await drones.items.upsert({ id: 'd2', battery: 50 });
    const { resource: d2 } = await drones.item('d2', 'd2').read<{ id: string; battery: number; _etag: string }>();
    // A conditional replace succeeds now; its replay must not depend on today's ETag.
    await drones
      .item('d2', 'd2')
      .replace({ id: 'd2', battery: 49 }, { accessCondition: { type: 'IfMatch', condition: d2?._etag ?? '' } });
    // A conditional write that fails is not part of the state and not in the log.
    await expect(
      drones
        .item('d2', 'd2')
        .replace({ id: 'd2', battery: 1 }, { accessCondition: { type: 'IfMatch', condition: 'stale' } }),
    ).rejects.toMatchObject({ code: 412 });
    await drones.item('d1', 'd1').patch([
      { op: 'set', path: '/status', value: 'Idle' },
      { op: 'incr', path: '/battery', value: 5 },
    ]);
    await drones.items.create({ id: 'gone' });
    await drones.item('gone', 'gone').delete();
    await events.items.create({ id: 'e1', deliveryId: 'x', sequence: 1 });
    // A batch whose second operation fails keeps its first (the stand-in's batches are not atomic).
    await events.items.batch(
      [
        { operationType: 'Create', resourceBody: { id: 'e2', deliveryId: 'x', sequence: 2 } },
        { operationType: 'Create', resourceBody: { id: 'e1', deliveryId: 'x', sequence: 1 } },
      ],
      'x',
    );
    const logged = readWal(path.join(dir, WAL_FILE)).length;
    // Reads and queries leave the log alone.
    await drones.items.query('SELECT * FROM c').fetchAll();
    await drones.item('d1', 'd1').read();
    expect(readWal(path.join(dir, WAL_FILE))).toHaveLength(logged);

    const before = { drones: await contents(drones), events: await contents(events) };
    expect(before.drones).toEqual([
      { id: 'd1', battery: 95, status: 'Idle' },
      { id: 'd2', battery: 49 },
    ]);
    expect(before.events.map((e) => e.id)).toEqual(['e1', 'e2']);

    // The first server is not stopped: like a killed process, it never got to close anything.
    const second = await start(dir);
    expect(second.replayed).toBe(logged);
    expect(await contents(await containerOf(second, 'drones'))).toEqual(before.drones);
    expect(await contents(await containerOf(second, 'events', '/deliveryId'))).toEqual(before.events);
    const { resource: def } = await client(second).database('walt').container('events').read();
    expect(def?.defaultTtl).toBe(-1);

    // Writes after the replay go on being logged.
    await (await containerOf(second, 'drones')).items.upsert({ id: 'd3' });
    const third = await start(dir);
    expect((await contents(await containerOf(third, 'drones'))).map((d) => d.id)).toEqual(['d1', 'd2', 'd3']);
  });

  it('drops a torn last line: a write cut short by a crash was never acknowledged', async () => {
    const dir = tempDir();
    const first = await start(dir);
    await (await containerOf(first, 'drones')).items.create({ id: 'kept' });
    await first.stop();
    fs.appendFileSync(
      path.join(dir, WAL_FILE),
      '{"method":"POST","path":"/dbs/walt/colls/drones/docs","headers":{},"bo',
    );
    const second = await start(dir);
    expect((await contents(await containerOf(second, 'drones'))).map((d) => d.id)).toEqual(['kept']);
    expect(fs.readFileSync(path.join(dir, WAL_FILE), 'utf8').endsWith('\n')).toBe(true);
  });

  it('compacts a log much larger than the state into the state', async () => {
    const dir = tempDir();
    const first = await start(dir);
    const drones = await containerOf(first, 'drones');
    for (let i = 0; i < 60; i++) await drones.items.upsert({ id: `d${i % 3}`, reading: i });
    const expected = await contents(drones);
    await first.stop();

    const second = await start(dir, 10);
    expect(second.replayed).toBeGreaterThan(60);
    // One database, one container, three documents.
    expect(second.logEntries).toBe(5);
    expect(readWal(path.join(dir, WAL_FILE))).toHaveLength(5);
    expect(await contents(await containerOf(second, 'drones'))).toEqual(expected);
    await second.stop();

    const third = await start(dir, 10);
    expect(third.replayed).toBe(5);
    expect(await contents(await containerOf(third, 'drones'))).toEqual(expected);
  });

  it("keeps an idle keep-alive connection open past Node's 5 s default, so no request meets a closing socket", async () => {
    // With the default keepAliveTimeout the server closed a connection idle for 5 s, and a client
    // sending on it at that moment failed with "socket hang up" (nodejs/node #20256): one in
    // ~100 CompleteDelivery activities at 500 sagas in flight, in the saga benchmark.
    const h = await start(tempDir());
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (): Promise<{ status: number; reused: boolean }> =>
      new Promise((resolve, reject) => {
        const req = http.get(`${h.endpoint}/`, { agent, headers: { authorization: 'local' } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
        });
        req.on('error', reject);
      });
    try {
      const first = await get();
      // Node closes an idle connection a moment after keepAliveTimeout (5 s): 7 s is past it on Node 20 and 22.
      await new Promise((r) => setTimeout(r, 7_000));
      const second = await get();
      expect(first.reused).toBe(false);
      expect(second).toEqual({ status: first.status, reused: true });
    } finally {
      agent.destroy();
    }
  }, 15_000);
});
