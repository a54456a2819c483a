/**
 * CompleteDelivery closes three agents' records (the schedule, the package, the drone's
 * reservation) with writes that do not depend on each other: they are made at once, and a
 * failure of one neither stops the others nor leaves one of them running when the call fails,
 * so the retry that follows finds nothing in flight and converges.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Container } from '@azure/cosmos';
import { useEmulators } from '../../support/emulators';
import { CosmosPackageRecords } from '../../../functions/adapters/cosmos-agents';
import { CosmosDroneReservations } from '../../../functions/adapters/cosmos-reservations';
import { completeDelivery } from '../../../functions/saga/agents';
import type { AgentDeps } from '../../../functions/saga/agents';
import { COSMOS_CONTAINERS } from '../../../functions/resources';
import type { DeliverySchedules, FleetView } from '../../../domain/delivery/ports';

let packages: Container;
let reservations: Container;

beforeAll(async () => {
  const env = await useEmulators('complete-delivery');
  const db = env.cosmos.database(env.databaseId);
  packages = db.container(COSMOS_CONTAINERS.packages.name);
  reservations = db.container(COSMOS_CONTAINERS.droneReservations.name);
});

const AT = '2026-11-22T10:00:00.000Z';
const DONE = '2026-11-22T10:40:00.000Z';

const noFleet: FleetView = {
  availableDrones: async () => ({ drones: [], shared: false }),
  drone: async () => undefined,
};

/** A schedule port whose status write waits for `release()` and then does what `outcome` says. */
function heldSchedules(outcome: () => 'ok' | 'fail') {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((r) => (open = r));
  const statuses: string[] = [];
  let started = 0;
  const port: DeliverySchedules = {
    get: async () => undefined,
    createIfAbsent: async (r) => r,
    setStatus: async (_id, status) => {
      started++;
      await gate;
      if (outcome() === 'fail') throw new Error('schedule store unavailable');
      statuses.push(status);
    },
  };
  return { port, statuses, started: () => started, release: open };
}

function deps(schedules: DeliverySchedules): AgentDeps {
  return {
    packages: new CosmosPackageRecords(packages),
    reservations: new CosmosDroneReservations(reservations),
    fleet: noFleet,
    schedules,
    cruiseSpeedMps: 15,
    handlingSeconds: 60,
    maxPickupDistanceM: 25_000,
    droneFreshnessMs: 10 * 60_000,
  };
}

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

const settleOthers = async (): Promise<void> => {
  // Enough turns of the event loop for the stand-in to answer the package and drone writes.
  for (let i = 0; i < 50; i++) await new Promise((r) => setTimeout(r, 5));
};

describe('a completed delivery', () => {
  it('marks the package delivered and lets the drone go while the schedule write is still in flight', async () => {
    await assigned('cd-1', 'cd-drone-1');
    const schedules = heldSchedules(() => 'ok');
    const call = completeDelivery(deps(schedules.port), { deliveryId: 'cd-1', at: DONE });
    await settleOthers();
    // The schedule's write has started and not finished; the other two are done already.
    expect(schedules.started()).toBe(1);
    expect(schedules.statuses).toEqual([]);
    expect(await packageStatus('cd-1')).toBe('Delivered');
    expect(await holder('cd-drone-1')).toBeUndefined();
    schedules.release();
    expect(await call).toEqual({ releasedDroneId: 'cd-drone-1' });
    expect(schedules.statuses).toEqual(['Delivered']);
  });

  it('fails only after every write has settled, and its retry converges on the same records', async () => {
    await assigned('cd-2', 'cd-drone-2');
    let failing = true;
    const first = heldSchedules(() => (failing ? 'fail' : 'ok'));
    const call = completeDelivery(deps(first.port), { deliveryId: 'cd-2', at: DONE });
    const failed = call.then(
      () => false,
      (e: unknown) => (e as Error).message,
    );
    await settleOthers();
    first.release();
    expect(await failed).toBe('schedule store unavailable');
    // The package and the drone were closed by the failed attempt all the same.
    expect(await packageStatus('cd-2')).toBe('Delivered');
    expect(await holder('cd-drone-2')).toBeUndefined();

    failing = false;
    const retry = heldSchedules(() => 'ok');
    retry.release();
    // The drone was let go by the first attempt, so the retry frees none (the saga keeps the drone it knew).
    expect(await completeDelivery(deps(retry.port), { deliveryId: 'cd-2', at: DONE })).toEqual({});
    expect(retry.statuses).toEqual(['Delivered']);
    expect(await packageStatus('cd-2')).toBe('Delivered');
  });

  it('passes on the first failure when more than one write fails', async () => {
    const schedules = heldSchedules(() => 'fail');
    schedules.release();
    const d = deps(schedules.port);
    const broken: AgentDeps = {
      ...d,
      packages: {
        ...d.packages,
        create: d.packages.create.bind(d.packages),
        cancel: d.packages.cancel.bind(d.packages),
        markDelivered: async () => {
          throw new Error('package store unavailable');
        },
      },
    };
    await expect(completeDelivery(broken, { deliveryId: 'cd-3', at: DONE })).rejects.toThrow(
      'schedule store unavailable',
    );
  });
});
