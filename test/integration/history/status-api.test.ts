/**
 * Status inquiry over HTTP (docs/contract.md §1) through the registered handlers: the delivery status
 * view with ETag/304, the history, and the drone state, with every visibility rule. Data is
 * put in place by the real projector and the real drone store.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { callHttp, invocationContext, loadFunctionApp } from '../../support/app';
import { deliveryStream } from '../../support/delivery';
import { useEmulators } from '../../support/emulators';
import { hostBatch } from '../../support/eventhub';
import { telemetry } from '../../support/telemetry';
import { principalHeaders } from '../../../functions/http/identity';
import { FUNCTIONS } from '../../../functions/names';
import { ROLE_ADMIN, ROLE_READER } from '../../../domain/shared/caller';
import { foldStatus } from '../../../domain/delivery/status';
import { stateFromTelemetry } from '../../../domain/telemetry/drone-state';
import type { Composition } from '../../../functions/composition';

const suffix = `${process.pid}`;
const D = `mine-${suffix}`;
const OTHER = `theirs-${suffix}`;
const HALF = `half-${suffix}`;
const DRONE = `drone-${suffix}`;
const owner = principalHeaders({ id: 'owner-1', roles: [] });
const stranger = principalHeaders({ id: 'someone-else', roles: [] });
const admin = principalHeaders({ id: 'ops-admin', roles: [ROLE_ADMIN] });
const reader = principalHeaders({ id: 'ops-reader', roles: [ROLE_READER] });
const ownerWithOtherRole = principalHeaders({ id: 'owner-1', roles: ['Deliveries.Requester'] });

let comp: Composition;

beforeAll(async () => {
  comp = (await useEmulators('status-api')).composition;
  const projector = (await loadFunctionApp()).get(FUNCTIONS.projectDeliveryEvents);
  const half = deliveryStream(HALF, 'delivered');
  const { messages, triggerMetadata } = hostBatch(
    [
      ...deliveryStream(D, 'inFlight'),
      ...deliveryStream(OTHER, 'delivered', { ownerId: 'owner-2' }),
      half[0]!,
      half[1]!,
      half[4]!,
    ],
    { eventHubName: 'delivery-events', consumerGroup: 'projector' },
  );
  await projector.handler(messages, invocationContext(FUNCTIONS.projectDeliveryEvents, triggerMetadata));
  await comp
    .droneStore()
    .write(
      stateFromTelemetry(telemetry({ droneId: DRONE, sequence: 9, status: 'EnRouteToPickup', deliveryId: D })),
      undefined,
    );
});

const status = (id: string, headers: Record<string, string> = {}) =>
  callHttp(FUNCTIONS.getDeliveryStatus, { path: `deliveries/${id}`, params: { deliveryId: id }, headers });
const history = (id: string, headers: Record<string, string> = {}) =>
  callHttp(FUNCTIONS.getDeliveryHistory, { path: `deliveries/${id}/history`, params: { deliveryId: id }, headers });
const drone = (id: string, headers: Record<string, string> = {}) =>
  callHttp(FUNCTIONS.getDrone, { path: `drones/${id}`, params: { droneId: id }, headers });

describe('GET /api/deliveries/{deliveryId}', () => {
  it("is registered as an anonymous GET on the contract route (identity is App Service's job)", async () => {
    const fn = (await loadFunctionApp()).get(FUNCTIONS.getDeliveryStatus);
    expect(fn.trigger).toMatchObject({
      type: 'httpTrigger',
      route: 'deliveries/{deliveryId}',
      methods: ['GET'],
      authLevel: 'anonymous',
    });
  });

  it('answers 401 problem+json without an identity, before reading anything', async () => {
    const res = await status(D);
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.json()).toMatchObject({
      status: 401,
      title: expect.any(String),
      type: expect.any(String),
      detail: expect.any(String),
    });
    expect((await status('../x')).status).toBe(401);
  });

  it('shows the owner their delivery: the view of the in-order fold, with an ETag', async () => {
    const res = await status(D, owner);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('application/json');
    expect(res.json()).toEqual(foldStatus(deliveryStream(D, 'inFlight')));
    expect(res.headers.etag).toMatch(/^"[^"]+"$/);
  });

  it('shows every delivery to Deliveries.Admin and Deliveries.Reader', async () => {
    for (const who of [admin, reader]) {
      const res = await status(OTHER, who);
      expect(res.status).toBe(200);
      expect(res.json()).toMatchObject({ deliveryId: OTHER, ownerId: 'owner-2', stage: 'Delivered', version: 7 });
    }
  });

  it("answers 404 for someone else's delivery, the same as for one that does not exist", async () => {
    const unknownId = `nope-${suffix}`;
    const notMine = await status(OTHER, stranger);
    const unknown = await status(unknownId, stranger);
    expect(notMine.status).toBe(404);
    expect(unknown.status).toBe(404);
    const unknownBody = unknown.json<{ detail: string }>();
    expect(notMine.json()).toEqual({ ...unknownBody, detail: unknownBody.detail.replace(unknownId, OTHER) });
    expect(notMine.headers).not.toHaveProperty('etag');
    expect((await status(OTHER, owner)).status).toBe(404);
    expect((await status(D, ownerWithOtherRole)).status).toBe(200);
  });

  it('answers 304 to If-None-Match with the current ETag, and 200 to a stale one', async () => {
    const first = await status(D, owner);
    const etag = first.headers.etag ?? '';
    const again = await status(D, { ...owner, 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers.etag).toBe(etag);
    expect((await status(D, { ...owner, 'if-none-match': `W/${etag}` })).status).toBe(304);
    expect((await status(D, { ...owner, 'if-none-match': `"stale", ${etag}` })).status).toBe(304);
    expect((await status(D, { ...owner, 'if-none-match': '"stale"' })).status).toBe(200);
    // A stranger learns nothing from an ETag either.
    expect((await status(D, { ...stranger, 'if-none-match': etag })).status).toBe(404);
  });

  it('answers 400 problem+json with errors for bad ids, never a 5xx', async () => {
    for (const bad of ['../x', 'a'.repeat(200), 'has space', 'semi;colon', '', 'ü']) {
      const res = await status(bad, owner);
      expect(res.status, bad).toBe(400);
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(res.json()).toMatchObject({ status: 400, errors: [{ path: '/deliveryId', message: expect.any(String) }] });
    }
  });

  it('shows a delivery only as far as its gapless prefix', async () => {
    expect((await status(HALF, admin)).json()).toMatchObject({ stage: 'Requested', version: 2 });
  });
});

describe('GET /api/deliveries/{deliveryId}/history', () => {
  it("lists the owner's events 1, 2, 3, … with eventId, type, sequence, occurredAt and data only", async () => {
    const res = await history(D, owner);
    expect(res.status).toBe(200);
    const events = deliveryStream(D, 'inFlight');
    expect(res.json()).toEqual({
      deliveryId: D,
      events: events.map((e) => ({
        eventId: e.eventId,
        type: e.type,
        sequence: e.sequence,
        occurredAt: e.occurredAt,
        data: e.data,
      })),
    });
  });

  it('stops at the first gap: no gaps and no duplicates are ever shown', async () => {
    const res = await history(HALF, reader);
    expect((res.json() as { events: { sequence: number }[] }).events.map((e) => e.sequence)).toEqual([1, 2]);
  });

  it('applies the same rules: 401, 404 for others and unknown, admin and reader see all, 400 for bad ids', async () => {
    expect((await history(D)).status).toBe(401);
    expect((await history(OTHER, stranger)).status).toBe(404);
    expect((await history(`nope-${suffix}`, admin)).status).toBe(404);
    expect((await history(OTHER, admin)).status).toBe(200);
    expect((await history(OTHER, reader)).status).toBe(200);
    const bad = await history('a'.repeat(65), owner);
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toBe('application/problem+json');
  });
});

describe('GET /api/drones/{droneId}', () => {
  it('shows Deliveries.Admin and Deliveries.Reader the latest drone state in the contract shape', async () => {
    for (const who of [admin, reader]) {
      const res = await drone(DRONE, who);
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({
        droneId: DRONE,
        status: 'EnRouteToPickup',
        position: { lat: 47.64, lon: -122.13, altitudeM: 120 },
        batteryPct: 87.5,
        sequence: 9,
        reportedAt: '2026-11-22T10:00:05Z',
        deliveryId: D,
        // Its last report is weeks old: past DroneFreshnessMinutes (10).
        stale: true,
      });
    }
  });

  it('shows stale: false while the last report is at most DroneFreshnessMinutes old, stale: true past it, and the delivery holding its reservation', async () => {
    const minutesAgo = (m: number): string => new Date(Date.now() - m * 60_000).toISOString();
    const fresh = `fresh-${suffix}`;
    const silent = `silent-${suffix}`;
    await comp
      .droneStore()
      .write(stateFromTelemetry(telemetry({ droneId: fresh, sequence: 1, timestamp: minutesAgo(9) })), undefined);
    await comp
      .droneStore()
      .write(stateFromTelemetry(telemetry({ droneId: silent, sequence: 1, timestamp: minutesAgo(11) })), undefined);
    expect(await comp.agents().reservations.reserveFor(D, minutesAgo(1), () => Promise.resolve([fresh]))).toMatchObject(
      { outcome: 'reserved', reservation: { droneId: fresh, deliveryId: D } },
    );

    const freshView = (await drone(fresh, reader)).json<Record<string, unknown>>();
    expect(freshView).toMatchObject({ droneId: fresh, status: 'Idle', stale: false, reservedFor: D });
    const silentView = (await drone(silent, reader)).json<Record<string, unknown>>();
    expect(silentView).toMatchObject({ droneId: silent, status: 'Idle', stale: true });
    expect(silentView).not.toHaveProperty('reservedFor');

    await comp.agents().reservations.release(D);
    expect((await drone(fresh, admin)).json()).not.toHaveProperty('reservedFor');
  });

  it('answers 401 without identity, 403 without an operations role (before any read), 404 for an unknown drone, 400 for a bad id', async () => {
    expect((await drone(DRONE)).status).toBe(401);
    const owners = await drone(DRONE, owner);
    expect(owners.status).toBe(403);
    expect(owners.headers['content-type']).toBe('application/problem+json');
    expect((await drone(`unknown-${suffix}`, owner)).status).toBe(403);
    expect((await drone(`unknown-${suffix}`, reader)).status).toBe(404);
    expect((await drone('../x', admin)).status).toBe(400);
  });
});
