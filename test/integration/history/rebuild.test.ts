/**
 * Rebuilding status views: from Capture files in the local lake stand-in, through the archive
 * adapter, the registered HTTP function and the rebuild job on the Durable engine, into an empty
 * database, the views come out exactly as the live projector made them from the same events
 * arriving out of order and duplicated. The job answers 202 with a Location to poll.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '@azure/cosmos';
import type { DataLakeFileSystemClient } from '@azure/storage-file-datalake';
import { callHttp, invocationContext, loadFunctionApp } from '../../support/app';
import { deliveryStream } from '../../support/delivery';
import { useEmulators } from '../../support/emulators';
import { hostBatch } from '../../support/eventhub';
import { MemoryEventStore, MemoryViewStore } from '../../support/memory-history';
import { startTempLake } from '../lake/lake-fixture';
import type { TempLake } from '../lake/lake-fixture';
import type { DeliveryEvent } from '../../../domain/delivery/events';
import type { ArchiveReader } from '../../../domain/delivery/ports';
import { foldStatus } from '../../../domain/delivery/status';
import { CaptureDeliveryArchive } from '../../../functions/adapters/archive-delivery-events';
import type { SkippedArchiveEvent } from '../../../functions/adapters/archive-delivery-events';
import { CaptureArchive } from '../../../functions/adapters/capture-archive';
import { capturePath, formatEnqueuedTimeUtc } from '../../../functions/adapters/capture-format';
import { encodeCaptureFile } from '../../../packages/functions-local/src/lake/capture-format';
import type { CapturedEvent } from '../../../functions/adapters/capture-format';
import { Composition, resetComposition } from '../../../functions/composition';
import type { AppConfig } from '../../../functions/config';
import { rebuildViews } from '../../../functions/history/rebuild';
import type { RebuildProgress } from '../../../functions/history/rebuild';
import { principalHeaders } from '../../../functions/http/identity';
import { FUNCTIONS } from '../../../functions/names';
import { COSMOS_CONTAINERS } from '../../../functions/resources';
import { ROLE_ADMIN, ROLE_READER } from '../../../domain/shared/caller';
import type { InvocationContext } from '@azure/functions';
import { createInvocationContext, silentLogger } from '../../../packages/functions-local/src/host/invocation';
import {
  bindDurableClient,
  DurableEngine,
  startDurableHttpServer,
} from '../../../packages/functions-local/src/durable';
import type { DurableHttpServer } from '../../../packages/functions-local/src/durable';
import { ACTIVITIES } from '../../../functions/names';

const NS = 'fabrikam-local';
const HUB = 'delivery-events';
const tag = `${process.pid}`;
const streams = [
  deliveryStream(`a-${tag}`, 'delivered'),
  deliveryStream(`b-${tag}`, 'cancelled'),
  deliveryStream(`c-${tag}`, 'failed'),
  deliveryStream(`d-${tag}`, 'inFlight', { ownerId: 'owner-2' }),
];
const ids = streams.map((s) => s[0]!.deliveryId);
const admin = principalHeaders({ id: 'ops-admin', roles: [ROLE_ADMIN] });

/** The order the hub saw: deliveries interleaved, each delivery's events reordered, some twice. */
function published(): DeliveryEvent[] {
  const out: DeliveryEvent[] = [];
  for (let i = 0; i < 8; i++) {
    for (const s of streams) {
      const e = s[(i * 5 + 3) % s.length];
      if (e) out.push(e);
      const f = s[i];
      if (f) out.push(f);
    }
  }
  return out;
}

class ArchiveComposition extends Composition {
  constructor(
    config: AppConfig,
    private readonly reader: () => ArchiveReader,
  ) {
    super(config);
  }
  override archiveReader(): ArchiveReader {
    return this.reader();
  }
}

let lake: TempLake;
let fileSystem: DataLakeFileSystemClient;
let projectedDb: Database;
let rebuiltDb: Database;
let comp: ArchiveComposition;
let engine: DurableEngine;
let api: DurableHttpServer;
/** While set, slice activities wait for it: a job that stays Running as long as a test needs. */
let gate: Promise<void> | undefined;
/** While set, slice activities fail with it. */
let sliceFault: Error | undefined;
const bind = (ctx: InvocationContext): void => void bindDurableClient(ctx, api.clientBindingData());
const skipped: SkippedArchiveEvent[] = [];

async function docOf(
  db: Database,
  container: string,
  id: string,
  partitionKey = id,
): Promise<Record<string, unknown> | undefined> {
  const { resource } = await db.container(container).item(id, partitionKey).read<Record<string, unknown>>();
  if (!resource) return undefined;
  const { _rid, _self, _etag, _attachments, _ts, ...rest } = resource;
  void [_rid, _self, _etag, _attachments, _ts];
  return rest;
}

async function streamOf(db: Database, deliveryId: string): Promise<Record<string, unknown>[]> {
  const { resources } = await db
    .container(COSMOS_CONTAINERS.deliveryEvents.name)
    .items.query<Record<string, unknown>>(
      {
        query: 'SELECT * FROM c WHERE c.deliveryId = @d ORDER BY c.sequence',
        parameters: [{ name: '@d', value: deliveryId }],
      },
      { partitionKey: deliveryId },
    )
    .fetchAll();
  return resources.map(
    ({ _rid, _self, _etag, _attachments, _ts, ...rest }) => (void [_rid, _self, _etag, _attachments, _ts], rest),
  );
}

/** Writes the published events as Capture would: two partitions by delivery, one file per minute of 6 events. */
async function writeArchive(events: readonly DeliveryEvent[]): Promise<void> {
  const partitions = new Map<string, (Buffer | null)[]>();
  for (const e of events) {
    const p = String(ids.indexOf(e.deliveryId) % 2);
    partitions.set(p, [...(partitions.get(p) ?? []), Buffer.from(JSON.stringify(e))]);
  }
  // Poison published to the hub lands in the archive too (it was dead-lettered when live).
  partitions.get('0')?.splice(3, 0, Buffer.from('{"type": not json'), Buffer.from(JSON.stringify({ hello: 'world' })));
  for (const [partitionId, bodies] of partitions) {
    for (let file = 0; file * 6 < bodies.length; file++) {
      const windowStart = new Date(Date.UTC(2026, 10, 22, 10, file, 0));
      const captured: CapturedEvent[] = bodies.slice(file * 6, file * 6 + 6).map((body, i) => ({
        sequenceNumber: file * 6 + i,
        offset: String((file * 6 + i) * 100),
        enqueuedTimeUtc: formatEnqueuedTimeUtc(windowStart),
        systemProperties: { 'x-opt-enqueued-time': windowStart.getTime() },
        properties: {},
        body,
      }));
      await fileSystem
        .getFileClient(capturePath({ namespace: NS, eventHub: HUB, partitionId, windowStart }))
        .upload(await encodeCaptureFile(captured));
    }
  }
}

beforeAll(async () => {
  lake = await startTempLake('rebuild');
  fileSystem = lake.service.getFileSystemClient('capture');
  await fileSystem.create();
  const events = published();
  await writeArchive(events);

  // The live path: the projector sees the published events in batches of 5.
  const live = await useEmulators('rebuild-live');
  projectedDb = live.cosmos.database(live.databaseId);
  const projector = (await loadFunctionApp()).get(FUNCTIONS.projectDeliveryEvents);
  for (let i = 0; i < events.length; i += 5) {
    const { messages, triggerMetadata } = hostBatch(events.slice(i, i + 5), {
      eventHubName: HUB,
      consumerGroup: 'projector',
      firstSequenceNumber: i,
    });
    await projector.handler(messages, invocationContext(FUNCTIONS.projectDeliveryEvents, triggerMetadata));
  }

  // An empty database, with the lake as the archive.
  // The job's slice retries: one attempt, a short timer, so a failing job ends quickly.
  const empty = await useEmulators(
    'rebuild-empty',
    { SagaStepAttempts: '1', SagaStepFirstRetryMs: '10' },
    (config) =>
      new ArchiveComposition(
        config,
        () => new CaptureDeliveryArchive(new CaptureArchive(fileSystem), NS, HUB, (s) => skipped.push(s)),
      ),
  );
  comp = empty.composition;
  rebuiltDb = empty.cosmos.database(empty.databaseId);

  engine = await DurableEngine.create({
    registry: await loadFunctionApp(),
    invokeActivity: async (fn, input) => {
      if (fn.name === ACTIVITIES.rebuildViewsSlice && gate) await gate;
      if (fn.name === ACTIVITIES.rebuildViewsSlice && sliceFault) throw sliceFault;
      return fn.handler(input, createInvocationContext(fn, { logger: silentLogger }));
    },
  });
  api = await startDurableHttpServer(engine);
});

afterAll(async () => {
  await api?.close();
  await engine?.close();
  await lake?.dispose();
});

const start = (body: unknown, headers: Record<string, string> = admin) =>
  callHttp(FUNCTIONS.rebuildViews, {
    method: 'POST',
    path: 'ops/rebuild-views',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    prepare: bind,
  });

interface Job {
  readonly jobId: string;
  readonly status: 'Running' | 'Completed' | 'Failed';
  readonly progress: Record<string, unknown>;
}

const poll = (location: string, headers: Record<string, string> = admin) => {
  const jobId = decodeURIComponent(location.split('/').pop() ?? '');
  return callHttp(FUNCTIONS.getRebuildJob, {
    path: location.replace(/^\/api\//, ''),
    params: { jobId },
    headers,
    prepare: bind,
  });
};

/** Starts a job, lets the engine finish it, and answers as the poll does. */
async function rebuild(body: unknown, headers: Record<string, string> = admin) {
  const res = await start(body, headers);
  if (res.status !== 202) return res;
  await engine.idle();
  const polled = await poll(res.headers.location ?? '');
  expect(polled.status).toBe(200);
  expect(polled.json<Job>().status).toBe('Completed');
  const progress = polled.json<Job>().progress;
  return { ...polled, json: <T = unknown>() => progress as T };
}
const hour = { from: '2026-11-22T10:00:00Z', to: '2026-11-22T11:00:00Z' };

describe('POST /api/ops/rebuild-views', () => {
  it("is registered as a POST outside the host's reserved admin/ routes", async () => {
    const fn = (await loadFunctionApp()).get(FUNCTIONS.rebuildViews);
    expect(fn.trigger).toMatchObject({ type: 'httpTrigger', route: 'ops/rebuild-views', methods: ['POST'] });
    expect(String(fn.trigger.route).toLowerCase().startsWith('admin')).toBe(false);
  });

  it('rebuilds into an empty database the very views and streams the projector made', async () => {
    const res = await rebuild(hour);
    expect(res.status).toBe(200);
    const total = streams.reduce((n, s) => n + s.length, 0);
    expect(res.json()).toMatchObject({
      phase: 'done',
      slicesDone: 1,
      slicesTotal: 1,
      appended: total,
      conflicts: 0,
      deliveries: 4,
      viewsWritten: 4,
      viewsUnchanged: 0,
      viewsEmpty: 0,
    });
    // The two poison bodies in the archive are skipped and reported, not appended.
    expect(skipped).toHaveLength(2);
    expect(skipped[0]).toMatchObject({ partitionId: '0', errors: [{ path: '/', message: 'body is not JSON' }] });
    expect(skipped[1]?.errors.map((e) => e.path)).toContain('/eventId');

    for (const [i, id] of ids.entries()) {
      const projected = await docOf(projectedDb, COSMOS_CONTAINERS.deliveryStatus.name, id);
      expect(projected).toMatchObject({ ...foldStatus(streams[i]!), id });
      expect(await docOf(rebuiltDb, COSMOS_CONTAINERS.deliveryStatus.name, id)).toEqual(projected);
      expect(await streamOf(rebuiltDb, id)).toEqual(await streamOf(projectedDb, id));
    }
    expect(await docOf(rebuiltDb, COSMOS_CONTAINERS.deliveryStatus.name, ids[0]!)).toHaveProperty('ttl', 30 * 86_400);
    expect(await docOf(rebuiltDb, COSMOS_CONTAINERS.deliveryStatus.name, ids[3]!)).not.toHaveProperty('ttl');
  });

  it('changes nothing when run again', async () => {
    const before = await rebuiltDb.container(COSMOS_CONTAINERS.deliveryStatus.name).item(ids[0]!, ids[0]!).read();
    const res = await rebuild(hour);
    expect(res.json()).toMatchObject({ appended: 0, conflicts: 0, viewsWritten: 0, viewsUnchanged: 4 });
    const after = await rebuiltDb.container(COSMOS_CONTAINERS.deliveryStatus.name).item(ids[0]!, ids[0]!).read();
    expect(after.etag).toBe(before.etag);
  });

  it('repairs a damaged view, for one delivery only when asked', async () => {
    const id = ids[1]!;
    const container = rebuiltDb.container(COSMOS_CONTAINERS.deliveryStatus.name);
    const { resource } = await container.item(id, id).read<Record<string, unknown>>();
    await container.item(id, id).replace({ ...resource, id, stage: 'Delivered', droneId: 'drone-wrong' });
    const res = await rebuild({ ...hour, deliveryId: id });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ deliveries: 1, viewsWritten: 1, appended: 0 });
    expect((res.json() as { skipped: number }).skipped).toBe(0);
    expect(await docOf(rebuiltDb, COSMOS_CONTAINERS.deliveryStatus.name, id)).toEqual(
      await docOf(projectedDb, COSMOS_CONTAINERS.deliveryStatus.name, id),
    );
  });

  it('reads only the archive files of the range', async () => {
    const res = await rebuild({ from: '2026-11-22T11:00:00Z', to: '2026-11-22T12:00:00Z' });
    expect(res.json()).toMatchObject({ eventsRead: 0, deliveries: 0 });
  });

  it('is for Deliveries.Admin only: 401 without identity, 403 for others; the job status too', async () => {
    expect((await start(hour, {})).status).toBe(401);
    expect((await start(hour, principalHeaders({ id: 'ops-reader', roles: [ROLE_READER] }))).status).toBe(403);
    expect((await start(hour, principalHeaders({ id: 'owner-1', roles: [] }))).status).toBe(403);
    const res = await start(hour);
    await engine.idle();
    const location = res.headers.location ?? '';
    expect((await poll(location, {})).status).toBe(401);
    expect((await poll(location, principalHeaders({ id: 'ops-reader', roles: [ROLE_READER] }))).status).toBe(403);
  });

  it('answers 202 with a Location; the job runs as an orchestration with its progress in the custom status', async () => {
    let open: () => void = () => undefined;
    gate = new Promise<void>((r) => (open = r));
    const twoHours = { from: '2026-11-22T09:00:00Z', to: '2026-11-22T11:00:00Z' };
    try {
      const res = await start(twoHours);
      expect(res.status).toBe(202);
      const location = res.headers.location ?? '';
      expect(location).toMatch(/^\/api\/ops\/rebuild-views\/rebuild-/);
      expect(res.json()).toMatchObject({ status: 'Running', links: { status: location } });
      await new Promise((r) => setTimeout(r, 50));
      const running = await poll(location);
      expect(running.json<Job>()).toMatchObject({
        status: 'Running',
        progress: { phase: 'running', slicesDone: 0, slicesTotal: 2, eventsRead: 0 },
      });
      const status = await engine.getStatus(running.json<Job>().jobId);
      expect(status?.customStatus).toEqual(running.json<Job>().progress);
    } finally {
      open();
      gate = undefined;
    }
    await engine.idle();
    const done = await poll((await start(twoHours)).headers.location ?? '');
    await engine.idle();
    expect(done.status).toBe(200);
  });

  it('the same range asked again while its job runs returns that job (one instance), another range its own', async () => {
    let open: () => void = () => undefined;
    gate = new Promise<void>((r) => (open = r));
    const range = { from: '2026-11-22T10:00:00Z', to: '2026-11-22T10:30:00Z' };
    try {
      const first = await start(range);
      const again = await start(range);
      // The same instants spelled differently are the same range.
      const spelled = await start({ from: '2026-11-22T10:00:00.000Z', to: '2026-11-22T10:30:00.000Z' });
      const other = await start({ ...range, deliveryId: ids[0] });
      expect([first.status, again.status, spelled.status, other.status]).toEqual([202, 202, 202, 202]);
      expect(again.headers.location).toBe(first.headers.location);
      expect(spelled.headers.location).toBe(first.headers.location);
      expect(other.headers.location).not.toBe(first.headers.location);
      const jobId = first.json<{ jobId: string }>().jobId;
      expect((await engine.getStatus(jobId))?.runtimeStatus).toMatch(/Pending|Running/);
    } finally {
      open();
      gate = undefined;
    }
    await engine.idle();
    const done = await poll((await start(range)).headers.location ?? '');
    expect(done.json<Job>().status).toMatch(/Running|Completed/);
    await engine.idle();
  });

  it('a job whose slice keeps failing ends Failed; asking again reruns it', async () => {
    const range = { from: '2026-11-22T12:00:00Z', to: '2026-11-22T13:00:00Z' };
    sliceFault = new Error('the lake is unreachable');
    try {
      const res = await start(range);
      expect(res.status).toBe(202);
      await engine.idle();
      const failed = await poll(res.headers.location ?? '');
      expect(failed.json<Job>()).toMatchObject({
        status: 'Failed',
        progress: { phase: 'running', slicesDone: 0, slicesTotal: 1 },
      });
    } finally {
      sliceFault = undefined;
    }
    const again = await start(range);
    await engine.idle();
    expect((await poll(again.headers.location ?? '')).json<Job>()).toMatchObject({
      status: 'Completed',
      progress: { phase: 'done', slicesDone: 1 },
    });
  });

  it('an unknown job is 404', async () => {
    const res = await poll('/api/ops/rebuild-views/rebuild-0-1-none');
    expect(res.status).toBe(404);
  });

  it('bounds the range by RebuildMaxRangeDays: 400 naming /to beyond it', async () => {
    const res = await start({ from: '2026-10-01T00:00:00Z', to: '2026-11-22T00:00:00Z' });
    expect(res.status).toBe(400);
    expect(res.json<{ errors: { path: string; message: string }[] }>().errors).toEqual([
      { path: '/to', message: expect.stringContaining('31 days') },
    ]);
  });

  it('answers 400 with errors for a bad request body', async () => {
    for (const [body, path] of [
      ['{"from": nope', '/'],
      [{ from: hour.to, to: hour.from }, '/to'],
      [{ from: hour.from, to: hour.from }, '/to'],
      [{ from: 'yesterday', to: hour.to }, '/from'],
      [{ from: '2026-02-30T00:00:00Z', to: hour.to }, '/from'],
      [{ ...hour, deliveryId: '../x' }, '/deliveryId'],
      [{ ...hour, extra: 1 }, '/extra'],
      [{ from: hour.from }, '/to'],
    ] as const) {
      const res = await start(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(
        (res.json() as { errors: { path: string }[] }).errors.map((e) => e.path),
        JSON.stringify(body),
      ).toContain(path);
    }
  });

  it('answers 503 when no archive is configured', async () => {
    resetComposition(new Composition(comp.config));
    try {
      const res = await start(hour);
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toBe('application/problem+json');
    } finally {
      resetComposition(comp);
    }
  });
});

describe('rebuildViews (use case)', () => {
  it('appends idempotently, recomputes each touched view once, and reports progress as it goes', async () => {
    const events = new MemoryEventStore();
    const views = new MemoryViewStore();
    const progress: RebuildProgress[] = [];
    async function* source(): AsyncGenerator<DeliveryEvent> {
      yield* published();
    }
    const report = await rebuildViews(source(), {
      events,
      views,
      retry: { attempts: 1, firstRetryMs: 0, maxRetryMs: 0 },
      statusViewTtlSeconds: 60,
      progressEvery: 10,
      chunkSize: 7,
      onProgress: (p) => progress.push(p),
    });
    const total = streams.reduce((n, s) => n + s.length, 0);
    expect(report).toMatchObject({
      phase: 'done',
      eventsRead: published().length,
      appended: total,
      duplicates: published().length - total,
      deliveries: 4,
      viewsWritten: 4,
    });
    for (const [i, id] of ids.entries()) expect((await views.read(id))?.view).toEqual(foldStatus(streams[i]!));
    expect(views.docs.get(ids[0]!)?.ttl).toBe(60);
    const phases = progress.map((p) => p.phase);
    expect(phases.filter((p) => p === 'events').length).toBeGreaterThanOrEqual(Math.floor(published().length / 10));
    expect(phases.at(-1)).toBe('done');
    expect(phases.indexOf('done')).toBeGreaterThan(phases.lastIndexOf('events'));
    const reads = progress.map((p) => p.eventsRead);
    expect(reads).toEqual([...reads].sort((a, b) => a - b));
  });
});
