/**
 * One delivery is one trace (issue #14): the real app in the local runtime, in process, from
 * `POST /api/deliveries` (with the caller's W3C `traceparent`) through the saga's activities and
 * the delivery events on the hub to the projector's writes, read back through
 * `GET /api/ops/deliveries/{id}/trace`. And batch triggers open one span per batch, linked to
 * the events' contexts, not one per event.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../support/install-core';
import '../../../functions/index';
import { composition, resetComposition } from '../../../functions/composition';
import { principalHeaders } from '../../../functions/http/identity';
import type { SpanRecord } from '../../../functions/tracing/span-store';
import { startLocalRuntime } from '../../../tools/local/fabrikam';
import type { LocalRuntime } from '../../../tools/local/fabrikam';

const ADMIN = principalHeaders({ id: 'ops-admin', roles: ['Deliveries.Admin'] });
const ALICE = principalHeaders({ id: 'alice', roles: [] });

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

let rt: LocalRuntime;
let dir: string;
let seq = 1;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trace-'));
  // The app's composition is built from the settings the runtime puts into process.env.
  resetComposition();
  rt = await startLocalRuntime({
    dataDir: path.join(dir, 'data'),
    port: 0,
    app: () => undefined,
    localSettings: false,
    captureWindowMs: 60_000,
    quiet: true,
  });
}, 90_000);

afterAll(async () => {
  await rt?.stop();
  resetComposition();
  fs.rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function call(
  method: string,
  route: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<{ status: number; text: string; json: <T>() => T }> {
  const res = await fetch(`${rt.baseUrl}${route}`, {
    method,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, text, json: <T>() => JSON.parse(text) as T };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const PICKUP = { lat: 47.61, lon: -122.33 };
const DROPOFF = { lat: 47.62, lon: -122.35 };

function report(
  droneId: string,
  status: string,
  at: { lat: number; lon: number },
  deliveryId?: string,
): Record<string, unknown> {
  return {
    schemaVersion: 1,
    droneId,
    sequence: seq++,
    timestamp: new Date().toISOString(),
    position: { ...at, altitudeM: 100 },
    batteryPct: 90,
    speedMps: 12,
    status,
    ...(deliveryId ? { deliveryId } : {}),
  };
}

async function publish(hub: string, events: unknown[]): Promise<void> {
  const r = await call('POST', `/local/eventhubs/${hub}`, {}, events);
  expect(r.status, r.text).toBe(202);
}

async function stageOf(deliveryId: string, stage: string): Promise<void> {
  await until(`${deliveryId} at ${stage}`, async () => {
    const r = await call('GET', `/api/deliveries/${deliveryId}`, ALICE);
    return r.status === 200 && r.json<{ stage: string }>().stage === stage ? true : undefined;
  });
}

async function traceOf(deliveryId: string): Promise<{ traceIds: string[]; spans: SpanRecord[] }> {
  const r = await call('GET', `/api/ops/deliveries/${deliveryId}/trace`, ADMIN);
  expect(r.status, r.text).toBe(200);
  return r.json();
}

describe('one delivery, one trace', () => {
  const deliveryId = 'trace-d1';
  const droneId = 'trace-drone-1';
  let spans: SpanRecord[] = [];

  beforeAll(async () => {
    await publish('telemetry', [{ body: report(droneId, 'Idle', PICKUP), partitionKey: droneId }]);
    await until('the drone to be known', async () =>
      (await call('GET', `/api/drones/${droneId}`, ADMIN)).status === 200 ? true : undefined,
    );
    const r = await call(
      'POST',
      '/api/deliveries',
      { ...ALICE, traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` },
      { deliveryId, pickup: PICKUP, dropoff: DROPOFF, package: { size: 'small', weightKg: 1 } },
    );
    expect(r.status, r.text).toBe(202);
    await stageOf(deliveryId, 'Scheduled');
    for (const [status, at] of [
      ['EnRouteToPickup', PICKUP],
      ['PickedUp', PICKUP],
      ['EnRouteToDropoff', DROPOFF],
      ['Delivered', DROPOFF],
    ] as const) {
      await publish('telemetry', [{ body: report(droneId, status, at, deliveryId), partitionKey: droneId }]);
    }
    await stageOf(deliveryId, 'Delivered');
    // The last events' projector writes end after the view is readable: wait for their spans.
    spans = await until('the projector span of the last event', async () => {
      const t = await traceOf(deliveryId);
      const writes = t.spans.filter((s) => s.name === 'history.write' && s.traceId === TRACE_ID);
      const complete = t.spans.some((s) => s.name === 'activity CloseIntake');
      return complete &&
        writes.length > 0 &&
        t.spans.filter((s) => s.name === 'activity EmitDeliveryEvent').length <= writes.length
        ? t.spans
        : undefined;
    });
  }, 60_000);

  it('starts under the caller’s traceparent at the intake request', () => {
    const intake = spans.find((s) => s.name === 'delivery.intake');
    expect(intake).toMatchObject({
      traceId: TRACE_ID,
      parentSpanId: CALLER_SPAN,
      attributes: expect.objectContaining({ 'delivery.id': deliveryId, 'http.response.status_code': 202 }),
    });
  });

  it('puts every activity of the saga, each event send and each projector write in that trace', () => {
    const own = spans.filter((s) => s.attributes['delivery.id'] === deliveryId);
    const names = new Set(own.map((s) => s.name));
    for (const name of [
      'delivery.intake',
      'activity CreatePackage',
      'activity AssignDrone',
      'activity ScheduleDelivery',
      'activity EmitDeliveryEvent',
      'activity CompleteDelivery',
      'activity CloseIntake',
      'history.write',
    ]) {
      expect(names, name).toContain(name);
    }
    expect(own.filter((s) => s.traceId !== TRACE_ID)).toEqual([]);
  });

  it('hangs every activity under the intake span (the orchestrator itself opens none)', () => {
    const intake = spans.find((s) => s.name === 'delivery.intake');
    const activities = spans.filter((s) => s.name.startsWith('activity '));
    expect(activities.length).toBeGreaterThanOrEqual(7);
    expect(activities.filter((s) => s.parentSpanId !== intake?.spanId)).toEqual([]);
  });

  it('sends no activity twice for completed work (replays emit no spans)', () => {
    const forward = spans.filter((s) =>
      [
        'activity CreatePackage',
        'activity AssignDrone',
        'activity ScheduleDelivery',
        'activity CompleteDelivery',
        'activity CloseIntake',
      ].includes(s.name),
    );
    expect(forward.map((s) => s.name).sort()).toEqual([
      'activity AssignDrone',
      'activity CloseIntake',
      'activity CompleteDelivery',
      'activity CreatePackage',
      'activity ScheduleDelivery',
    ]);
  });

  it('projects each batch in one span linked to its events’ send spans, and writes under it', () => {
    const sends = new Set(spans.filter((s) => s.name === 'activity EmitDeliveryEvent').map((s) => s.spanId));
    const batches = spans.filter((s) => s.name === 'history.project');
    expect(batches.length).toBeGreaterThan(0);
    for (const b of batches) {
      expect(b.links.length).toBeGreaterThan(0);
      expect(b.links.every((l) => l.traceId === TRACE_ID && sends.has(l.spanId))).toBe(true);
      // A batch of this delivery's events alone is a child in its trace, under one of the sends.
      expect(b.traceId).toBe(TRACE_ID);
      expect(sends.has(b.parentSpanId ?? '')).toBe(true);
    }
    const linked = new Set(batches.flatMap((b) => b.links.map((l) => l.spanId)));
    expect([...sends].filter((id) => !linked.has(id))).toEqual([]);
    const batchIds = new Set(batches.map((b) => b.spanId));
    const writes = spans.filter((s) => s.name === 'history.write');
    expect(writes.every((w) => batchIds.has(w.parentSpanId ?? ''))).toBe(true);
  });
});

describe('telemetry ingestion spans', () => {
  it('opens one span per batch, linked to each event’s context, and none per event', async () => {
    const droneId = 'trace-drone-2';
    const contexts = [1, 2, 3].map((i) => ({ traceId: `${'a'.repeat(31)}${i}`, spanId: `${'b'.repeat(15)}${i}` }));
    await publish(
      'telemetry',
      contexts.map((c) => ({
        body: report(droneId, 'Idle', PICKUP),
        partitionKey: droneId,
        properties: { traceparent: `00-${c.traceId}-${c.spanId}-01` },
      })),
    );
    const store = composition().tracing.spans;
    expect(store).toBeDefined();
    const ingest = await until('the ingestion span', async () => {
      const found = store
        ?.all()
        .filter(
          (s) => s.name === 'telemetry.ingest' && s.links.some((l) => contexts.some((c) => c.spanId === l.spanId)),
        );
      const linked = new Set(found?.flatMap((s) => s.links.map((l) => l.spanId)));
      return found && contexts.every((c) => linked.has(c.spanId)) ? found : undefined;
    });
    // Three events, one publish, one partition: one batch, one span, three links.
    expect(ingest).toHaveLength(1);
    expect(ingest[0]?.links.map((l) => l.spanId).sort()).toEqual(contexts.map((c) => c.spanId));
    // Distinct traces: the batch span starts its own rather than joining one of them.
    expect(contexts.map((c) => c.traceId)).not.toContain(ingest[0]?.traceId);
    const perEvent = store?.all().filter((s) => contexts.some((c) => c.spanId === s.parentSpanId)) ?? [];
    expect(perEvent).toEqual([]);
  });
});
