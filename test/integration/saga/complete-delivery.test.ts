/**
 * CompleteDelivery closes three agents' records (the schedule, the package, the drone's
 * reservation) with writes that do not depend on each other: they are made at once, a failure of
 * one neither stops the others nor ends the call while another is still running, and a retry or
 * a second call at the same time converges on the same records.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Container } from '@azure/cosmos';
import { useContainers } from '../../support/emulators';
import { CosmosPackageRecords } from '../../../functions/adapters/cosmos-agents';
import { CosmosDroneReservations } from '../../../functions/adapters/cosmos-reservations';
import { completeDelivery } from '../../../functions/saga/agents';
import type { AgentDeps } from '../../../functions/saga/agents';
import type { DeliverySchedules, DroneReservations, FleetView, PackageRecords } from '../../../domain/delivery/ports';
import { TEST_AGENT_SETTINGS } from '../../support/agents';

let packages: Container;
let reservations: Container;

beforeAll(async () => {
  ({ packages, droneReservations: reservations } = await useContainers('complete-delivery'));
});

const AT = '2026-11-22T10:00:00.000Z';
const DONE = '2026-11-22T10:40:00.000Z';

const noFleet: FleetView = {
  availableDrones: async () => ({ drones: [], shared: false }),
  drone: async () => undefined,
};

/** A gate a write waits at until `open()`. */
function gate(): { readonly passed: Promise<void>; readonly open: () => void } {
  let open: () => void = () => undefined;
  const passed = new Promise<void>((resolve) => (open = resolve));
  return { passed, open };
}

/** Watches one write: whether it has started and whether it has ended (either way). */
function watched<A extends unknown[], R>(
  write: (...args: A) => Promise<R>,
  before: Promise<void> = Promise.resolve(),
): { readonly call: (...args: A) => Promise<R>; readonly started: () => boolean; readonly ended: Promise<void> } {
  let started = false;
  let end: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => (end = resolve));
  return {
    started: () => started,
    ended,
    call: async (...args) => {
      started = true;
      try {
        await before;
        return await write(...args);
      } finally {
        end();
      }
    },
  };
}

/** The schedule agent's store, in memory: what statuses it was given. */
function scheduleStore(fail: () => boolean = () => false) {
  const statuses: string[] = [];
  const setStatus = async (_id: string, status: 'Cancelled' | 'Delivered'): Promise<void> => {
    if (fail()) throw new Error('schedule store unavailable');
    statuses.push(status);
  };
  return { statuses, setStatus };
}

function deps(parts: {
  readonly setStatus: DeliverySchedules['setStatus'];
  readonly markDelivered?: PackageRecords['markDelivered'];
  readonly release?: DroneReservations['release'];
}): AgentDeps {
  const pkgs = new CosmosPackageRecords(packages);
  const res = new CosmosDroneReservations(reservations);
  return {
    packages: {
      create: (...a) => pkgs.create(...a),
      cancel: (...a) => pkgs.cancel(...a),
      markDelivered: parts.markDelivered ?? ((...a) => pkgs.markDelivered(...a)),
    },
    reservations: {
      reserveFor: (...a) => res.reserveFor(...a),
      findByDrone: (...a) => res.findByDrone(...a),
      heldDrones: (...a) => res.heldDrones(...a),
      release: parts.release ?? ((...a) => res.release(...a)),
    },
    fleet: noFleet,
    schedules: { get: async () => undefined, createIfAbsent: async (r) => r, setStatus: parts.setStatus },
    ...TEST_AGENT_SETTINGS,
  };
}

const realRelease = (id: string): Promise<string | undefined> => new CosmosDroneReservations(reservations).release(id);
const realMark = (id: string, at: string): Promise<void> => new CosmosPackageRecords(packages).markDelivered(id, at);

async function assigned(deliveryId: string, droneId: string): Promise<void> {
  await new CosmosPackageRecords(packages).create(deliveryId, { size: 'small', weightKg: 1 }, AT);
  const r = await new CosmosDroneReservations(reservations).reserveFor(deliveryId, AT, async () => [droneId]);
  expect(r).toMatchObject({ outcome: 'reserved' });
}

async function packageStatus(deliveryId: string): Promise<unknown> {
  return (await packages.item(deliveryId, deliveryId).read<{ status: string }>()).resource?.status;
}

async function holder(droneId: string): Promise<string | undefined> {
  return (await new CosmosDroneReservations(reservations).findByDrone(droneId))?.deliveryId;
}

/**
 * Whether a promise is still pending after everything already queued has run: a few turns of the
 * event loop, so a promise that settles in its own microtasks counts as settled.
 */
async function stateOf(p: Promise<unknown>): Promise<'pending' | 'settled'> {
  let settled = false;
  void p.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  return settled ? 'settled' : 'pending';
}

describe('a completed delivery', () => {
  it('marks the package delivered and lets the drone go while the schedule write is still in flight', async () => {
    await assigned('cd-1', 'cd-drone-1');
    const held = gate();
    const store = scheduleStore();
    const schedule = watched(store.setStatus, held.passed);
    const pkg = watched(realMark);
    const drone = watched(realRelease);
    const call = completeDelivery(deps({ setStatus: schedule.call, markDelivered: pkg.call, release: drone.call }), {
      deliveryId: 'cd-1',
      at: DONE,
    });
    await Promise.all([pkg.ended, drone.ended]);
    // Both other writes are done while the schedule's has started and not ended.
    expect(schedule.started()).toBe(true);
    expect(store.statuses).toEqual([]);
    expect(await stateOf(call)).toBe('pending');
    expect(await packageStatus('cd-1')).toBe('Delivered');
    expect(await holder('cd-drone-1')).toBeUndefined();
    held.open();
    expect(await call).toEqual({ releasedDroneId: 'cd-drone-1' });
    expect(store.statuses).toEqual(['Delivered']);
  });

  it('fails only once every write has settled, and its retry converges on the same records', async () => {
    await assigned('cd-2', 'cd-drone-2');
    const held = gate();
    const failing = scheduleStore(() => true);
    const schedule = watched(failing.setStatus);
    const drone = watched(realRelease, held.passed);
    const call = completeDelivery(deps({ setStatus: schedule.call, release: drone.call }), {
      deliveryId: 'cd-2',
      at: DONE,
    });
    const outcome = call.then(
      () => 'resolved',
      (e: unknown) => (e as Error).message,
    );
    await schedule.ended;
    // The schedule's write has failed, but the release is still held: the call has not ended.
    expect(await stateOf(outcome)).toBe('pending');
    held.open();
    expect(await outcome).toBe('schedule store unavailable');
    await drone.ended;
    // The package and the drone were closed by the failed attempt all the same.
    expect(await packageStatus('cd-2')).toBe('Delivered');
    expect(await holder('cd-drone-2')).toBeUndefined();

    const store = scheduleStore();
    // The drone was let go by the first attempt, so the retry frees none (the saga keeps the drone it knew).
    expect(await completeDelivery(deps({ setStatus: store.setStatus }), { deliveryId: 'cd-2', at: DONE })).toEqual({});
    expect(store.statuses).toEqual(['Delivered']);
    expect(await packageStatus('cd-2')).toBe('Delivered');
  });

  it('when only the release fails, the retry lets the drone go and says which', async () => {
    await assigned('cd-3', 'cd-drone-3');
    const store = scheduleStore();
    const failingRelease = async (): Promise<string | undefined> => {
      throw new Error('reservations unavailable');
    };
    await expect(
      completeDelivery(deps({ setStatus: store.setStatus, release: failingRelease }), { deliveryId: 'cd-3', at: DONE }),
    ).rejects.toThrow('reservations unavailable');
    expect(await holder('cd-drone-3')).toBe('cd-3');
    expect(await completeDelivery(deps({ setStatus: store.setStatus }), { deliveryId: 'cd-3', at: DONE })).toEqual({
      releasedDroneId: 'cd-drone-3',
    });
    expect(await holder('cd-drone-3')).toBeUndefined();
    expect(store.statuses).toEqual(['Delivered', 'Delivered']);
  });

  it('names every write that failed when more than one did', async () => {
    const d = deps({
      setStatus: scheduleStore(() => true).setStatus,
      markDelivered: async () => {
        throw new Error('package store unavailable');
      },
    });
    const error = await completeDelivery(d, { deliveryId: 'cd-4', at: DONE }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors).toHaveLength(2);
    expect((error as Error).message).toBe(
      'completing cd-4 failed: schedule: schedule store unavailable; package: package store unavailable',
    );
  });

  it('run twice at once (a duplicate activity), ends with the package delivered and the drone free, let go once', async () => {
    await assigned('cd-5', 'cd-drone-5');
    const store = scheduleStore();
    const both = await Promise.all([
      completeDelivery(deps({ setStatus: store.setStatus }), { deliveryId: 'cd-5', at: DONE }),
      completeDelivery(deps({ setStatus: store.setStatus }), { deliveryId: 'cd-5', at: DONE }),
    ]);
    expect(both.filter((r) => r.releasedDroneId === 'cd-drone-5')).toHaveLength(1);
    expect(both.filter((r) => r.releasedDroneId === undefined)).toHaveLength(1);
    expect(await packageStatus('cd-5')).toBe('Delivered');
    expect(await holder('cd-drone-5')).toBeUndefined();
    expect(store.statuses).toEqual(['Delivered', 'Delivered']);
  });
});
