/**
 * End to end through `npm start`'s entry point, over HTTP only (plus the stand-ins' endpoints the
 * runtime publishes in runtime.json, to look at dead letters and Cosmos documents): the runtime
 * starts and prints its URL; health; telemetry in, drone state out, poison dead-lettered; the
 * durable API; a delivery from request to Delivered with its history; cancel mid-flight with
 * compensation; the caller rules; and `kill -9` with a restart on the same data directory
 * losing no accepted event, no Cosmos document and no saga in flight.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { CosmosClient } from '@azure/cosmos';
import { AnonymousCredential, DataLakeServiceClient } from '@azure/storage-file-datalake';
import { CaptureArchive } from '../../functions/adapters/capture-archive';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principalHeaders } from '../../functions/http/identity';
import { buildOnce, killAll, runtimeInfo, startRuntime } from './support/runtime-process';
import type { RuntimeProcess } from './support/runtime-process';

const ADMIN = principalHeaders({ id: 'ops-admin', roles: ['Deliveries.Admin'] });
const READER = principalHeaders({ id: 'ops-reader', roles: ['Deliveries.Reader'] });
const ALICE = principalHeaders({ id: 'alice', roles: [] });
const BOB = principalHeaders({ id: 'bob', roles: [] });

let dataDir: string;
let rt: RuntimeProcess;
/** One rising sequence for every drone: rises per drone too. */
let seq = 1;

beforeAll(async () => {
  buildOnce();
  dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-runtime-')), 'data');
  rt = await startRuntime(dataDir, ['--quiet', '--capture-window', '2']);
}, 90_000);

afterAll(async () => {
  await killAll();
  if (dataDir) fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function call(
  method: string,
  route: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<{ status: number; json: () => unknown; text: string; headers: Headers }> {
  const res = await fetch(`${rt.url}${route}`, {
    method,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, text, headers: res.headers, json: () => JSON.parse(text) as unknown };
}

/** Polls until `probe` returns a value, or fails with the last thing it saw and the runtime's output. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      throw new Error(`Timed out waiting for ${what}.\n--- runtime output ---\n${rt.output().slice(-4000)}`);
    await sleep(100);
  }
}

type Position = { lat: number; lon: number };

function telemetry(
  droneId: string,
  status: string,
  position: Position,
  deliveryId?: string,
  sequence = seq++,
): { body: unknown; partitionKey: string } {
  return {
    partitionKey: droneId,
    body: {
      schemaVersion: 1,
      droneId,
      sequence,
      timestamp: new Date().toISOString(),
      position: { ...position, altitudeM: 120 },
      batteryPct: 95,
      speedMps: 12,
      status,
      ...(deliveryId ? { deliveryId } : {}),
    },
  };
}

async function publish(hub: string, events: unknown[]): Promise<void> {
  const r = await call('POST', `/local/eventhubs/${hub}`, {}, events);
  expect(r.status, r.text).toBe(202);
  expect(r.json()).toEqual({ accepted: events.length });
}

interface DroneView {
  droneId: string;
  status: string;
  sequence: number;
}

async function droneAt(droneId: string, sequence: number): Promise<DroneView> {
  return until(`drone ${droneId} at sequence ${sequence}`, async () => {
    const r = await call('GET', `/api/drones/${droneId}`, ADMIN);
    if (r.status !== 200) return undefined;
    const d = r.json() as DroneView;
    return d.sequence >= sequence ? d : undefined;
  });
}

interface StatusView {
  stage: string;
  droneId?: string;
  version: number;
}

async function stageOf(deliveryId: string, stage: string, who = ALICE): Promise<StatusView> {
  return until(`delivery ${deliveryId} to reach ${stage}`, async () => {
    const r = await call('GET', `/api/deliveries/${deliveryId}`, who);
    if (r.status !== 200) return undefined;
    const v = r.json() as StatusView;
    return v.stage === stage ? v : undefined;
  });
}

const PICKUP = { lat: 47.61, lon: -122.33 };
const DROPOFF = { lat: 47.62, lon: -122.35 };

async function requestDelivery(deliveryId: string, who = ALICE): Promise<void> {
  const r = await call('POST', '/api/deliveries', who, {
    deliveryId,
    pickup: PICKUP,
    dropoff: DROPOFF,
    package: { size: 'small', weightKg: 1.5 },
  });
  expect(r.status, r.text).toBe(202);
  expect(r.headers.get('location')).toBe(`/api/deliveries/${deliveryId}`);
}

async function registerDrones(prefix: string, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  const events = ids.map((id) => telemetry(id, 'Idle', { lat: 47.6, lon: -122.3 }));
  await publish('telemetry', events);
  for (const [i, id] of ids.entries()) await droneAt(id, (events[i]?.body as { sequence: number }).sequence);
  return ids;
}

async function historyTypes(deliveryId: string): Promise<string[]> {
  const r = await call('GET', `/api/deliveries/${deliveryId}/history`, ALICE);
  expect(r.status, r.text).toBe(200);
  const events = (r.json() as { events: { type: string; sequence: number }[] }).events;
  expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
  return events.map((e) => e.type);
}

/** Flies a drone through a delivery's milestones, waiting for each stage the status view shows. */
async function fly(deliveryId: string, droneId: string, upTo: 'PickedUp' | 'Delivered'): Promise<void> {
  await publish('telemetry', [telemetry(droneId, 'EnRouteToPickup', PICKUP, deliveryId)]);
  await publish('telemetry', [telemetry(droneId, 'PickedUp', PICKUP, deliveryId)]);
  await stageOf(deliveryId, 'PickedUp');
  if (upTo === 'PickedUp') return;
  await publish('telemetry', [telemetry(droneId, 'EnRouteToDropoff', DROPOFF, deliveryId)]);
  await stageOf(deliveryId, 'InTransit');
  await publish('telemetry', [telemetry(droneId, 'Delivered', DROPOFF, deliveryId)]);
  await stageOf(deliveryId, 'Delivered');
  await publish('telemetry', [
    telemetry(droneId, 'Returning', DROPOFF, deliveryId),
    telemetry(droneId, 'Idle', PICKUP),
  ]);
}

describe('npm start (the local runtime as a child process)', () => {
  it('prints its base URL and the functions it serves', () => {
    expect(rt.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(rt.output()).toContain(`health: [GET] ${rt.url}/api/health`);
    expect(rt.output()).toContain('ingestTelemetry: eventHubTrigger telemetry');
  });

  it('answers GET /api/health with every dependency Healthy', async () => {
    const r = await call('GET', '/api/health');
    expect(r.status, r.text).toBe(200);
    const body = r.json() as { status: string; checks: Record<string, { status: string }> };
    expect(body.status).toBe('Healthy');
    expect(Object.keys(body.checks).length).toBeGreaterThan(0);
    for (const check of Object.values(body.checks)) expect(check.status).toBe('Healthy');
  });

  it('serves the Durable extension API on the same host', async () => {
    const r = await call('GET', '/runtime/webhooks/durabletask/instances');
    expect(r.status, r.text).toBe(200);
    expect(Array.isArray(r.json())).toBe(true);
    expect((await call('GET', '/runtime/webhooks/durabletask/instances/no-such-instance')).status).toBe(404);
  });

  it('turns published telemetry into drone state and dead-letters poison with its metadata', async () => {
    const t = telemetry('e2e-tel-1', 'Idle', { lat: 47.6, lon: -122.3 });
    await publish('telemetry', [
      t,
      { body: '{not json', partitionKey: 'poison' },
      { body: { schemaVersion: 1, droneId: 'no good!' } },
    ]);
    const drone = await droneAt('e2e-tel-1', (t.body as { sequence: number }).sequence);
    expect(drone.status).toBe('Idle');
    expect((await call('GET', '/api/drones/e2e-unknown-drone', ADMIN)).status).toBe(404);

    const info = runtimeInfo(dataDir);
    const container = BlobServiceClient.fromConnectionString(info.endpoints.blob.connectionString).getContainerClient(
      'deadletter',
    );
    const letters = await until('two dead letters', async () => {
      const names: string[] = [];
      for await (const b of container.listBlobsFlat()) names.push(b.name);
      return names.length >= 2 ? names : undefined;
    });
    const text = (await container.getBlobClient(letters[0] ?? '').downloadToBuffer()).toString('utf8');
    expect(text).toMatch(/partition/i);
    expect(text).toMatch(/sequence/i);
  });

  it('rejects bad publishes without publishing anything', async () => {
    expect((await call('POST', '/local/eventhubs/no-such-hub', {}, [{ body: 1 }])).status).toBe(404);
    expect((await call('POST', '/local/eventhubs/telemetry', {}, { body: 1 })).status).toBe(400);
  });

  it('runs a delivery Requested → Scheduled → PickedUp → InTransit → Delivered, with its history', async () => {
    await registerDrones('e2e-fleet', 2);
    await requestDelivery('e2e-happy');
    const scheduled = await stageOf('e2e-happy', 'Scheduled');
    expect(scheduled.droneId).toBeDefined();
    await fly('e2e-happy', scheduled.droneId ?? '', 'Delivered');
    const types = await until('the drone release in the history', async () => {
      const t = await historyTypes('e2e-happy');
      return t.includes('DroneReleased') ? t : undefined;
    });
    expect(types.slice(0, 7)).toEqual([
      'DeliveryRequested',
      'PackageCreated',
      'DroneAssigned',
      'DeliveryScheduled',
      'PackagePickedUp',
      'DeliveryInTransit',
      'DeliveryCompleted',
    ]);
    // Cancelling what was delivered is a conflict.
    expect((await call('DELETE', '/api/deliveries/e2e-happy', ALICE)).status).toBe(409);
  });

  it('compensates every completed step when a delivery is cancelled mid-flight', async () => {
    await registerDrones('e2e-cancel', 1);
    await requestDelivery('e2e-cancelled');
    const scheduled = await stageOf('e2e-cancelled', 'Scheduled');
    await fly('e2e-cancelled', scheduled.droneId ?? '', 'PickedUp');
    const r = await call('DELETE', '/api/deliveries/e2e-cancelled', ALICE);
    expect(r.status, r.text).toBe(202);
    await stageOf('e2e-cancelled', 'Cancelled');
    const types = await until('the compensations in the history', async () => {
      const t = await historyTypes('e2e-cancelled');
      return t.includes('DroneReleased') && t.includes('PackageCancelled') && t.includes('DeliveryCancelled')
        ? t
        : undefined;
    });
    expect(types.slice(0, 5)).toEqual([
      'DeliveryRequested',
      'PackageCreated',
      'DroneAssigned',
      'DeliveryScheduled',
      'PackagePickedUp',
    ]);
    expect(types).not.toContain('DeliveryCompleted');
  });

  it('archives delivery events to the lake (Capture) and rebuilds a lost view from there, identical', async () => {
    const before = await call('GET', '/api/deliveries/e2e-happy', ALICE);
    expect(before.status).toBe(200);
    const info = runtimeInfo(dataDir);
    const lake = new DataLakeServiceClient(info.endpoints.lake.url, new AnonymousCredential()).getFileSystemClient(
      info.endpoints.lake.fileSystem,
    );
    const captured = await until(
      'captured delivery events in the lake',
      async () => {
        const files: string[] = [];
        for await (const p of lake.listPaths({ recursive: true }))
          if (!p.isDirectory && p.name?.endsWith('.avro') && p.name.includes('/delivery-events/')) files.push(p.name);
        const events = [];
        for (const f of files) events.push(...(await new CaptureArchive(lake).readFile(f)));
        const happy = events.filter((e) => e.body?.toString('utf8').includes('"e2e-happy"'));
        return happy.length >= 8 ? happy : undefined;
      },
      20_000,
    );
    expect(captured.length).toBeGreaterThanOrEqual(8);

    const cosmos = new CosmosClient({
      endpoint: info.endpoints.cosmos.endpoint,
      key: info.endpoints.cosmos.key,
      connectionPolicy: { enableEndpointDiscovery: false },
    });
    await cosmos
      .database(info.endpoints.cosmos.database)
      .container('deliveryStatus')
      .item('e2e-happy', 'e2e-happy')
      .delete();
    expect((await call('GET', '/api/deliveries/e2e-happy', ALICE)).status).toBe(404);

    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    expect((await call('POST', '/api/ops/rebuild-views', ALICE, { from, to })).status).toBe(403);
    const rebuilt = await call('POST', '/api/ops/rebuild-views', ADMIN, { from, to, deliveryId: 'e2e-happy' });
    expect(rebuilt.status, rebuilt.text).toBe(202);
    const job = rebuilt.headers.get('location') ?? '';
    expect(job).toMatch(/^\/api\/ops\/rebuild-views\/rebuild-/);
    const done = await until(
      'the rebuild job',
      async () => {
        const r = await call('GET', job, ADMIN);
        const body = r.json() as { status: string; progress: { viewsWritten?: number } };
        return body.status === 'Running' ? undefined : body;
      },
      30_000,
    );
    expect(done).toMatchObject({ status: 'Completed', progress: { phase: 'done', viewsWritten: 1 } });
    const after = await call('GET', '/api/deliveries/e2e-happy', ALICE);
    expect(after.status).toBe(200);
    expect(after.json()).toEqual(before.json());
  });

  it('keeps the right drone state and stream under duplicated and reordered telemetry', async () => {
    await publish('telemetry', [
      telemetry('e2e-dup', 'Idle', PICKUP, undefined, 10_010),
      telemetry('e2e-dup', 'Charging', PICKUP, undefined, 10_008),
      telemetry('e2e-dup', 'Idle', PICKUP, undefined, 10_010),
      telemetry('e2e-dup', 'Returning', PICKUP, undefined, 10_009),
    ]);
    const drone = await droneAt('e2e-dup', 10_010);
    expect(drone).toMatchObject({ sequence: 10_010, status: 'Idle' });

    await registerDrones('e2e-reorder', 1);
    await requestDelivery('e2e-reordered');
    const scheduled = await stageOf('e2e-reordered', 'Scheduled');
    const droneId = scheduled.droneId ?? '';
    // Whichever drone got the job, its next reports must be newer than what it last said.
    const base = ((await call('GET', `/api/drones/${droneId}`, ADMIN)).json() as DroneView).sequence;
    // The completion arrives first; the pickup and transit reports arrive late, one of them twice.
    await publish('telemetry', [telemetry(droneId, 'Delivered', DROPOFF, 'e2e-reordered', base + 3)]);
    await stageOf('e2e-reordered', 'Delivered');
    await publish('telemetry', [
      telemetry(droneId, 'PickedUp', PICKUP, 'e2e-reordered', base + 1),
      telemetry(droneId, 'EnRouteToDropoff', DROPOFF, 'e2e-reordered', base + 2),
      telemetry(droneId, 'PickedUp', PICKUP, 'e2e-reordered', base + 1),
    ]);
    const types = await until('the release after completion', async () => {
      const t = await historyTypes('e2e-reordered');
      return t.includes('DroneReleased') ? t : undefined;
    });
    expect(types.filter((t) => t === 'DeliveryCompleted')).toHaveLength(1);
    expect(types).not.toContain('PackagePickedUp');
    expect((await droneAt(droneId, base + 3)).status).toBe('Delivered');
  });

  it('fails a delivery whose deadline cannot be met, compensating what it did', async () => {
    await registerDrones('e2e-deadline', 1);
    const r = await call('POST', '/api/deliveries', ALICE, {
      deliveryId: 'e2e-late',
      pickup: PICKUP,
      dropoff: { lat: 45.52, lon: -122.68 },
      deadline: new Date(Date.now() + 60_000).toISOString(),
      package: { size: 'medium', weightKg: 4 },
    });
    expect(r.status, r.text).toBe(202);
    const failed = (await stageOf('e2e-late', 'Failed')) as StatusView & { failureReason?: string };
    expect(failed.failureReason).toContain('deadline');
    const types = await until('the compensations', async () => {
      const t = await historyTypes('e2e-late');
      return t.at(-1) === 'DeliveryFailed' ? t : undefined;
    });
    expect(types).toEqual([
      'DeliveryRequested',
      'PackageCreated',
      'DroneAssigned',
      'DroneReleased',
      'PackageCancelled',
      'DeliveryFailed',
    ]);
  });

  it('keeps deliveries to their owners: 401 without identity, 404 for others, readers read', async () => {
    expect((await call('GET', '/api/deliveries/e2e-happy')).status).toBe(401);
    expect((await call('GET', '/api/deliveries/e2e-happy', BOB)).status).toBe(404);
    expect((await call('GET', '/api/deliveries/e2e-happy/history', BOB)).status).toBe(404);
    expect((await call('DELETE', '/api/deliveries/e2e-happy', BOB)).status).toBe(404);
    expect((await call('GET', '/api/deliveries/e2e-happy', READER)).status).toBe(200);
    expect((await call('GET', '/api/deliveries/never-requested', ADMIN)).status).toBe(404);
    expect((await call('GET', '/api/drones/e2e-tel-1', ALICE)).status).toBe(403);
    const bad = await call('POST', '/api/deliveries', ALICE, {
      pickup: { lat: 123, lon: 0 },
      dropoff: DROPOFF,
      package: { size: 'huge', weightKg: 0 },
    });
    expect(bad.status).toBe(400);
    expect((bad.json() as { errors: unknown[] }).errors.length).toBeGreaterThan(0);
  });

  it('after kill -9 and a restart on the same data directory: no event, document or saga is lost', async () => {
    // A saga in flight: scheduled, waiting for its drone.
    await registerDrones('e2e-crash', 1);
    await requestDelivery('e2e-inflight');
    const scheduled = await stageOf('e2e-inflight', 'Scheduled');
    const statusBefore = (await call('GET', '/local/status')).json() as {
      hubs: { name: string; partitions: unknown[] }[];
    };

    // Accepted events the runtime has had no time to process when it dies.
    const burst = Array.from({ length: 5 }, (_, i) => telemetry(`e2e-burst-${i}`, 'Idle', { lat: 47.6, lon: -122.3 }));
    await publish('telemetry', burst);
    expect(await rt.stop('SIGKILL')).toBeNull();

    const info = runtimeInfo(dataDir);
    rt = await startRuntime(dataDir, ['--quiet', '--capture-window', '2']);
    expect(rt.output()).toMatch(/Cosmos DB: \d+ writes restored/);

    // The hubs kept every event (the burst on top of what was there), and consumers resumed.
    const statusAfter = (await call('GET', '/local/status')).json() as {
      hubs: { name: string; partitions: { lastSequenceNumber: number }[] }[];
    };
    const count = (s: { hubs: { name: string; partitions: unknown[] }[] }): number =>
      (s.hubs.find((h) => h.name === 'telemetry')?.partitions as { lastSequenceNumber: number }[]).reduce(
        (n, p) => n + p.lastSequenceNumber + 1,
        0,
      );
    expect(count(statusAfter)).toBe(count(statusBefore) + burst.length);
    for (const [i, e] of burst.entries()) await droneAt(`e2e-burst-${i}`, (e.body as { sequence: number }).sequence);

    // Cosmos documents written before the kill are back.
    const newInfo = runtimeInfo(dataDir);
    expect(newInfo.endpoints.cosmos.endpoint).not.toBe(info.endpoints.cosmos.endpoint);
    const cosmos = new CosmosClient({
      endpoint: newInfo.endpoints.cosmos.endpoint,
      key: newInfo.endpoints.cosmos.key,
      connectionPolicy: { enableEndpointDiscovery: false },
    });
    const { resource } = await cosmos
      .database(newInfo.endpoints.cosmos.database)
      .container('drones')
      .item('e2e-tel-1', 'e2e-tel-1')
      .read();
    expect(resource).toMatchObject({ id: 'e2e-tel-1' });
    expect((await call('GET', '/api/deliveries/e2e-happy', ALICE)).json()).toMatchObject({ stage: 'Delivered' });

    // The saga in flight resumes: flying its drone completes it.
    await fly('e2e-inflight', scheduled.droneId ?? '', 'Delivered');
    const instance = await until('the saga to complete', async () => {
      const r = await call('GET', '/runtime/webhooks/durabletask/instances/e2e-inflight');
      const s = r.json() as { runtimeStatus: string };
      return s.runtimeStatus === 'Completed' ? s : undefined;
    });
    expect(instance.runtimeStatus).toBe('Completed');
  });

  it('stops cleanly on SIGTERM with exit code 0', async () => {
    expect(await rt.stop('SIGTERM')).toBe(0);
    expect(rt.output()).toContain('Stopped.');
    expect(fs.existsSync(path.join(dataDir, 'runtime.lock'))).toBe(false);
  });
});
