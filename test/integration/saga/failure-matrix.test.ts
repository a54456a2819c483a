/**
 * An exhaustive matrix over failure points: which forward step fails permanently (or none),
 * whether compensations fail transiently first, and where a cancel arrives. Every run must end
 * Delivered, Failed or Cancelled, with a gapless stream, no drone left reserved and no package
 * left active.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIVITIES } from '../../../functions/names';
import { alice, heldResources, request, EVENT_DELIVERY_MODES, useSagaWorld } from '../../support/saga-world';
import type { SagaWorld } from '../../support/saga-world';

let w: SagaWorld;

const FAILING_STEP = ['none', ACTIVITIES.createPackage, ACTIVITIES.assignDrone, ACTIVITIES.scheduleDelivery] as const;
const CANCEL_AT = ['never', 'scheduled', 'pickedUp', 'inTransit'] as const;
const FLAKY_COMPENSATIONS = [false, true] as const;

const cases = FAILING_STEP.flatMap((failing) =>
  CANCEL_AT.flatMap((cancelAt) => FLAKY_COMPENSATIONS.map((flaky) => ({ failing, cancelAt, flaky }))),
);

let n = 0;
async function drive(): Promise<void> {
  for (let i = 0; i < 12; i++) {
    await w.settle();
    await w.engine.advance(61_000);
  }
  await w.settle();
}

describe.each(EVENT_DELIVERY_MODES)('with events delivered %s', (eventDelivery) => {
  beforeAll(async () => {
    w = await useSagaWorld(`matrix-${eventDelivery}`, {}, { eventDelivery });
  });
  afterAll(async () => w.close());

  describe('the failure matrix', () => {
    it.each(cases)(
      'failing=$failing cancelAt=$cancelAt flakyCompensations=$flaky ends cleanly',
      async ({ failing, cancelAt, flaky }) => {
        n++;
        const id = `mx-${n}`;
        const drone = `mx-drone-${n}`;
        await w.registerDrone(drone, { lat: 47.61, lon: -122.33 });
        w.faults.clear();
        if (failing !== 'none') w.faults.set(failing, Number.POSITIVE_INFINITY);
        if (flaky) {
          w.faults.set(ACTIVITIES.cancelPackage, 2);
          w.faults.set(ACTIVITIES.releaseDrone, 2);
          w.faults.set(ACTIVITIES.cancelDeliverySchedule, 2);
        }
        await w.post(request({ deliveryId: id }), alice);
        await w.settle();
        const scheduled = (await w.progress(id))?.stage === 'Scheduled';
        if (scheduled && cancelAt === 'scheduled') await w.cancel(id, alice);
        if (scheduled && cancelAt !== 'scheduled') {
          await w.flyAssigned(id, { status: 'PickedUp' });
          if (cancelAt === 'pickedUp') await w.cancel(id, alice);
          await w.flyAssigned(id, { status: 'EnRouteToDropoff' });
          if (cancelAt === 'inTransit') await w.cancel(id, alice);
          if (cancelAt === 'never') await w.flyAssigned(id, { status: 'Delivered' });
        }
        await drive();
        w.faults.clear();

        const status = await w.status(id);
        expect(status?.runtimeStatus).toBe('Completed');
        const stage = (await w.progress(id))?.stage;
        expect(['Delivered', 'Failed', 'Cancelled']).toContain(stage);
        if (failing !== 'none') expect(stage).toBe('Failed');
        else if (cancelAt === 'never') expect(stage).toBe('Delivered');
        else expect(stage).toBe('Cancelled');

        const events = w.events(id);
        expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
        expect(
          events.filter((e) => ['DeliveryCompleted', 'DeliveryCancelled', 'DeliveryFailed'].includes(e.type)),
        ).toHaveLength(1);
        const held = await heldResources(w);
        expect(held.reservations).not.toContain(id);
        expect(held.activePackages).not.toContain(id);
        // Replaying the finished history gives the same decisions.
        expect((await w.engine.verifyDeterminism(id)).deterministic).toBe(true);
      },
    );
  });
});
