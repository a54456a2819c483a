/** The delivery saga end to end on the engine: intake → forward steps → milestones from telemetry → Delivered. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alice, heldResources, request, EVENT_DELIVERY_MODES, useSagaWorld } from '../../support/saga-world';
import type { SagaWorld } from '../../support/saga-world';

let w: SagaWorld;

describe.each(EVENT_DELIVERY_MODES)('with events delivered %s', (eventDelivery) => {
  beforeAll(async () => {
    w = await useSagaWorld(`happy-${eventDelivery}`, {}, { eventDelivery });
  });
  afterAll(async () => w.close());

  describe('a delivery that goes well', () => {
    it('goes Requested → Scheduled → PickedUp → InTransit → Delivered, with a gapless stream, and frees its drone', async () => {
      await w.registerDrone('happy-drone-far', { lat: 47.7, lon: -122.5 });
      await w.registerDrone('happy-drone-near', { lat: 47.611, lon: -122.331 });
      const res = await w.post(request({ deliveryId: 'happy-1' }), alice);
      expect(res.status).toBe(202);
      expect(res.headers.location).toBe('/api/deliveries/happy-1');
      expect(res.json()).toEqual({
        deliveryId: 'happy-1',
        stage: 'Requested',
        links: { status: '/api/deliveries/happy-1', history: '/api/deliveries/happy-1/history' },
      });
      await w.settle();

      const p = await w.progress('happy-1');
      expect(p?.stage).toBe('Scheduled');
      expect(p?.droneId).toBe('happy-drone-near');
      expect(p?.completedSteps).toEqual(['CreatePackage', 'AssignDrone', 'ScheduleDelivery']);

      await w.fly('happy-drone-near', { status: 'EnRouteToPickup', deliveryId: 'happy-1' });
      await w.fly('happy-drone-near', { status: 'PickedUp', deliveryId: 'happy-1' });
      expect((await w.progress('happy-1'))?.stage).toBe('PickedUp');
      await w.fly('happy-drone-near', { status: 'EnRouteToDropoff', deliveryId: 'happy-1' });
      await w.fly('happy-drone-near', { status: 'EnRouteToDropoff', deliveryId: 'happy-1' });
      await w.fly('happy-drone-near', {
        status: 'Delivered',
        deliveryId: 'happy-1',
        position: { lat: 47.62, lon: -122.35, altitudeM: 0 },
      });

      const status = await w.status('happy-1');
      expect(status?.runtimeStatus).toBe('Completed');
      expect((await w.progress('happy-1'))?.stage).toBe('Delivered');

      const events = w.events('happy-1');
      expect(events.map((e) => e.type)).toEqual([
        'DeliveryRequested',
        'PackageCreated',
        'DroneAssigned',
        'DeliveryScheduled',
        'PackagePickedUp',
        'DeliveryInTransit',
        'DeliveryCompleted',
        'DroneReleased',
      ]);
      expect(events.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
      expect(events.every((e) => e.schemaVersion === 1 && e.correlationId === 'happy-1')).toBe(true);
      expect(events[6]?.data).toMatchObject({ droneId: 'happy-drone-near', position: { lat: 47.62, lon: -122.35 } });

      expect(await heldResources(w)).toMatchObject({ reservations: [] });
      const intake = await w.env.composition.intakes().get('happy-1');
      expect(intake).toMatchObject({ active: false, outcome: 'Delivered' });
    });

    it('replays a finished history to the same actions (the orchestrator is deterministic)', async () => {
      const report = await w.engine.verifyDeterminism('happy-1');
      expect(report.deterministic).toBe(true);
    });

    it('does not assign a drone that still says Idle but stopped reporting more than DroneFreshnessMinutes ago, however near', async () => {
      // An earlier simulator run's drone, left Idle right at the pickup, then silent for 11 minutes.
      await w.registerDrone('happy-drone-silent', { lat: 47.61, lon: -122.33 });
      await w.clock.advance(11 * 60_000, () => w.settle());
      await w.registerDrone('happy-drone-fresh', { lat: 47.65, lon: -122.4 });

      expect((await w.post(request({ deliveryId: 'happy-fresh' }), alice)).status).toBe(202);
      await w.settle();
      const p = await w.progress('happy-fresh');
      expect(p?.stage).toBe('Scheduled');
      expect(p?.droneId).toBe('happy-drone-fresh');
    });
  });
});
