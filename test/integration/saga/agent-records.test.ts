/**
 * The agents' records on the Cosmos DB server where one request replaced two or a fleet query
 * is shared: an intake is closed, and a package marked delivered, by one conditional patch
 * (Cosmos DB's filter predicate, which answers 412 when the stored document does not match), the
 * available fleet is one snapshot per `FleetSnapshotMs`, never the reason a delivery hears that
 * no drone is free, and the schedule starts from the drone's position as the assignment saw it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Container } from '@azure/cosmos';
import { counted } from '../../support/counted-container';
import { useContainers } from '../../support/emulators';
import { CosmosFleetView, CosmosIntakeRecords, CosmosPackageRecords } from '../../../functions/adapters/cosmos-agents';
import { CosmosDroneStateStore } from '../../../functions/adapters/cosmos-drone-store';
import { CosmosDroneReservations } from '../../../functions/adapters/cosmos-reservations';
import { assignDrone, scheduleDelivery } from '../../../functions/saga/agents';
import type { AgentDeps } from '../../../functions/saga/agents';
import type { DeliverySchedules, FleetView, IntakeRecord, ScheduleRecord } from '../../../domain/delivery/ports';
import type { DroneState } from '../../../domain/telemetry/drone-state';
import { TEST_AGENT_SETTINGS } from '../../support/agents';

let packages: Container;
let intakes: Container;
let drones: Container;
let reservations: Container;

beforeAll(async () => {
  ({ packages, intakes, drones, droneReservations: reservations } = await useContainers('agent-records'));
});

const AT = '2026-11-22T10:00:00.000Z';

async function stored(c: Container, id: string): Promise<Record<string, unknown> | undefined> {
  try {
    return (await c.item(id, id).read<Record<string, unknown>>()).resource ?? undefined;
  } catch (e) {
    if ((e as { code?: number }).code === 404) return undefined;
    throw e;
  }
}

const IDLE = {
  status: 'Idle',
  position: { lat: 47.61, lon: -122.33, altitudeM: 0 },
  batteryPct: 99,
  speedMps: 0,
  sequence: 1,
} as const;

const idle = (droneId: string): DroneState => ({ droneId, ...IDLE, reportedAt: AT });

describe('a package marked delivered', () => {
  it('changes only while the package is active, and only once', async () => {
    const records = new CosmosPackageRecords(packages);
    await records.create('pk-active', { size: 'small', weightKg: 1 }, AT);
    await records.markDelivered('pk-active', '2026-11-22T11:00:00.000Z');
    expect(await stored(packages, 'pk-active')).toMatchObject({
      status: 'Delivered',
      deliveredAt: '2026-11-22T11:00:00.000Z',
      size: 'small',
    });
    // A second mark (a retried activity) keeps the first time.
    await records.markDelivered('pk-active', '2026-11-22T12:00:00.000Z');
    expect((await stored(packages, 'pk-active'))?.deliveredAt).toBe('2026-11-22T11:00:00.000Z');
  });

  it('is one conditional patch while the package is active', async () => {
    await new CosmosPackageRecords(packages).create('pk-one', { size: 'small', weightKg: 1 }, AT);
    expect(await stored(packages, 'pk-one')).toMatchObject({ status: 'Active', active: true });
    const c = counted(packages);
    await new CosmosPackageRecords(c.container).markDelivered('pk-one', AT);
    expect(c.requests).toEqual(['patch']);
    expect(await stored(packages, 'pk-one')).toMatchObject({ status: 'Delivered', active: false, deliveredAt: AT });
  });

  it('marks a package stored before `active` was kept, by its status (read, then replace)', async () => {
    await packages.items.create({
      id: 'pk-old',
      packageId: 'pkg-pk-old',
      status: 'Active',
      size: 'small',
      weightKg: 1,
    });
    const c = counted(packages);
    await new CosmosPackageRecords(c.container).markDelivered('pk-old', AT);
    expect(c.requests).toEqual(['patch', 'read', 'replace']);
    expect(await stored(packages, 'pk-old')).toMatchObject({ status: 'Delivered', active: false, deliveredAt: AT });
  });

  it('leaves a cancelled package cancelled and creates none that is missing', async () => {
    const records = new CosmosPackageRecords(packages);
    await records.create('pk-cancelled', { size: 'small', weightKg: 1 }, AT);
    await records.cancel('pk-cancelled', 'cancelled on request', AT);
    await records.markDelivered('pk-cancelled', AT);
    expect(await stored(packages, 'pk-cancelled')).toMatchObject({ status: 'Cancelled', active: false });
    expect((await stored(packages, 'pk-cancelled'))?.deliveredAt).toBeUndefined();

    await records.markDelivered('pk-missing', AT);
    expect(await stored(packages, 'pk-missing')).toBeUndefined();
  });
});

describe('an intake closed', () => {
  const intake = (deliveryId: string): IntakeRecord => ({
    deliveryId,
    ownerId: 'owner-1',
    canonical: '{}',
    requestedAt: AT,
    active: true,
  });

  it('keeps the outcome of its first close: a later close answers 412 (the filter predicate) and changes nothing', async () => {
    const records = new CosmosIntakeRecords(intakes);
    await records.createOrGet(intake('in-1'));
    await records.close('in-1', 'Failed', 'StepFailed');
    expect(await stored(intakes, 'in-1')).toMatchObject({
      active: false,
      outcome: 'Failed',
      failureCode: 'StepFailed',
      ownerId: 'owner-1',
    });
    await records.close('in-1', 'Delivered');
    expect(await stored(intakes, 'in-1')).toMatchObject({
      active: false,
      outcome: 'Failed',
      failureCode: 'StepFailed',
    });
  });

  it('creates none that is missing', async () => {
    await new CosmosIntakeRecords(intakes).close('in-missing', 'Delivered');
    expect(await stored(intakes, 'in-missing')).toBeUndefined();
  });
});

describe('the available fleet', () => {
  it('is one query per snapshot time; `fresh` reads again, and a later call after the time does too', async () => {
    const store = new CosmosDroneStateStore(drones);
    await store.write(idle('fs-a'), undefined);
    let clock = 1_000_000;
    const view = new CosmosFleetView(drones, { snapshotMs: 1000, now: () => clock });
    const ids = (a: { drones: readonly DroneState[] }): string[] =>
      a.drones.map((d) => d.droneId).filter((id) => id.startsWith('fs-'));

    const first = await view.availableDrones();
    expect(first.shared).toBe(false);
    expect(ids(first)).toEqual(['fs-a']);

    await store.write(idle('fs-b'), undefined);
    clock += 999;
    const kept = await view.availableDrones();
    expect(kept.shared).toBe(true);
    expect(ids(kept)).toEqual(['fs-a']);

    const fresh = await view.availableDrones({ fresh: true });
    expect(fresh.shared).toBe(false);
    expect(ids(fresh).sort()).toEqual(['fs-a', 'fs-b']);

    await store.write(idle('fs-c'), undefined);
    clock += 1000;
    const later = await view.availableDrones();
    expect(later.shared).toBe(false);
    expect(ids(later).sort()).toEqual(['fs-a', 'fs-b', 'fs-c']);
  });

  /** A container whose fleet query is counted, answered after a turn, and failed on request. */
  function countingContainer(): { container: Container; queries: () => number; failNext: () => void } {
    let queries = 0;
    let fail = false;
    const container = {
      items: {
        query: () => ({
          fetchAll: async () => {
            queries++;
            await new Promise((res) => setImmediate(res));
            if (fail) {
              fail = false;
              throw Object.assign(new Error('service unavailable'), { code: 503 });
            }
            return { resources: [{ ...idle('cc-1'), id: 'cc-1', available: true }] };
          },
        }),
      },
    } as unknown as Container;
    return { container, queries: () => queries, failNext: () => void (fail = true) };
  }

  it('shares one query among calls made while it is in flight', async () => {
    const c = countingContainer();
    const view = new CosmosFleetView(c.container, { snapshotMs: 1000, now: () => 5 });
    const answers = await Promise.all(Array.from({ length: 8 }, () => view.availableDrones()));
    expect(c.queries()).toBe(1);
    expect(answers.filter((a) => a.shared)).toHaveLength(7);
    expect(answers.every((a) => a.drones[0]?.droneId === 'cc-1')).toBe(true);
  });

  it('keeps no failed query: the next call queries again', async () => {
    const c = countingContainer();
    const view = new CosmosFleetView(c.container, { snapshotMs: 1000, now: () => 5 });
    c.failNext();
    await expect(view.availableDrones()).rejects.toThrow('service unavailable');
    const next = await view.availableDrones();
    expect(next.shared).toBe(false);
    expect(c.queries()).toBe(2);
  });

  it('with a snapshot time of 0, queries for every call', async () => {
    const c = countingContainer();
    const view = new CosmosFleetView(c.container, { snapshotMs: 0, now: () => 5 });
    await view.availableDrones();
    await view.availableDrones();
    expect(c.queries()).toBe(2);
  });
});

describe('a drone assignment from a shared fleet answer', () => {
  const deps = (fleet: FleetView): AgentDeps => ({
    packages: new CosmosPackageRecords(packages),
    reservations: new CosmosDroneReservations(reservations),
    fleet,
    schedules: {} as never,
    ...TEST_AGENT_SETTINGS,
  });
  const input = (deliveryId: string) => ({ deliveryId, pickup: { lat: 47.61, lon: -122.33 }, at: AT });

  it('reads the fleet afresh before saying that every drone is taken', async () => {
    const calls: boolean[] = [];
    const fleet: FleetView = {
      // The shared answer predates the drone that has come free since.
      availableDrones: async (o) => {
        calls.push(o?.fresh === true);
        return o?.fresh ? { drones: [idle('sa-free')], shared: false } : { drones: [], shared: true };
      },
      drone: async () => undefined,
    };
    const r = await assignDrone(deps(fleet), input('sa-1'));
    expect(r).toMatchObject({ assigned: true, droneId: 'sa-free' });
    expect(calls).toEqual([false, true]);
  });

  it('says every drone is taken from a fresh answer at once, without a second read', async () => {
    const calls: boolean[] = [];
    const fleet: FleetView = {
      availableDrones: async (o) => {
        calls.push(o?.fresh === true);
        return { drones: [], shared: false };
      },
      drone: async () => undefined,
    };
    const r = await assignDrone(deps(fleet), input('sa-2'));
    expect(r.assigned).toBe(false);
    expect(calls).toEqual([false]);
  });
});

describe('a schedule after an assignment', () => {
  const schedules = (): DeliverySchedules & { stored: ScheduleRecord[] } => {
    const stored: ScheduleRecord[] = [];
    return {
      stored,
      get: async (id) => stored.find((r) => r.deliveryId === id),
      createIfAbsent: async (r) => {
        stored.push(r);
        return r;
      },
      setStatus: async () => undefined,
    };
  };
  const deps = (fleet: FleetView, s: DeliverySchedules): AgentDeps => ({
    packages: new CosmosPackageRecords(packages),
    reservations: new CosmosDroneReservations(reservations),
    fleet,
    schedules: s,
    cruiseSpeedMps: 15,
    handlingSeconds: 60,
    maxPickupDistanceM: 25_000,
    droneFreshnessMs: 10 * 60_000,
  });
  const away = (droneId: string): DroneState => ({
    ...idle(droneId),
    position: { lat: 47.65, lon: -122.3, altitudeM: 0 },
  });
  const leg = { pickup: { lat: 47.61, lon: -122.33 }, dropoff: { lat: 47.62, lon: -122.35 } };

  it('starts its ETA where the assignment saw the drone, and reads no drone state', async () => {
    const droneReads: string[] = [];
    const fleet: FleetView = {
      availableDrones: async () => ({ drones: [away('sp-1')], shared: false }),
      drone: async (id) => {
        droneReads.push(id);
        return away(id);
      },
    };
    const s = schedules();
    const assigned = await assignDrone(deps(fleet, s), { deliveryId: 'sp-d1', pickup: leg.pickup, at: AT });
    expect(assigned).toMatchObject({ assigned: true, droneId: 'sp-1', dronePosition: { lat: 47.65, lon: -122.3 } });
    if (!assigned.assigned) throw new Error('expected an assignment');

    const given = await scheduleDelivery(deps(fleet, s), {
      deliveryId: 'sp-d1',
      droneId: 'sp-1',
      ...leg,
      at: AT,
      ...(assigned.dronePosition ? { dronePosition: assigned.dronePosition } : {}),
    });
    expect(droneReads).toEqual([]);
    // The same ETA as from the drone's own state.
    const read = await scheduleDelivery(deps(fleet, schedules()), {
      deliveryId: 'sp-d1',
      droneId: 'sp-1',
      ...leg,
      at: AT,
    });
    expect(droneReads).toEqual(['sp-1']);
    expect(given).toEqual(read);
    expect(given).toMatchObject({ ok: true });
  });

  it('without a position (a saga started before assignments passed it on), reads the drone; an unknown one cannot be scheduled', async () => {
    const fleet: FleetView = {
      availableDrones: async () => ({ drones: [], shared: false }),
      drone: async () => undefined,
    };
    const r = await scheduleDelivery(deps(fleet, schedules()), {
      deliveryId: 'sp-d2',
      droneId: 'sp-gone',
      ...leg,
      at: AT,
    });
    expect(r).toMatchObject({ ok: false, code: 'DroneUnknown' });
  });
});
