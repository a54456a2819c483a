/**
 * The operations console's admin routes through the registered handlers, on the real
 * stand-ins: only Deliveries.Admin gets in (401 without identity, 403 for everyone else, before
 * any read); the fleet with freshness; deliveries with counts per stage, the stage filter,
 * late and stuck marks; conditional GET (ETag → 304); dead letters with their metadata and
 * body, and a replay that publishes once however often it is asked; the supervisor's findings.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { callHttp, invocationContext, loadFunctionApp } from '../../support/app';
import { deliveryStream } from '../../support/delivery';
import { useEmulators } from '../../support/emulators';
import { hostBatch } from '../../support/eventhub';
import { telemetry } from '../../support/telemetry';
import { principalHeaders } from '../../../functions/http/identity';
import { FUNCTIONS, ROUTES } from '../../../functions/names';
import { ROLE_ADMIN, ROLE_READER } from '../../../domain/shared/caller';
import { stateFromTelemetry } from '../../../domain/telemetry/drone-state';
import { Composition } from '../../../functions/composition';
import { BlobDeadLetterSink, deadLetterBlobName } from '../../../functions/adapters/blob-dead-letters';
import type { DeadLetter, EventPublisher, OutgoingEvent } from '../../../domain/shared/ports';
import type { Sagas, SagaStatus } from '../../../domain/delivery/ports';
import { supervisorDeps } from '../../../functions/saga/supervisor';
import { supervisorFindings } from '../../../functions/ops/ops-queries';

class RecordingPublisher implements EventPublisher {
  readonly sent: { hub: string; events: readonly OutgoingEvent[] }[] = [];
  async publish(hub: string, events: readonly OutgoingEvent[]): Promise<void> {
    this.sent.push({ hub, events });
  }
  async close(): Promise<void> {}
}

const recorder = new RecordingPublisher();

class OpsComposition extends Composition {
  override readonly publisher = () => recorder;
}

const suffix = `${process.pid}-${Date.now().toString(36)}`;
const admin = principalHeaders({ id: 'ops-admin', roles: [ROLE_ADMIN] });
const reader = principalHeaders({ id: 'ops-reader', roles: [ROLE_READER] });
const owner = principalHeaders({ id: 'owner-1', roles: [] });
const FRESH = `fresh-${suffix}`;
const STALE = `stale-${suffix}`;
const DONE = `done-${suffix}`;
const OPEN = `open-${suffix}`;

let comp: OpsComposition;

beforeAll(async () => {
  comp = (await useEmulators('ops-api', {}, (config) => new OpsComposition(config))).composition;
  const now = Date.now();
  await comp
    .droneStore()
    .write(
      stateFromTelemetry(
        telemetry({ droneId: FRESH, sequence: 3, status: 'Idle', timestamp: new Date(now - 30_000).toISOString() }),
      ),
      undefined,
    );
  await comp
    .droneStore()
    .write(
      stateFromTelemetry(
        telemetry({ droneId: STALE, sequence: 3, status: 'Idle', timestamp: new Date(now - 3_600_000).toISOString() }),
      ),
      undefined,
    );
  const projector = (await loadFunctionApp()).get(FUNCTIONS.projectDeliveryEvents);
  // deliveryStream's events are from 2026-11-22: the open one has been idle for longer than any SLA.
  const { messages, triggerMetadata } = hostBatch(
    [...deliveryStream(DONE, 'delivered'), ...deliveryStream(OPEN, 'inFlight')],
    {
      eventHubName: 'delivery-events',
      consumerGroup: 'projector',
    },
  );
  await projector.handler(messages, invocationContext(FUNCTIONS.projectDeliveryEvents, triggerMetadata));
});

const get = (fn: string, path: string, headers: Record<string, string> = admin) => callHttp(fn, { path, headers });

describe('the ops routes', () => {
  const routes: [string, string][] = [
    [FUNCTIONS.opsListDrones, ROUTES.opsDrones],
    [FUNCTIONS.opsListDeliveries, ROUTES.opsDeliveries],
    [FUNCTIONS.opsListDeadLetters, ROUTES.opsDeadLetters],
    [FUNCTIONS.opsHubLag, ROUTES.opsHubLag],
  ];

  it('are admin only: 401 without an identity, 403 problem+json for a reader or an owner', async () => {
    for (const [fn, path] of routes) {
      expect((await get(fn, path, {})).status, path).toBe(401);
      for (const who of [reader, owner]) {
        const res = await get(fn, path, who);
        expect(res.status, path).toBe(403);
        expect(res.headers['content-type']).toBe('application/problem+json');
      }
    }
    const replay = await callHttp(FUNCTIONS.opsReplayDeadLetter, {
      method: 'POST',
      path: ROUTES.opsReplayDeadLetter,
      headers: reader,
      body: '{"id":"x"}',
    });
    expect(replay.status).toBe(403);
  });

  it('are registered under ops/ with the methods the OpenAPI document names', async () => {
    const reg = await loadFunctionApp();
    expect(reg.get(FUNCTIONS.opsDeliveryTimeline).trigger).toMatchObject({
      route: ROUTES.opsDeliveryTimeline,
      methods: ['GET'],
    });
    expect(reg.get(FUNCTIONS.opsReplayDeadLetter).trigger).toMatchObject({
      route: ROUTES.opsReplayDeadLetter,
      methods: ['POST'],
    });
  });
});

describe('GET /api/ops/drones', () => {
  it('lists the fleet with freshness: a drone that has not reported for an hour is stale', async () => {
    const res = await get(FUNCTIONS.opsListDrones, ROUTES.opsDrones);
    expect(res.status).toBe(200);
    const body = res.json<{
      drones: { droneId: string; stale: boolean; batteryPct: number }[];
      freshnessMinutes: number;
    }>();
    expect(body.freshnessMinutes).toBe(10);
    expect(body.drones.find((d) => d.droneId === FRESH)).toMatchObject({
      stale: false,
      batteryPct: expect.any(Number),
    });
    expect(body.drones.find((d) => d.droneId === STALE)).toMatchObject({ stale: true });
  });

  it('answers 304 to If-None-Match with its ETag while nothing changed, and 200 once something did', async () => {
    const first = await get(FUNCTIONS.opsListDrones, ROUTES.opsDrones);
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[^"]+"$/);
    const again = await get(FUNCTIONS.opsListDrones, ROUTES.opsDrones, { ...admin, 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
    const current = await comp.droneStore().read(FRESH);
    await comp.droneStore().write({ ...current!.state, sequence: 4, batteryPct: 50 }, current!.version);
    const changed = await get(FUNCTIONS.opsListDrones, ROUTES.opsDrones, { ...admin, 'if-none-match': etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
  });
});

describe('GET /api/ops/deliveries', () => {
  it('counts every stage and marks the unfinished delivery that stopped moving as late and stuck', async () => {
    const res = await get(FUNCTIONS.opsListDeliveries, ROUTES.opsDeliveries);
    expect(res.status).toBe(200);
    const body = res.json<{
      counts: Record<string, number>;
      deliveries: { deliveryId: string; stage: string; late: boolean; stuck: boolean }[];
    }>();
    expect(body.counts).toMatchObject({ Delivered: 1, PickedUp: 1, Requested: 0 });
    expect(body.deliveries.find((d) => d.deliveryId === DONE)).toMatchObject({
      stage: 'Delivered',
      late: false,
      stuck: false,
    });
    expect(body.deliveries.find((d) => d.deliveryId === OPEN)).toMatchObject({
      stage: 'PickedUp',
      late: true,
      stuck: true,
    });
  });

  it('filters by stage, keeping the counts of all, and refuses a stage that does not exist with 400', async () => {
    const res = await get(FUNCTIONS.opsListDeliveries, `${ROUTES.opsDeliveries}?status=Delivered`);
    const body = res.json<{ counts: Record<string, number>; deliveries: { deliveryId: string }[] }>();
    expect(body.deliveries.map((d) => d.deliveryId)).toEqual([DONE]);
    expect(body.counts.PickedUp).toBe(1);
    const bad = await get(FUNCTIONS.opsListDeliveries, `${ROUTES.opsDeliveries}?status=Lost`);
    expect(bad.status).toBe(400);
    expect(bad.json()).toMatchObject({ errors: [{ path: '/status' }] });
  });
});

describe('dead letters', () => {
  const seq = 900_000 + (process.pid % 1000) * 10;
  const letter = (n: number, rawBody: string): DeadLetter => ({
    source: 'telemetry',
    reason: 'SchemaViolation',
    errors: [{ path: '/batteryPct', message: 'must be ≤ 100' }],
    rawBody,
    rawBodyEncoding: 'utf8',
    origin: {
      eventHubName: 'telemetry',
      consumerGroup: 'ingestion',
      partitionId: '3',
      sequenceNumber: seq + n,
      offset: String(seq + n),
      enqueuedTimeUtc: '2001-02-03T04:05:06.000Z',
    },
    deadLetteredAt: new Date().toISOString(),
  });
  const good = letter(1, JSON.stringify(telemetry({ droneId: `dl-${suffix}`, sequence: 1 })));
  const bad = letter(2, JSON.stringify({ ...telemetry({ droneId: `dl-${suffix}` }), batteryPct: 150 }));
  const replay = (id: string) =>
    callHttp(FUNCTIONS.opsReplayDeadLetter, {
      method: 'POST',
      path: ROUTES.opsReplayDeadLetter,
      headers: admin,
      body: JSON.stringify({ id }),
    });

  beforeAll(async () => {
    const sink = new BlobDeadLetterSink(comp.deadLetterContainer());
    await sink.put(good);
    await sink.put(bad);
  });

  it('are listed with reason, field errors, Event Hubs metadata and the raw body', async () => {
    const res = await get(FUNCTIONS.opsListDeadLetters, `${ROUTES.opsDeadLetters}?source=telemetry`);
    expect(res.status).toBe(200);
    const listed = res
      .json<{ deadLetters: { id: string }[] }>()
      .deadLetters.find((d) => d.id === deadLetterBlobName(good));
    expect(listed).toMatchObject({
      source: 'telemetry',
      reason: 'SchemaViolation',
      errors: good.errors,
      origin: { partitionId: '3', sequenceNumber: seq + 1, enqueuedTimeUtc: '2001-02-03T04:05:06.000Z' },
      body: good.rawBody,
      bodyEncoding: 'utf8',
    });
    expect(listed).not.toHaveProperty('replayedAt');
  });

  it('replay publishes the body to its source hub once, keyed by drone; asked again it names the first replay', async () => {
    const id = deadLetterBlobName(good);
    const first = await replay(id);
    expect(first.status).toBe(200);
    expect(first.json()).toMatchObject({ id, outcome: 'replayed', hub: 'telemetry' });
    const mine = () =>
      recorder.sent.filter((s) => s.events.some((e) => (e.body as { droneId?: string }).droneId === `dl-${suffix}`));
    expect(mine()).toEqual([
      { hub: 'telemetry', events: [{ body: JSON.parse(good.rawBody), partitionKey: `dl-${suffix}` }] },
    ]);
    const second = await replay(id);
    expect(second.json()).toMatchObject({ outcome: 'alreadyReplayed', at: first.json<{ at: string }>().at });
    expect(mine()).toHaveLength(1);
    const listed = (await get(FUNCTIONS.opsListDeadLetters, ROUTES.opsDeadLetters)).json<{
      deadLetters: { id: string; replayedAt?: string }[];
    }>();
    expect(listed.deadLetters.find((d) => d.id === id)?.replayedAt).toBe(first.json<{ at: string }>().at);
  });

  it("refuses to replay a body today's schema still rejects (409), an unknown id (404) and a body without an id (400)", async () => {
    const still = await replay(deadLetterBlobName(bad));
    expect(still.status).toBe(409);
    expect(still.json<{ detail: string }>().detail).toMatch(/batteryPct/);
    expect((await replay(`telemetry/telemetry/2001-02-03/nothing-${suffix}.json`)).status).toBe(404);
    const noId = await callHttp(FUNCTIONS.opsReplayDeadLetter, {
      method: 'POST',
      path: ROUTES.opsReplayDeadLetter,
      headers: admin,
      body: '{}',
    });
    expect(noId.status).toBe(400);
  });
});

describe('GET /api/ops/hub-lag', () => {
  it('says why the numbers are unavailable when the local runtime that holds them does not answer', async () => {
    // useEmulators points LocalEventHubsEndpoint at a port nothing listens on.
    const res = await get(FUNCTIONS.opsHubLag, ROUTES.opsHubLag);
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ available: false, reason: expect.stringMatching(/did not answer/) });
  });
});

describe('supervisor findings', () => {
  /** The saga port over a fixed set of instances: the supervisor's inputs, without a durable engine. */
  class FixedSagas implements Sagas {
    constructor(private readonly all: SagaStatus[]) {}
    async status(id: string) {
      return this.all.find((s) => s.instanceId === id);
    }
    async start(): Promise<'started' | 'exists'> {
      throw new Error('findings must not start anything');
    }
    async signal(): Promise<'delivered' | 'gone'> {
      throw new Error('findings must not signal anything');
    }
    async list(query: { runtimeStatus: SagaStatus['runtimeStatus'][] }) {
      return this.all.filter((s) => query.runtimeStatus.includes(s.runtimeStatus));
    }
    async resume(): Promise<void> {
      throw new Error('findings must not resume anything');
    }
  }

  it("are the supervisor's verdicts on unfinished sagas, computed and not acted on, beside the compensations it gave up on", async () => {
    const now = Date.now();
    const sagas = new FixedSagas([
      {
        instanceId: `suspended-${suffix}`,
        name: 'deliverySaga',
        runtimeStatus: 'Suspended',
        createdAt: new Date(now - 60_000),
        lastUpdatedAt: new Date(now - 60_000),
      },
      {
        instanceId: `pending-${suffix}`,
        name: 'deliverySaga',
        runtimeStatus: 'Pending',
        createdAt: new Date(now - 3_600_000),
        lastUpdatedAt: new Date(now - 3_600_000),
      },
      {
        instanceId: `fine-${suffix}`,
        name: 'deliverySaga',
        runtimeStatus: 'Pending',
        createdAt: new Date(now - 1000),
        lastUpdatedAt: new Date(now - 1000),
      },
      {
        instanceId: `job-${suffix}`,
        name: 'rebuildViewsJob',
        runtimeStatus: 'Suspended',
        createdAt: new Date(now - 60_000),
        lastUpdatedAt: new Date(now - 60_000),
      },
    ]);
    const supervisor = supervisorDeps(
      comp,
      sagas,
      () => new Date(),
      () => undefined,
    );
    const { findings, stuckCompensations } = await supervisorFindings(supervisor, comp.opsDeps());
    expect(new Map(findings.map((f) => [f.deliveryId, f.action]))).toEqual(
      new Map([
        [`suspended-${suffix}`, 'resume'],
        [`pending-${suffix}`, 'alert'],
      ]),
    );
    expect(findings.find((f) => f.action === 'alert')?.reason).toMatch(/pending since/);
    expect(stuckCompensations).toEqual([]);
  });
});
