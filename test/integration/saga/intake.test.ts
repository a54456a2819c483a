/** `POST /api/deliveries` per docs/contract.md §1: validation, identity, idempotency, conflicts, throttling. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callHttp } from '../../support/app';
import { admin, alice, bob, request, useSagaWorld } from '../../support/saga-world';
import type { SagaWorld } from '../../support/saga-world';
import { FUNCTIONS } from '../../../functions/names';

let w: SagaWorld;
beforeAll(async () => {
  w = await useSagaWorld('intake');
  await w.registerDrone('intake-drone', { lat: 47.61, lon: -122.33 });
});
afterAll(async () => w.close());

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
}

async function expect400(body: unknown, path: string): Promise<void> {
  const res = await w.post(body, alice);
  expect(res.status, JSON.stringify(body).slice(0, 120)).toBe(400);
  expect(res.headers['content-type']).toBe('application/problem+json');
  const p = res.json<Problem>();
  expect(p).toMatchObject({
    status: 400,
    title: expect.any(String),
    detail: expect.any(String),
    type: expect.any(String),
  });
  expect(p.errors?.map((e) => e.path).join(' ')).toContain(path);
}

describe('POST /api/deliveries — bad input is a 400 problem with field errors, never a 5xx', () => {
  it('rejects a body that is not JSON', () => expect400('{"pickup": ', '/'));
  it('rejects wrong types', async () => {
    await expect400(request({ pickup: { lat: '47', lon: -122 } }), '/pickup/lat');
    await expect400(request({ expedited: 'yes' }), '/expedited');
    await expect400([], '/');
  });
  it('rejects lat outside [-90, 90] and lon outside [-180, 180]', async () => {
    await expect400(request({ pickup: { lat: 90.5, lon: 0 } }), '/pickup/lat');
    await expect400(request({ dropoff: { lat: 0, lon: -180.01 } }), '/dropoff/lon');
  });
  it('rejects weightKg ≤ 0 or > 25 and an unknown size', async () => {
    await expect400(request({ package: { size: 'small', weightKg: 0 } }), '/package/weightKg');
    await expect400(request({ package: { size: 'small', weightKg: 25.01 } }), '/package/weightKg');
    await expect400(request({ package: { size: 'huge', weightKg: 1 } }), '/package/size');
  });
  it('rejects a bad deliveryId, a long tag, a deadline that is not a UTC instant, and unknown fields', async () => {
    await expect400(request({ deliveryId: '../x' }), '/deliveryId');
    await expect400(request({ deliveryId: 'x'.repeat(65) }), '/deliveryId');
    await expect400(request({ package: { size: 'small', weightKg: 1, tag: 't'.repeat(65) } }), '/package/tag');
    await expect400(request({ deadline: 'tomorrow' }), '/deadline');
    await expect400(request({ deadline: '2026-02-30T10:00:00Z' }), '/deadline');
    await expect400(request({ colour: 'red' }), '/colour');
  });
  it('rejects a body over 64 KiB', async () => {
    const res = await w.post(JSON.stringify(request({ pad: 'x'.repeat(70 * 1024) })), alice);
    expect(res.status).toBe(400);
    expect(res.json<Problem>().errors?.[0]?.message).toContain('65536');
  });
  it('rejects an ownerId other than the caller unless the caller is Deliveries.Admin', async () => {
    await expect400(request({ ownerId: 'bob' }), '/ownerId');
    const res = await w.post(request({ deliveryId: 'intake-for-bob', ownerId: 'bob' }), admin);
    expect(res.status).toBe(202);
    expect((await w.env.composition.intakes().get('intake-for-bob'))?.ownerId).toBe('bob');
  });
});

describe('identity', () => {
  it('answers 401 without an identity, before reading the body', async () => {
    const res = await callHttp(FUNCTIONS.requestDelivery, {
      method: 'POST',
      path: 'deliveries',
      body: 'not even json',
    });
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toBe('application/problem+json');
  });
});

describe('idempotency', () => {
  it('generates an id when the body has none', async () => {
    const res = await w.post(request(), alice);
    expect(res.status).toBe(202);
    expect(res.json<{ deliveryId: string }>().deliveryId).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });

  it('answers the same request again with 202 naming the same delivery, and starts no second saga', async () => {
    const first = await w.post(request({ deliveryId: 'intake-same' }), alice);
    await w.settle();
    const again = await w.post(request({ deliveryId: 'intake-same', expedited: false }), alice);
    expect(again.status).toBe(202);
    expect(again.json()).toEqual(first.json());
    await w.settle();
    expect(w.events('intake-same').filter((e) => e.type === 'DeliveryRequested')).toHaveLength(1);
  });

  it('answers 409 for the same id with a different body, or from another caller', async () => {
    await w.post(request({ deliveryId: 'intake-conflict' }), alice);
    const different = await w.post(
      request({ deliveryId: 'intake-conflict', package: { size: 'large', weightKg: 3 } }),
      alice,
    );
    expect(different.status).toBe(409);
    expect(different.headers['content-type']).toBe('application/problem+json');
    expect((await w.post(request({ deliveryId: 'intake-conflict' }), bob)).status).toBe(409);
  });

  it('starts exactly one saga for 20 concurrent duplicate requests', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () => w.post(request({ deliveryId: 'intake-burst' }), alice)),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(202));
    await w.settle();
    expect(w.events('intake-burst').filter((e) => e.type === 'DeliveryRequested')).toHaveLength(1);
    const sagas = (await w.engine.listInstances({ instanceIdPrefix: 'intake-burst' })).filter(
      (s) => s.instanceId === 'intake-burst',
    );
    expect(sagas).toHaveLength(1);
  });

  it('starts the saga on a retry when the first attempt stored the intake but died before starting it', async () => {
    await w.env.composition.intakes().createOrGet({
      deliveryId: 'intake-orphan',
      ownerId: 'alice',
      canonical:
        '{"deliveryId":"intake-orphan","dropoff":{"lat":47.62,"lon":-122.35},"expedited":false,"ownerId":"alice","package":{"size":"small","weightKg":2.5},"pickup":{"lat":47.61,"lon":-122.33}}',
      requestedAt: new Date().toISOString(),
      active: true,
    });
    expect(await w.status('intake-orphan')).toBeUndefined();
    expect((await w.post(request({ deliveryId: 'intake-orphan' }), alice)).status).toBe(202);
    await w.settle();
    expect(await w.status('intake-orphan')).toBeDefined();
  });
});

describe('throttling', () => {
  it('answers 429 with Retry-After when too many sagas are in flight', async () => {
    const t = await useSagaWorld('intake-throttle', { SagaMaxInFlight: '2' });
    try {
      expect((await t.post(request({ deliveryId: 'th-1' }), alice)).status).toBe(202);
      expect((await t.post(request({ deliveryId: 'th-2' }), alice)).status).toBe(202);
      await new Promise((r) => setTimeout(r, 1100));
      const res = await t.post(request({ deliveryId: 'th-3' }), alice);
      expect(res.status).toBe(429);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(res.headers['content-type']).toBe('application/problem+json');
      // A repeat of an accepted request is not throttled: it starts nothing new.
      expect((await t.post(request({ deliveryId: 'th-1' }), alice)).status).toBe(202);
    } finally {
      await t.close();
    }
  });
});
