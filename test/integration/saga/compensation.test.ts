/**
 * Compensating transactions: a permanent failure at each forward step undoes exactly the steps
 * before it, in reverse; compensations that fail transiently are retried to success; a cancel
 * at every stage compensates; the SLAs fail deliveries that stall.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIVITIES } from '../../../functions/names';
import { alice, bob, heldResources, request, EVENT_DELIVERY_MODES, useSagaWorld } from '../../support/saga-world';
import type { SagaWorld } from '../../support/saga-world';

let w: SagaWorld;
let n = 0;

/** A fresh delivery id and a drone right at its pickup, so it is the one chosen. */
async function setUp(): Promise<{ id: string; drone: string }> {
  n++;
  const id = `comp-${n}`;
  const drone = `comp-drone-${n}`;
  await w.registerDrone(drone, { lat: 47.61, lon: -122.33 });
  return { id, drone };
}

/** Runs retry timers (never as far as the SLA timers) until the saga settles. */
async function runRetries(): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await w.settle();
    await w.engine.advance(61_000);
  }
  await w.settle();
}

const types = (id: string): string[] => w.events(id).map((e) => e.type);

describe.each(EVENT_DELIVERY_MODES)('with events delivered %s', (eventDelivery) => {
  beforeAll(async () => {
    w = await useSagaWorld(`comp-${eventDelivery}`, {}, { eventDelivery });
  });
  afterAll(async () => w.close());

  describe('a permanent failure of a forward step', () => {
    it.each([
      ['CreatePackage', ACTIVITIES.createPackage, [], []],
      ['AssignDrone', ACTIVITIES.assignDrone, ['PackageCreated'], ['PackageCancelled']],
      [
        'ScheduleDelivery',
        ACTIVITIES.scheduleDelivery,
        ['PackageCreated', 'DroneAssigned'],
        ['DroneReleased', 'PackageCancelled'],
      ],
    ] as const)(
      'at %s compensates exactly the steps before it, in reverse',
      async (step, activity, before, compensations) => {
        const { id } = await setUp();
        w.faults.set(activity, Number.POSITIVE_INFINITY);
        expect((await w.post(request({ deliveryId: id }), alice)).status).toBe(202);
        await runRetries();
        w.faults.delete(activity);

        expect(types(id)).toEqual(['DeliveryRequested', ...before, ...compensations, 'DeliveryFailed']);
        const failed = w.events(id).at(-1);
        expect(failed?.data).toMatchObject({ code: 'StepFailed' });
        expect(String((failed?.data as { reason: string }).reason)).toContain(step);
        expect(w.events(id).map((e) => e.sequence)).toEqual(w.events(id).map((_, i) => i + 1));
        expect((await w.status(id))?.runtimeStatus).toBe('Completed');
        expect((await w.progress(id))?.stage).toBe('Failed');
        const held = await heldResources(w);
        expect(held.reservations).not.toContain(id);
        expect(held.activePackages).not.toContain(id);
      },
    );

    it('retries a compensation that fails transiently until it succeeds', async () => {
      const { id } = await setUp();
      w.faults.set(ACTIVITIES.scheduleDelivery, Number.POSITIVE_INFINITY);
      w.faults.set(ACTIVITIES.releaseDrone, 4);
      w.faults.set(ACTIVITIES.cancelPackage, 2);
      await w.post(request({ deliveryId: id }), alice);
      await runRetries();
      w.faults.clear();
      expect(types(id)).toEqual([
        'DeliveryRequested',
        'PackageCreated',
        'DroneAssigned',
        'DroneReleased',
        'PackageCancelled',
        'DeliveryFailed',
      ]);
      const releases = w.activityCalls.filter((a) => a === ACTIVITIES.releaseDrone).length;
      expect(releases).toBeGreaterThanOrEqual(5);
      const held = await heldResources(w);
      expect(held.reservations).not.toContain(id);
      expect(held.activePackages).not.toContain(id);
    });

    it('fails with DeadlineUnreachable when the deadline cannot be met, and compensates', async () => {
      const { id } = await setUp();
      const deadline = new Date(w.clock.now() + 60_000).toISOString();
      await w.post(
        request({
          deliveryId: id,
          deadline,
          pickup: { lat: 47.61, lon: -122.33 },
          dropoff: { lat: 45.5, lon: -122.6 },
        }),
        alice,
      );
      await w.settle();
      expect(types(id)).toEqual([
        'DeliveryRequested',
        'PackageCreated',
        'DroneAssigned',
        'DroneReleased',
        'PackageCancelled',
        'DeliveryFailed',
      ]);
      expect(w.events(id).at(-1)?.data).toMatchObject({ code: 'DeadlineUnreachable' });
    });
  });

  describe('cancelling', () => {
    it('before any step ran: nothing to undo, ends Cancelled', async () => {
      const { id } = await setUp();
      w.faults.set(ACTIVITIES.createPackage, 1);
      await w.post(request({ deliveryId: id }), alice);
      await w.settle();
      expect((await w.cancel(id, alice)).status).toBe(202);
      await runRetries();
      expect(types(id)[0]).toBe('DeliveryRequested');
      expect(types(id).at(-1)).toBe('DeliveryCancelled');
    });

    it('once scheduled: releases the drone and cancels the package, ends Cancelled', async () => {
      const { id } = await setUp();
      await w.post(request({ deliveryId: id }), alice);
      await w.settle();
      expect((await w.progress(id))?.stage).toBe('Scheduled');
      expect((await w.cancel(id, alice)).status).toBe(202);
      await w.settle();
      expect(types(id)).toEqual([
        'DeliveryRequested',
        'PackageCreated',
        'DroneAssigned',
        'DeliveryScheduled',
        'DroneReleased',
        'PackageCancelled',
        'DeliveryCancelled',
      ]);
      expect((await w.progress(id))?.stage).toBe('Cancelled');
      const held = await heldResources(w);
      expect(held.reservations).not.toContain(id);
      expect(held.activePackages).not.toContain(id);
    });

    it('mid-flight (picked up, in transit): compensates and ends Cancelled', async () => {
      const { id } = await setUp();
      await w.post(request({ deliveryId: id }), alice);
      await w.settle();
      await w.flyAssigned(id, { status: 'PickedUp' });
      await w.flyAssigned(id, { status: 'EnRouteToDropoff' });
      expect((await w.cancel(id, alice)).status).toBe(202);
      await w.settle();
      expect(types(id)).toEqual([
        'DeliveryRequested',
        'PackageCreated',
        'DroneAssigned',
        'DeliveryScheduled',
        'PackagePickedUp',
        'DeliveryInTransit',
        'DroneReleased',
        'PackageCancelled',
        'DeliveryCancelled',
      ]);
    });

    it('is refused once delivered or cancelled (409 naming the stage), and is 404 for someone else', async () => {
      const { id } = await setUp();
      await w.post(request({ deliveryId: id }), alice);
      await w.settle();
      expect((await w.cancel(id, bob)).status).toBe(404);
      await w.flyAssigned(id, { status: 'Delivered' });
      expect((await w.progress(id))?.stage).toBe('Delivered');
      const refused = await w.cancel(id, alice);
      expect(refused.status).toBe(409);
      expect(refused.headers['content-type']).toBe('application/problem+json');

      const other = await setUp();
      await w.post(request({ deliveryId: other.id }), alice);
      await w.settle();
      expect((await w.cancel(other.id, alice)).status).toBe(202);
      await w.settle();
      const again = await w.cancel(other.id, alice);
      expect(again.status).toBe(409);
      expect(again.json()).toMatchObject({ status: 409, detail: expect.stringContaining('Cancelled') });
      expect(types(other.id).filter((t) => t === 'DeliveryCancelled')).toHaveLength(1);
      expect((await w.cancel('no-such-delivery', alice)).status).toBe(404);
    });
  });

  describe('SLAs', () => {
    it('fails a delivery whose package is not picked up in time, and compensates', async () => {
      const { id } = await setUp();
      await w.post(request({ deliveryId: id }), alice);
      await w.settle();
      await w.engine.advance(31 * 60_000);
      await w.settle();
      expect(types(id).slice(-3)).toEqual(['DroneReleased', 'PackageCancelled', 'DeliveryFailed']);
      expect(w.events(id).at(-1)?.data).toMatchObject({ code: 'PickupSlaExceeded' });
    });

    it('fails a delivery picked up but not completed within the delivery SLA', async () => {
      const { id } = await setUp();
      await w.post(request({ deliveryId: id }), alice);
      await w.settle();
      await w.flyAssigned(id, { status: 'PickedUp' });
      await w.engine.advance(121 * 60_000);
      await w.settle();
      expect(w.events(id).at(-1)?.data).toMatchObject({ code: 'DeliverySlaExceeded' });
    });

    it('fails with NoDroneAvailable when no drone frees up within the assignment SLA', async () => {
      n++;
      const id = `comp-nodrone-${n}`;
      // Every drone of this world is in Seattle: none is within reach of a pickup in Cape Town.
      await w.post(
        request({ deliveryId: id, pickup: { lat: -33.9, lon: 18.4 }, dropoff: { lat: -33.91, lon: 18.41 } }),
        alice,
      );
      await w.settle();
      expect(types(id)).toEqual(['DeliveryRequested', 'PackageCreated']);
      expect((await w.progress(id))?.stage).toBe('Scheduling');
      await runRetries();
      expect(types(id)).toEqual(['DeliveryRequested', 'PackageCreated', 'PackageCancelled', 'DeliveryFailed']);
      expect(w.events(id).at(-1)?.data).toMatchObject({ code: 'NoDroneAvailable' });
    });
  });
});
