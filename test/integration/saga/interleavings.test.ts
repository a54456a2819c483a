/**
 * The orderings the saga used to lose: signals that arrive while the saga is busy with an
 * activity, several milestones in one telemetry batch, a saga that dies mid-step, and a second
 * supervisor after a recovery finished.  Each runs on the engine in the extension's delivery
 * mode (everything queued since the last episode in one go) and one at a time, with activity results held back
 * while the signal is raised.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryEvent } from '../../../domain/delivery/events';
import { ACTIVITIES, recoveryInstanceId, SAGA_EVENTS } from '../../../functions/names';
import type { ActivityRun, ResultHold } from '../../../packages/functions-local/src/durable';
import { alice, heldResources, request, EVENT_DELIVERY_MODES, useSagaWorld } from '../../support/saga-world';
import type { SagaWorld } from '../../support/saga-world';

let w: SagaWorld;
let n = 0;

const types = (id: string): string[] => w.events(id).map((e) => e.type);

function expectGapless(events: readonly DeliveryEvent[]): void {
  expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
}

async function fresh(): Promise<string> {
  n++;
  const id = `il-${n}`;
  await w.registerDrone(`il-drone-${n}`, { lat: 47.61, lon: -122.33 });
  return id;
}

/** Holds the result of the `nth` run (1-based, counted from now) of `activity` for `id`. */
function holdNth(id: string, activity: string, nth = 1): ResultHold {
  let seen = 0;
  return w.engine.holdResults((run: ActivityRun) => run.instanceId === id && run.name === activity && ++seen === nth);
}

async function finish(): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await w.settle();
    await w.engine.advance(61_000);
  }
  await w.settle();
}

async function scheduled(): Promise<string> {
  const id = await fresh();
  await w.post(request({ deliveryId: id }), alice);
  await w.settle();
  expect((await w.progress(id))?.stage).toBe('Scheduled');
  return id;
}

describe.each(EVENT_DELIVERY_MODES)('with events delivered %s', (eventDelivery) => {
  beforeAll(async () => {
    w = await useSagaWorld(`interleave-${eventDelivery}`, {}, { eventDelivery });
  });
  afterAll(async () => w.close());

  describe('milestones', () => {
    it('two milestones in one telemetry batch both reach the history, in order', async () => {
      const id = await scheduled();
      const drone = (await w.progress(id))?.droneId ?? '';
      await w.flyBatch(drone, [
        { status: 'PickedUp', deliveryId: id },
        { status: 'EnRouteToDropoff', deliveryId: id },
      ]);
      await w.flyAssigned(id, { status: 'Delivered' });
      await w.settle();
      expect(types(id)).toEqual([
        'DeliveryRequested',
        'PackageCreated',
        'DroneAssigned',
        'DeliveryScheduled',
        'PackagePickedUp',
        'DeliveryInTransit',
        'DeliveryCompleted',
        'DroneReleased',
      ]);
      expect((await w.status(id))?.runtimeStatus).toBe('Completed');
    });

    it('a milestone raised while the previous milestone is being emitted is not lost', async () => {
      const id = await scheduled();
      const hold = holdNth(id, ACTIVITIES.emitDeliveryEvent); // the next emit: PackagePickedUp
      await w.flyAssigned(id, { status: 'PickedUp' });
      expect(hold.held).toBe(1);
      await w.flyAssigned(id, { status: 'EnRouteToDropoff' });
      await w.flyAssigned(id, { status: 'Delivered' });
      await hold.release();
      await w.settle();
      expect(types(id).slice(4)).toEqual([
        'PackagePickedUp',
        'DeliveryInTransit',
        'DeliveryCompleted',
        'DroneReleased',
      ]);
      expect((await w.progress(id))?.stage).toBe('Delivered');
    });

    it('counts only the assigned drone: another drone reporting Delivered changes nothing', async () => {
      const id = await scheduled();
      const other = `il-intruder-${n}`;
      await w.registerDrone(other, { lat: 47.7, lon: -122.4 });
      await w.fly(other, { status: 'Delivered', deliveryId: id });
      expect((await w.progress(id))?.stage).toBe('Scheduled');
      await w.flyAssigned(id, { status: 'Delivered' });
      expect((await w.progress(id))?.stage).toBe('Delivered');
      expect(types(id).filter((t) => t === 'DeliveryCompleted')).toHaveLength(1);
    });

    it('a milestone reported before the saga has seen its schedule confirmed is applied once it has', async () => {
      const id = await fresh();
      const hold = holdNth(id, ACTIVITIES.scheduleDelivery);
      await w.post(request({ deliveryId: id }), alice);
      await w.settle();
      expect(hold.held).toBe(1);
      await w.flyAssigned(id, { status: 'PickedUp' });
      await hold.release();
      await w.settle();
      expect(types(id).slice(3, 5)).toEqual(['DeliveryScheduled', 'PackagePickedUp']);
      expect((await w.progress(id))?.stage).toBe('PickedUp');
    });
  });

  /** Every activity the saga awaits before its outcome is fixed, and which run of it to hold. */
  const BUSY_WITH = [
    { activity: ACTIVITIES.emitDeliveryEvent, nth: 1, label: 'emitting DeliveryRequested' },
    { activity: ACTIVITIES.createPackage, nth: 1, label: 'CreatePackage' },
    { activity: ACTIVITIES.assignDrone, nth: 1, label: 'AssignDrone' },
    { activity: ACTIVITIES.scheduleDelivery, nth: 1, label: 'ScheduleDelivery' },
    { activity: ACTIVITIES.emitDeliveryEvent, nth: 4, label: 'emitting DeliveryScheduled' },
  ] as const;

  describe('a signal raised while the saga is busy', () => {
    it.each(BUSY_WITH)('a cancel during $label ends Cancelled with every step undone', async ({ activity, nth }) => {
      const id = await fresh();
      const hold = holdNth(id, activity, nth);
      await w.post(request({ deliveryId: id }), alice);
      await w.settle();
      expect(hold.held).toBe(1);
      expect((await w.cancel(id, alice)).status).toBe(202);
      await hold.release();
      await finish();
      expect((await w.progress(id))?.stage).toBe('Cancelled');
      expect(types(id).at(-1)).toBe('DeliveryCancelled');
      expectGapless(w.events(id));
      const held = await heldResources(w);
      expect(held.reservations).not.toContain(id);
      expect(held.activePackages).not.toContain(id);
    });

    it.each(BUSY_WITH)(
      'the supervisor asking to compensate during $label ends Failed (SupervisorTimeout)',
      async ({ activity, nth }) => {
        const id = await fresh();
        const hold = holdNth(id, activity, nth);
        await w.post(request({ deliveryId: id }), alice);
        await w.settle();
        expect(hold.held).toBe(1);
        await w.raise(id, SAGA_EVENTS.supervisorCompensate, { reason: 'test: past complete-by' });
        await hold.release();
        await finish();
        expect((await w.progress(id))?.stage).toBe('Failed');
        expect(w.events(id).at(-1)?.data).toMatchObject({ code: 'SupervisorTimeout' });
        expectGapless(w.events(id));
        expect((await heldResources(w)).reservations).not.toContain(id);
      },
    );

    it.each([
      { signal: 'cancel', stage: 'Cancelled' },
      { signal: 'supervisor', stage: 'Failed' },
    ] as const)('a $signal while a milestone is being emitted ends $stage', async ({ signal, stage }) => {
      const id = await scheduled();
      const hold = holdNth(id, ACTIVITIES.emitDeliveryEvent); // the next emit: PackagePickedUp
      await w.flyAssigned(id, { status: 'PickedUp' });
      expect(hold.held).toBe(1);
      if (signal === 'cancel') expect((await w.cancel(id, alice)).status).toBe(202);
      else await w.raise(id, SAGA_EVENTS.supervisorCompensate, { reason: 'test: past complete-by' });
      await hold.release();
      await finish();
      expect((await w.progress(id))?.stage).toBe(stage);
      expect(types(id).slice(4, 5)).toEqual(['PackagePickedUp']);
      expectGapless(w.events(id));
      expect((await heldResources(w)).reservations).not.toContain(id);
    });

    it('a cancel while a failure is being compensated leaves it Failed, and DELETE answers 409 naming the stage', async () => {
      const id = await fresh();
      w.faults.set(ACTIVITIES.scheduleDelivery, Number.POSITIVE_INFINITY);
      const hold = holdNth(id, ACTIVITIES.releaseDrone);
      await w.post(request({ deliveryId: id }), alice);
      for (let i = 0; i < 5 && hold.held === 0; i++) {
        await w.settle();
        await w.engine.advance(61_000);
      }
      w.faults.delete(ACTIVITIES.scheduleDelivery);
      expect(hold.held).toBe(1);
      const refused = await w.cancel(id, alice);
      expect(refused.status).toBe(409);
      expect(refused.json()).toMatchObject({ detail: expect.stringContaining('Compensating') });
      await w.raise(id, SAGA_EVENTS.cancelRequested, { requestedBy: 'alice' });
      await hold.release();
      await finish();
      expect((await w.progress(id))?.stage).toBe('Failed');
      expect(types(id)).not.toContain('DeliveryCancelled');
      expectGapless(w.events(id));
    });
  });

  describe('a saga that dies', () => {
    it('mid-step, after AssignDrone reserved a drone but before its answer arrived: the recovery releases the drone', async () => {
      const id = await fresh();
      const hold = holdNth(id, ACTIVITIES.assignDrone);
      await w.post(request({ deliveryId: id }), alice);
      await w.settle();
      expect(hold.held).toBe(1);
      expect((await heldResources(w)).reservations).toContain(id);
      await w.engine.terminate(id, 'test: the saga died');
      await hold.release();
      const report = await w.supervise();
      expect(report.recover).toBe(1);
      await finish();
      expect((await w.status(recoveryInstanceId(id)))?.runtimeStatus).toBe('Completed');
      const held = await heldResources(w);
      expect(held.reservations).not.toContain(id);
      expect(held.activePackages).not.toContain(id);
      expect(types(id).at(-1)).toBe('DeliveryFailed');
      expectGapless(w.events(id));
    });

    it('once recovered, is never recovered again: later and doubled supervisors change nothing', async () => {
      const id = await scheduled();
      await w.engine.terminate(id, 'test: the saga died');
      const [a, b] = await Promise.all([w.supervise(), w.supervise()]);
      expect((a?.recover ?? 0) + (b?.recover ?? 0)).toBe(1);
      await finish();
      const recovered = await w.status(recoveryInstanceId(id));
      expect(recovered?.runtimeStatus).toBe('Completed');
      const stream = JSON.stringify(w.events(id));
      const history = JSON.stringify(w.engine.getHistory(recoveryInstanceId(id)));
      await Promise.all([w.supervise(), w.supervise()]);
      await w.supervise(new Date(w.clock.now() + 48 * 3_600_000));
      await finish();
      expect(JSON.stringify(w.engine.getHistory(recoveryInstanceId(id)))).toBe(history);
      expect(JSON.stringify(w.events(id))).toBe(stream);
      expectGapless(w.events(id));
    });

    it('re-sends the events it had decided but not confirmed, byte for byte', async () => {
      const id = await fresh();
      const hold = holdNth(id, ACTIVITIES.emitDeliveryEvent, 2); // PackageCreated: published, not confirmed
      await w.post(request({ deliveryId: id }), alice);
      await w.settle();
      expect(hold.held).toBe(1);
      await w.engine.terminate(id, 'test: died while emitting');
      await hold.release();
      await w.supervise();
      await finish();
      const created = w.events(id).filter((e) => e.sequence === 2);
      expect(created.length).toBeGreaterThanOrEqual(2);
      expect(new Set(created.map((e) => JSON.stringify(e))).size).toBe(1);
      expect((await heldResources(w)).activePackages).not.toContain(id);
    });
  });
});
