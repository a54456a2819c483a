/**
 * Ingestion's cached drone store against the Cosmos DB server: in steady state a drone costs one
 * request per batch (the conditional write against the remembered ETag), a stale entry costs a
 * 412, a real read and a re-plan, the cache stays within its bound, and two instances writing the
 * same drones in a seeded interleaving end where one writer would: at the newest event, never
 * regressing. All of it with one request per write and with bulk writes; then what bulk writes
 * add: a batch's writes share requests, and an operation or request that fails otherwise than by
 * its condition is sent again alone.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Container, OperationInput, OperationResponse } from '@azure/cosmos';
import { useEmulators } from '../../support/emulators';
import { telemetry } from '../../support/telemetry';
import { BULK_MAX_OPERATIONS, CosmosDroneStateStore } from '../../../functions/adapters/cosmos-drone-store';
import type { DroneDocument } from '../../../functions/adapters/cosmos-drone-store';
import { CircuitBreaker } from '../../../functions/resilience/circuit-breaker';
import { ingestBatch } from '../../../functions/telemetry/ingest';
import type { BatchReport } from '../../../functions/telemetry/ingest';
import { COSMOS_CONTAINERS } from '../../../functions/resources';
import type { Telemetry } from '../../../domain/telemetry/schema';
import type { Milestone } from '../../../domain/telemetry/milestones';
import { Random } from '../../../tools/simulation/random';

let drones: Container;
let run = 0;

beforeAll(async () => {
  const env = await useEmulators('drone-cache');
  drones = env.cosmos.database(env.databaseId).container(COSMOS_CONTAINERS.drones.name);
});

interface Instance {
  readonly store: CosmosDroneStateStore;
  readonly requests: { reads: number; writes: number };
  readonly raised: Milestone[];
  ingest(events: readonly Telemetry[]): Promise<BatchReport>;
}

function makeInstance(capacity?: number, bulkWrites = false): Instance {
  const requests = { reads: 0, writes: 0 };
  const raised: Milestone[] = [];
  const store = new CosmosDroneStateStore(drones, {
    cachedReads: true,
    bulkWrites,
    ...(capacity !== undefined ? { capacity } : {}),
    onRequest: (kind) => void (kind === 'read' ? requests.reads++ : requests.writes++),
  });
  const breaker = new CircuitBreaker('test', { failureThreshold: 100, openMs: 1000 });
  return {
    store,
    requests,
    raised,
    ingest: (events) =>
      ingestBatch(
        events.map((e) => JSON.stringify(e)),
        events.map(() => ({ eventHubName: 'telemetry' })),
        {
          store,
          deadLetters: { put: async () => undefined },
          milestones: { raise: async (m) => void raised.push(m) },
          breaker,
          retry: { attempts: 1, firstRetryMs: 1, maxRetryMs: 1 },
          now: () => new Date(),
        },
      ),
  };
}

const droneName = (n = 0): string => `cache-${run}-${n}-${process.pid}`;
const stored = async (droneId: string): Promise<DroneDocument | undefined> =>
  (await drones.item(droneId, droneId).read<DroneDocument>()).resource;

describe.each([
  ['one request per write', false],
  ['bulk writes, as the composition builds it', true],
])('ingestion with the cached drone store (%s)', (_mode, bulk) => {
  const instance = (capacity?: number): Instance => makeInstance(capacity, bulk);

  it('costs one read and one write for a cold drone, then one write per batch', async () => {
    run++;
    const a = instance();
    const id = droneName();
    await a.ingest([telemetry({ droneId: id, sequence: 1 }), telemetry({ droneId: id, sequence: 2 })]);
    expect(a.requests).toEqual({ reads: 1, writes: 1 });
    for (let s = 3; s <= 7; s += 2)
      await a.ingest([telemetry({ droneId: id, sequence: s }), telemetry({ droneId: id, sequence: s + 1 })]);
    expect(a.requests).toEqual({ reads: 1, writes: 4 });
    expect((await stored(id))?.sequence).toBe(8);
  });

  it('re-reads and re-plans after a 412 when another instance wrote meanwhile', async () => {
    run++;
    const a = instance();
    const b = instance();
    const id = droneName();
    await a.ingest([telemetry({ droneId: id, sequence: 1 })]);
    // b moves the drone past what a remembers, with a milestone at 5.
    await b.ingest([telemetry({ droneId: id, sequence: 5, status: 'EnRouteToDropoff', deliveryId: 'd-1' })]);
    // a's batch: 3 is older than b's write (dropped after the re-read), 9 is newer.
    const report = await a.ingest([
      telemetry({ droneId: id, sequence: 3 }),
      telemetry({ droneId: id, sequence: 9, status: 'Returning' }),
    ]);
    expect(report.conflicts).toBe(1);
    expect(report.writes).toBe(1);
    expect(report.staleSkipped).toBe(1);
    expect(a.requests).toEqual({ reads: 2, writes: 2 });
    const doc = await stored(id);
    expect(doc?.sequence).toBe(9);
    expect(doc?.status).toBe('Returning');

    // A batch wholly older than the other writer's state writes nothing once a has re-read.
    await b.ingest([telemetry({ droneId: id, sequence: 20 })]);
    await a.ingest([telemetry({ droneId: id, sequence: 21 })]);
    const late = await a.ingest([telemetry({ droneId: id, sequence: 10 })]);
    expect(late.writes).toBe(0);
    expect((await stored(id))?.sequence).toBe(21);
  });

  it('keeps fields other writers added to the document', async () => {
    run++;
    const a = instance();
    const id = droneName();
    await a.ingest([telemetry({ droneId: id, sequence: 1 })]);
    const doc = await stored(id);
    await drones.item(id, id).replace({ ...doc, maintenanceNote: 'rotor 3' });
    await a.ingest([telemetry({ droneId: id, sequence: 2 })]);
    const after = (await stored(id)) as (DroneDocument & { maintenanceNote?: string }) | undefined;
    expect(after?.sequence).toBe(2);
    expect(after?.maintenanceNote).toBe('rotor 3');
  });

  it('stays within its bound, and an evicted drone costs one read again', async () => {
    run++;
    const a = instance(3);
    const ids = [0, 1, 2, 3, 4].map(droneName);
    for (const droneId of ids) await a.ingest([telemetry({ droneId, sequence: 1 })]);
    expect(a.store.size).toBe(3);
    expect(a.requests).toEqual({ reads: 5, writes: 5 });
    // The two least recently used were dropped; the three most recent are served from memory.
    const remembered = ids.slice(2);
    await a.ingest(remembered.map((droneId) => telemetry({ droneId, sequence: 2 })));
    expect(a.requests).toEqual({ reads: 5, writes: 8 });
    await a.ingest([telemetry({ droneId: ids[0] as string, sequence: 2 })]);
    expect(a.requests).toEqual({ reads: 6, writes: 9 });
    expect(a.store.size).toBe(3);
    for (const id of ids) expect((await stored(id))?.sequence).toBe(id === ids[1] ? 1 : 2);
  });

  it.each([11, 2027, 90210])(
    'two instances interleaving writes to the same drones end at the newest event (seed %i)',
    async (seed) => {
      run++;
      const r = new Random(seed);
      const a = instance(r.int(1, 3));
      const b = instance();
      const ids = [0, 1, 2].map(droneName);
      const newest = new Map<string, number>();
      let sequence = 0;
      for (let step = 0; step < 15; step++) {
        const batch = (): Telemetry[] =>
          Array.from({ length: r.int(1, 4) }, () => {
            const droneId = r.pick(ids);
            // Mostly newer events, some late ones from earlier in the drone's life.
            const s = r.chance(0.25) ? r.int(1, Math.max(1, sequence)) : ++sequence;
            newest.set(droneId, Math.max(newest.get(droneId) ?? 0, s));
            return telemetry({ droneId, sequence: s, batteryPct: s % 100 });
          });
        const before = await Promise.all(ids.map(async (id) => (await stored(id))?.sequence ?? 0));
        if (r.chance(0.5)) await Promise.all([a.ingest(batch()), b.ingest(batch())]);
        else await (r.chance(0.5) ? a : b).ingest(batch());
        const after = await Promise.all(ids.map(async (id) => (await stored(id))?.sequence ?? 0));
        after.forEach((s, i) => expect(s).toBeGreaterThanOrEqual(before[i] as number));
      }
      for (const id of ids) {
        const doc = await stored(id);
        const want = newest.get(id);
        expect(doc?.sequence).toBe(want);
        if (want !== undefined) expect(doc?.batteryPct).toBe(want % 100);
      }
    },
  );
});

describe('bulk writes', () => {
  afterEach(() => vi.restoreAllMocks());
  const state = (droneId: string, sequence: number) => ({
    droneId,
    status: 'Idle' as const,
    position: { lat: 47.6, lon: -122.3, altitudeM: 0 },
    batteryPct: 90,
    speedMps: 0,
    sequence,
    reportedAt: new Date(Date.UTC(2026, 11, 1, 10, 0, sequence)).toISOString(),
  });

  it('sends the writes of one batch together, in requests of at most BULK_MAX_OPERATIONS', async () => {
    run++;
    const a = makeInstance(undefined, true);
    const bulk = vi.spyOn(drones.items, 'bulk');
    const ids = Array.from({ length: 40 }, (_, i) => droneName(i));
    await a.ingest(ids.map((droneId) => telemetry({ droneId, sequence: 1 })));
    expect(a.requests).toEqual({ reads: 40, writes: 40 });
    // Warm: every read is answered from memory, so the use case's 16 parallel writes leave
    // together: 40 drones in 3 requests.
    bulk.mockClear();
    await a.ingest(ids.map((droneId) => telemetry({ droneId, sequence: 2 })));
    expect(a.requests).toEqual({ reads: 40, writes: 80 });
    expect(bulk.mock.calls.map(([ops]) => ops.length)).toEqual([16, 16, 8]);
    for (const id of ids) expect((await stored(id))?.sequence).toBe(2);

    // Writes issued together beyond the SDK's limit per call are split.
    bulk.mockClear();
    const many = Array.from({ length: BULK_MAX_OPERATIONS + 30 }, (_, i) => droneName(100 + i));
    const written = await Promise.all(many.map((id) => a.store.write(state(id, 1), undefined)));
    expect(written.every(Boolean)).toBe(true);
    expect(bulk.mock.calls.map(([ops]) => ops.length)).toEqual([BULK_MAX_OPERATIONS, 30]);
    // A create of a drone that exists answers false, exactly as alone.
    expect(await a.store.write(state(many[0] as string, 2), undefined)).toBe(false);
  });

  it('sends an operation answered 429 again alone, and every one of a request that failed', async () => {
    run++;
    const a = makeInstance(undefined, true);
    const ids = [0, 1, 2].map(droneName);
    const items = drones.items;
    const real = items.bulk.bind(items);
    // The stand-in never throttles: answer the second operation 429 without carrying it out.
    const bulk = vi.spyOn(items, 'bulk').mockImplementationOnce(async (ops: OperationInput[], options) => {
      const answered = await real(
        ops.filter((_, i) => i !== 1),
        options,
      );
      const throttled = { statusCode: 429, requestCharge: 0 } as OperationResponse;
      return Object.assign([...answered.slice(0, 1), throttled, ...answered.slice(1)], {
        diagnostics: answered.diagnostics,
      });
    });
    const written = await Promise.all(ids.map((id) => a.store.write(state(id, 1), undefined)));
    expect(written).toEqual([true, true, true]);
    expect(bulk).toHaveBeenCalledTimes(1);
    for (const id of ids) expect((await stored(id))?.sequence).toBe(1);

    // A bulk request that fails as a whole: each write goes alone, with its own condition.
    bulk.mockRejectedValueOnce(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    const again = await Promise.all(
      ids.map(async (id) => a.store.write(state(id, 2), (await a.store.read(id))?.version)),
    );
    expect(again).toEqual([true, true, true]);
    for (const id of ids) expect((await stored(id))?.sequence).toBe(2);
    // And the remembered ETags are the new ones: the next conditional write goes through.
    const first = ids[0] as string;
    expect(await a.store.write(state(first, 3), (await a.store.read(first))?.version)).toBe(true);
  });
});
