/** The supervisor: stuck sagas are asked to compensate, dead ones are recovered, suspended ones resumed; two at once do no harm. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recoveryInstanceId } from '../../../functions/names';
import { FUNCTIONS } from '../../../functions/names';
import { loadFunctionApp } from '../../support/app';
import { alice, heldResources, request, useSagaWorld } from '../../support/saga-world';
import type { SagaWorld } from '../../support/saga-world';

let w: SagaWorld;
let n = 0;
beforeAll(async () => {
  w = await useSagaWorld('sup');
});
afterAll(async () => w.close());

async function scheduled(): Promise<{ id: string; drone: string }> {
  n++;
  const id = `sup-${n}`;
  const drone = `sup-drone-${n}`;
  await w.registerDrone(drone, { lat: 47.61, lon: -122.33 });
  await w.post(request({ deliveryId: id }), alice);
  await w.settle();
  expect((await w.progress(id))?.stage).toBe('Scheduled');
  return { id, drone };
}

const hoursLater = (h: number): Date => new Date(w.clock.now() + h * 3_600_000);

describe('the saga supervisor', () => {
  it('is a timer function on the SupervisorSchedule setting with a durable client', async () => {
    const fn = (await loadFunctionApp()).get(FUNCTIONS.superviseSagas);
    expect(fn.trigger).toMatchObject({ type: 'timerTrigger', schedule: '%SupervisorSchedule%' });
    expect(Object.values(fn.metadata.bindings).some((b) => b.type === 'durableClient')).toBe(true);
  });

  it('leaves healthy sagas alone', async () => {
    const { id } = await scheduled();
    const report = await w.supervise();
    expect(report.requestCompensation + report.recover + report.alert).toBe(0);
    expect((await w.progress(id))?.stage).toBe('Scheduled');
  });

  it('asks a saga past its complete-by time to compensate itself, once, and it ends Failed', async () => {
    const { id } = await scheduled();
    const late = hoursLater(5);
    const report = await w.supervise(late);
    expect(report.requestCompensation).toBeGreaterThanOrEqual(1);
    const events = w.events(id);
    expect(events.slice(-3).map((e) => e.type)).toEqual(['DroneReleased', 'PackageCancelled', 'DeliveryFailed']);
    expect(events.at(-1)?.data).toMatchObject({ code: 'SupervisorTimeout' });
    expect((await w.env.composition.intakes().get(id))?.supervisorRequestedAt).toBe(late.toISOString());
    const again = await w.supervise(late);
    expect(again.requestCompensation).toBe(0);
    expect(w.events(id).filter((e) => e.type === 'DeliveryFailed')).toHaveLength(1);
  });

  it('recovers a saga that died holding resources: compensates, continues its stream without a gap, frees the drone', async () => {
    const { id } = await scheduled();
    await w.engine.terminate(id, 'host crashed (simulated)');
    expect((await w.status(id))?.runtimeStatus).toBe('Terminated');
    expect((await heldResources(w)).reservations).toContain(id);

    const report = await w.supervise();
    expect(report.recover).toBe(1);
    const recovery = await w.status(recoveryInstanceId(id));
    expect(recovery?.runtimeStatus).toBe('Completed');
    const events = w.events(id);
    const sequences = events.map((e) => e.sequence);
    // The saga's last event is sent again (same id, same content): the stream stays 1..n with no gap.
    expect([...new Set(sequences)]).toEqual(Array.from({ length: new Set(sequences).size }, (_, i) => i + 1));
    const unique = new Map(events.map((e) => [e.eventId, e]));
    expect([...unique.values()].map((e) => e.type).slice(-3)).toEqual([
      'DroneReleased',
      'PackageCancelled',
      'DeliveryFailed',
    ]);
    expect(events.at(-1)?.data).toMatchObject({ code: 'SupervisorRecovered' });
    const held = await heldResources(w);
    expect(held.reservations).not.toContain(id);
    expect(held.activePackages).not.toContain(id);
    expect((await w.env.composition.intakes().get(id))?.active).toBe(false);

    expect((await w.supervise()).recover).toBe(0);
  });

  it('resumes a suspended saga', async () => {
    const { id } = await scheduled();
    await w.engine.suspend(id);
    expect((await w.status(id))?.runtimeStatus).toBe('Suspended');
    const report = await w.supervise();
    expect(report.resume).toBeGreaterThanOrEqual(1);
    expect((await w.status(id))?.runtimeStatus).toBe('Running');
  });

  it('does no harm when two supervisors run at once', async () => {
    const stuck = await scheduled();
    const dead = await scheduled();
    await w.engine.terminate(dead.id, 'simulated crash');
    const late = hoursLater(5);
    await Promise.all([w.supervise(late), w.supervise(late)]);
    await w.settle();
    for (const id of [stuck.id, dead.id]) {
      const failed = new Set(
        w
          .events(id)
          .filter((e) => e.type === 'DeliveryFailed')
          .map((e) => e.eventId),
      );
      expect(failed.size, id).toBe(1);
    }
    const recoveries = (await w.engine.listInstances({ instanceIdPrefix: dead.id })).filter(
      (s) => s.instanceId === recoveryInstanceId(dead.id),
    );
    expect(recoveries).toHaveLength(1);
    const held = await heldResources(w);
    expect(held.reservations).not.toContain(stuck.id);
    expect(held.reservations).not.toContain(dead.id);
  });
});
