/**
 * Nothing counted in flight forever and nothing stuck unseen: a saga start that fails gives its
 * in-flight slot back (and a retry of the same request reopens it), the supervisor closes intake
 * records whose saga never started (checking each start once), DELETE answers 404 for a delivery with no saga and 409 for
 * one that is over, and a compensation that keeps failing ends the saga Failed with
 * CompensationStuck, which the supervisor reports as an alert.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIVITIES } from '../../../functions/names';
import { requestDelivery } from '../../../functions/saga/intake';
import { NOT_STARTED } from '../../../domain/delivery/intake-record';
import { alice, request, useSagaWorld } from '../../support/saga-world';
import type { SagaWorld } from '../../support/saga-world';
import type { IntakeRecord, Sagas } from '../../../domain/delivery/ports';
import type { Container } from '@azure/cosmos';
import { CosmosIntakeRecords } from '../../../functions/adapters/cosmos-agents';
import { COSMOS_CONTAINERS } from '../../../functions/resources';

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

/** An intake record in flight, requested `requestedAt` (now by default), as the intake writes it. */
function openRecord(deliveryId: string, requestedAt = new Date(w.clock.now()).toISOString()): IntakeRecord {
  return { deliveryId, ownerId: 'alice', canonical: '{}', requestedAt, active: true };
}

/** A bound no record's request time is past: closes whatever is open and unmarked. */
const LATEST = '9999-12-31T23:59:59.999Z';

/** A Durable client whose start fails while the saga runs all the same (its answer was lost). */
function startRefusedYetRunning(instanceId: string): Sagas {
  return {
    ...failingSagas,
    status: async () => ({
      instanceId,
      name: 'DeliverySaga',
      runtimeStatus: 'Running',
      createdAt: new Date(w.clock.now()),
      lastUpdatedAt: new Date(w.clock.now()),
    }),
  };
}

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
    await intakes.createOrGet(openRecord('rc-orphan'));
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

    // Closed by its saga, a mark is refused; reopened (its saga never started after all), it is checked afresh.
    await intakes.close('rc-seen-b', 'Delivered');
    await intakes.markSagaStarted('rc-seen-b', at(0));
    expect(await intakes.get('rc-seen-b')).toMatchObject({ active: false, outcome: 'Delivered' });
    expect((await intakes.get('rc-seen-b'))?.sagaStartedAt).toBeUndefined();
    await intakes.close('rc-seen-a', NOT_STARTED);
    await intakes.reopen('rc-seen-a', at(1));
    expect(await intakes.get('rc-seen-a')).toMatchObject({ active: true, requestedAt: at(1) });
    expect((await intakes.get('rc-seen-a'))?.sagaStartedAt).toBeUndefined();
    // Reopened, it waits out the start grace again before a supervisor checks it.
    expect(await unconfirmed()).toEqual([]);
    expect((await intakes.listUnconfirmed(at(0))).map((r) => r.deliveryId)).toContain('rc-seen-a');
    await intakes.close('rc-seen-a', NOT_STARTED);
  });

  it('a close as never started is undone by a mark that comes after it, and replaced by the outcome of a saga that did start; a marked record is not closed as never started', async () => {
    const intakes = w.env.composition.intakes();
    const requestedAt = new Date(w.clock.now() - 20 * 60_000).toISOString();
    const record = (deliveryId: string) => ({
      deliveryId,
      ownerId: 'alice',
      canonical: '{}',
      requestedAt,
      active: true,
    });
    await intakes.createOrGet(record('rc-late-mark'));
    expect(await intakes.closeUnstarted('rc-late-mark', LATEST)).toBe(true);
    await intakes.markSagaStarted('rc-late-mark', requestedAt);
    const marked = await intakes.get('rc-late-mark');
    expect(marked).toMatchObject({ active: true, sagaStartedAt: requestedAt });
    expect(marked?.outcome).toBeUndefined();
    // Marked, it is not closed as never started, by the supervisor or by a failed start of a retry.
    expect(await intakes.closeUnstarted('rc-late-mark', LATEST)).toBe(false);
    expect(await intakes.get('rc-late-mark')).toMatchObject({ active: true });

    await intakes.createOrGet(record('rc-late-outcome'));
    expect(await intakes.closeUnstarted('rc-late-outcome', LATEST)).toBe(true);
    await intakes.close('rc-late-outcome', 'Delivered');
    expect(await intakes.get('rc-late-outcome')).toMatchObject({ active: false, outcome: 'Delivered' });
    // Any other first outcome stands, and a later mark does not reopen it.
    await intakes.close('rc-late-outcome', 'Cancelled');
    await intakes.markSagaStarted('rc-late-outcome', requestedAt);
    expect(await intakes.get('rc-late-outcome')).toMatchObject({ active: false, outcome: 'Delivered' });
    expect(await intakes.closeUnstarted('rc-late-outcome', LATEST)).toBe(false);
    expect(await intakes.closeUnstarted('rc-nothing-here', LATEST)).toBe(false);
  });

  it('a close as never started leaves a record stamped afresh since it was read: a reopen stamps it', async () => {
    const intakes = w.env.composition.intakes();
    const ago = (minutes: number): string => new Date(w.clock.now() - minutes * 60_000).toISOString();
    await intakes.createOrGet(openRecord('rc-reopened', ago(30)));
    await intakes.close('rc-reopened', NOT_STARTED);
    await intakes.reopen('rc-reopened', ago(0));
    // A supervisor (or a request) that read it as requested 30 minutes ago leaves it be: it was stamped afresh since.
    expect(await intakes.closeUnstarted('rc-reopened', ago(30))).toBe(false);
    expect(await intakes.get('rc-reopened')).toMatchObject({ active: true });
    expect(await intakes.closeUnstarted('rc-reopened', ago(0))).toBe(true);
  });

  it("a saga's close that meets its record reopened by a late mark between its patch and its read still closes it", async () => {
    const real = w.env.cosmos.database(w.env.databaseId).container(COSMOS_CONTAINERS.intakes.name);
    const plain = new CosmosIntakeRecords(real);
    await plain.createOrGet(openRecord('rc-close-race'));
    expect(await plain.closeUnstarted('rc-close-race', LATEST)).toBe(true);
    // The saga's close: its patch is refused (the record is closed); the late mark lands before its read.
    let marked = false;
    const withLateMark = {
      items: real.items,
      item: (id: string, pk: string) => ({
        ...real.item(id, pk),
        read: real.item(id, pk).read.bind(real.item(id, pk)),
        replace: real.item(id, pk).replace.bind(real.item(id, pk)),
        patch: async (body: never) => {
          try {
            return await real.item(id, pk).patch(body);
          } finally {
            if (!marked) {
              marked = true;
              await plain.markSagaStarted(id, new Date(w.clock.now()).toISOString());
            }
          }
        },
      }),
    } as unknown as Container;
    await new CosmosIntakeRecords(withLateMark).close('rc-close-race', 'Delivered');
    expect(marked).toBe(true);
    expect(await plain.get('rc-close-race')).toMatchObject({ active: false, outcome: 'Delivered' });
  });

  it('a repeated request finds its saga running and its record closed as never started (its first request died before the mark): it counts in flight again', async () => {
    const running = startRefusedYetRunning('rc-repeat-mends');
    const body = JSON.stringify(request({ deliveryId: 'rc-repeat-mends' }));
    // The first request wrote its record and started the saga, then died; a supervisor that had looked before the start closed it.
    const intakes = w.env.composition.intakes();
    const diesBeforeMark = new Proxy(intakes, {
      get: (target, key) =>
        key === 'markSagaStarted'
          ? async () => undefined
          : (Reflect.get(target, key) as (...a: unknown[]) => unknown).bind(target),
    });
    const first = await requestDelivery(body, alice, {
      ...intakeDeps(running),
      sagas: { ...running, status: async () => undefined, start: async () => 'started' },
      intakes: diesBeforeMark,
    });
    expect(first.ok).toBe(true);
    expect(await w.env.composition.intakes().closeUnstarted('rc-repeat-mends', LATEST)).toBe(true);
    const again = await requestDelivery(body, alice, intakeDeps(running));
    expect(again).toMatchObject({ ok: true, value: { created: false } });
    expect(await w.env.composition.intakes().get('rc-repeat-mends')).toMatchObject({ active: true });
    await w.env.composition.intakes().close('rc-repeat-mends', 'Delivered');
  });

  it('the same request again for a delivery that is over, its saga since purged, starts nothing', async () => {
    const starts: string[] = [];
    const purged: Sagas = { ...failingSagas, start: async (_name, id) => (starts.push(id), 'started') };
    const body = JSON.stringify(request({ deliveryId: 'rc-over-purged' }));
    expect((await requestDelivery(body, alice, intakeDeps(purged))).ok).toBe(true);
    await w.env.composition.intakes().close('rc-over-purged', 'Delivered');
    expect(await requestDelivery(body, alice, intakeDeps(purged))).toMatchObject({
      ok: true,
      value: { deliveryId: 'rc-over-purged', created: false },
    });
    expect(starts).toEqual(['rc-over-purged']);
    expect(await w.env.composition.intakes().get('rc-over-purged')).toMatchObject({
      active: false,
      outcome: 'Delivered',
    });
  });

  it('a start whose answer was lost, yet reached the engine (as in microsoft/durabletask-netherite#45), is answered 202 and its intake counts in flight', async () => {
    const lostAnswer = startRefusedYetRunning('rc-lost-answer');
    const body = JSON.stringify(request({ deliveryId: 'rc-lost-answer' }));
    const answer = await requestDelivery(body, alice, intakeDeps(lostAnswer));
    expect(answer).toMatchObject({ ok: true, value: { deliveryId: 'rc-lost-answer', created: true } });
    expect(await w.env.composition.intakes().get('rc-lost-answer')).toMatchObject({ active: true });
    expect((await w.env.composition.intakes().get('rc-lost-answer'))?.sagaStartedAt).toBeDefined();
    await w.env.composition.intakes().close('rc-lost-answer', NOT_STARTED);
  });

  it('DELETE on a delivery that is over but whose saga is gone answers 409 naming its outcome', async () => {
    const intakes = w.env.composition.intakes();
    await intakes.createOrGet(openRecord('rc-purged'));
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
