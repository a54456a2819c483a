/**
 * Nothing counted in flight forever and nothing stuck unseen: a saga start that fails gives its
 * in-flight slot back (and a retry of the same request reopens it), the supervisor closes intake
 * records whose saga never started (checking each start once), DELETE answers 404 for a delivery with no saga and 409 for
 * one that is over, and a compensation that keeps failing ends the saga Failed with
 * CompensationStuck, which the supervisor reports as an alert.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIVITIES } from '../../../functions/names';
import { NOT_STARTED, requestDelivery } from '../../../functions/saga/intake';
import { alice, request, useSagaWorld } from '../../support/saga-world';
import type { SagaWorld } from '../../support/saga-world';
import type { Sagas } from '../../../domain/delivery/ports';

let w: SagaWorld;
beforeAll(async () => {
  w = await useSagaWorld('reconcile');
});
afterAll(async () => w.close());

const failingSagas: Sagas = {
  status: async () => undefined,
  start: async () => {
    throw new Error('the task hub is unreachable');
  },
  signal: async () => 'gone',
  list: async () => [],
  resume: async () => undefined,
};

function intakeDeps(sagas: Sagas): Parameters<typeof requestDelivery>[2] {
  const c = w.env.composition;
  return {
    intakes: c.intakes(),
    sagas,
    inFlight: () => c.intakes().countActive(),
    maxInFlight: 1000,
    sla: c.sagaSla,
    retry: { attempts: 2, firstRetryMs: 1000, maxRetryMs: 60_000 },
    now: () => new Date(w.clock.now()),
    newId: () => 'unused',
  };
}

describe('intake records', () => {
  it('a saga start that fails gives the in-flight slot back; the same request again reopens it and starts the saga', async () => {
    const body = JSON.stringify(request({ deliveryId: 'rc-start-fails' }));
    await expect(requestDelivery(body, alice, intakeDeps(failingSagas))).rejects.toThrow(/unreachable/);
    const closed = await w.env.composition.intakes().get('rc-start-fails');
    expect(closed).toMatchObject({ active: false, outcome: NOT_STARTED });
    expect(closed?.sagaStartedAt).toBeUndefined();
    expect((await w.cancel('rc-start-fails', alice)).status).toBe(404);

    await w.registerDrone('rc-drone-1');
    expect((await w.post(JSON.parse(body) as Record<string, unknown>, alice)).status).toBe(202);
    await w.settle();
    expect(await w.env.composition.intakes().get('rc-start-fails')).toMatchObject({ active: true });
    expect((await w.progress('rc-start-fails'))?.stage).toBe('Scheduled');
  });

  it('the supervisor closes an intake whose saga never started, once past the grace period', async () => {
    const intakes = w.env.composition.intakes();
    await intakes.createOrGet({
      deliveryId: 'rc-orphan',
      ownerId: 'alice',
      canonical: '{}',
      requestedAt: new Date(w.clock.now()).toISOString(),
      active: true,
    });
    expect((await w.supervise()).intakesClosed).toBe(0);
    const report = await w.supervise(new Date(w.clock.now() + 10 * 60_000));
    expect(report.intakesClosed).toBe(1);
    expect(await intakes.get('rc-orphan')).toMatchObject({ active: false, outcome: NOT_STARTED });
    expect((await w.cancel('rc-orphan', alice)).status).toBe(404);
  });

  it('an intake record marked started no longer lists as unconfirmed, until it is reopened; a closed one takes no mark', async () => {
    const intakes = w.env.composition.intakes();
    const at = (minutes: number): string => new Date(w.clock.now() - minutes * 60_000).toISOString();
    const record = (deliveryId: string, requestedAt: string) => ({
      deliveryId,
      ownerId: 'alice',
      canonical: '{}',
      requestedAt,
      active: true,
    });
    await intakes.createOrGet(record('rc-seen-a', at(20)));
    await intakes.createOrGet(record('rc-seen-b', at(20)));
    const unconfirmed = async (): Promise<string[]> =>
      (await intakes.listUnconfirmed(at(5)))
        .map((r) => r.deliveryId)
        .filter((id) => id.startsWith('rc-seen-'))
        .sort();
    expect(await unconfirmed()).toEqual(['rc-seen-a', 'rc-seen-b']);

    await intakes.markSagaStarted('rc-seen-a', at(0));
    expect((await intakes.get('rc-seen-a'))?.sagaStartedAt).toBe(at(0));
    expect(await unconfirmed()).toEqual(['rc-seen-b']);
    // Still in flight: the listing of old intakes keeps it.
    expect((await intakes.listActive(at(5))).map((r) => r.deliveryId)).toContain('rc-seen-a');

    // Closed, a mark is refused; reopened (its saga never started after all), it is checked afresh.
    await intakes.close('rc-seen-b', NOT_STARTED);
    await intakes.markSagaStarted('rc-seen-b', at(0));
    expect((await intakes.get('rc-seen-b'))?.sagaStartedAt).toBeUndefined();
    await intakes.close('rc-seen-a', NOT_STARTED);
    await intakes.reopen('rc-seen-a');
    expect(await intakes.get('rc-seen-a')).toMatchObject({ active: true });
    expect((await intakes.get('rc-seen-a'))?.sagaStartedAt).toBeUndefined();
    expect(await unconfirmed()).toEqual(['rc-seen-a']);
    await intakes.close('rc-seen-a', NOT_STARTED);
  });

  it('DELETE on a delivery that is over but whose saga is gone answers 409 naming its outcome', async () => {
    const intakes = w.env.composition.intakes();
    await intakes.createOrGet({
      deliveryId: 'rc-purged',
      ownerId: 'alice',
      canonical: '{}',
      requestedAt: new Date(w.clock.now()).toISOString(),
      active: true,
    });
    await intakes.close('rc-purged', 'Delivered');
    const answer = await w.cancel('rc-purged', alice);
    expect(answer.status).toBe(409);
    expect(answer.json()).toMatchObject({ detail: expect.stringContaining('Delivered') });
  });
});

describe('a compensation that keeps failing', () => {
  it('is retried in rounds, then the saga ends Failed with CompensationStuck and the supervisor raises an alert', async () => {
    await w.registerDrone('rc-drone-2');
    w.faults.set(ACTIVITIES.scheduleDelivery, Number.POSITIVE_INFINITY);
    w.faults.set(ACTIVITIES.releaseDrone, Number.POSITIVE_INFINITY);
    await w.post(request({ deliveryId: 'rc-stuck' }), alice);
    await w.engine.runTimers(24 * 3_600_000);
    w.faults.clear();
    const progress = await w.progress('rc-stuck');
    expect((await w.status('rc-stuck'))?.runtimeStatus).toBe('Completed');
    expect(progress).toMatchObject({ stage: 'Failed', finished: true, failure: { code: 'CompensationStuck' } });
    // Given up after the bounded rounds, not retried forever.
    const releases = w.activityCalls.filter((a) => a === ACTIVITIES.releaseDrone).length;
    expect(releases).toBeGreaterThan(1);
    expect(releases).toBeLessThan(50);
    expect(w.events('rc-stuck').at(-1)).toMatchObject({ type: 'DeliveryFailed', data: { code: 'CompensationStuck' } });
    expect(await w.env.composition.intakes().get('rc-stuck')).toMatchObject({
      active: false,
      failureCode: 'CompensationStuck',
    });
    const alerts: Record<string, unknown>[] = [];
    const report = await w.superviseLogged((entry) => alerts.push(entry));
    expect(report.alert).toBeGreaterThanOrEqual(1);
    expect(alerts).toContainEqual(expect.objectContaining({ event: 'alert', deliveryId: 'rc-stuck' }));
  });
});

describe("the supervisor's start check", () => {
  it('the intake marks its record once it has started the saga, so a supervisor run has no start of it to check', async () => {
    await w.registerDrone('rc-drone-seen');
    expect((await w.post(request({ deliveryId: 'rc-seen-saga' }), alice)).status).toBe(202);
    await w.settle();
    const record = await w.env.composition.intakes().get('rc-seen-saga');
    expect(record?.sagaStartedAt).toBe(record?.requestedAt);
    const later = new Date(w.clock.now() + 10 * 60_000).toISOString();
    const unconfirmed = (await w.env.composition.intakes().listUnconfirmed(later)).map((r) => r.deliveryId);
    expect(unconfirmed).not.toContain('rc-seen-saga');
  });
});
