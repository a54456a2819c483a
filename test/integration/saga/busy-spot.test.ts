/**
 * Assignments at a spot busier than the drones an attempt tries (`maxCandidates`), on the Cosmos
 * DB server. An attempt tries the first few drones of its delivery's order; when those are held
 * for other deliveries while drones beyond them are free, it must still reach the free ones, and
 * "every drone in reach is reserved" must be said only when that was so. The seeded scenarios
 * put as many deliveries as free drones at one spot, run every unassigned delivery's attempt at
 * once in rounds (as the sagas' retries would), each seed one order of their requests, and check
 * after each round:
 * - no drone is held for two deliveries, and each assigned delivery holds the drone it was told;
 * - drones held for other deliveries before the scenario stay theirs;
 * - each round assigns at least one delivery while any is waiting, so all are assigned within as
 *   many rounds as there are deliveries (an attempt whose tries were all taken by the others of
 *   its round meanwhile hears that every drone is reserved, and its next attempt goes further).
 * A failure names its seed; a seed that fails joins FIXED_SEEDS.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Container } from '@azure/cosmos';
import { useContainers } from '../../support/emulators';
import { Scheduler, gated } from '../../support/interleavings';
import { CosmosDroneReservations } from '../../../functions/adapters/cosmos-reservations';
import { assignDrone } from '../../../functions/saga/agents';
import type { AgentDeps } from '../../../functions/saga/agents';
import { candidateOrder, dronesInReach, EQUALLY_NEAR_M } from '../../../domain/delivery/scheduling';
import type { AssignDroneResult } from '../../../functions/saga/contracts';
import type { FleetView } from '../../../domain/delivery/ports';
import type { DroneState } from '../../../domain/telemetry/drone-state';
import { Random, freshSeeds } from '../../../tools/simulation/random';
import { TEST_AGENT_SETTINGS } from '../../support/agents';

let reservations: Container;

beforeAll(async () => {
  ({ droneReservations: reservations } = await useContainers('busy-spot'));
});

const AT = '2026-11-22T10:00:00.000Z';
const SPOT = { lat: 47.61, lon: -122.33 };

const idle = (droneId: string): DroneState => ({
  droneId,
  status: 'Idle',
  position: { ...SPOT, altitudeM: 0 },
  batteryPct: 99,
  speedMps: 0,
  sequence: 1,
  reportedAt: AT,
});

/** Every drone at the spot, as the fleet view would list them. */
const fleetOf = (drones: readonly string[]): FleetView => ({
  availableDrones: async () => ({ drones: drones.map(idle), shared: false }),
  drone: async (id) => idle(id),
});

const deps = (res: CosmosDroneReservations, fleet: FleetView, maxCandidates: number): AgentDeps => ({
  packages: {} as never,
  reservations: res,
  fleet,
  schedules: {} as never,
  ...TEST_AGENT_SETTINGS,
  maxCandidates,
});

/** Drone id → the delivery its reservation is for, for these drones. */
async function holders(drones: readonly string[]): Promise<Map<string, string>> {
  const all = await new CosmosDroneReservations(reservations).heldDrones({ fresh: true });
  return new Map(drones.flatMap((d) => (all.byDrone.has(d) ? [[d, all.byDrone.get(d) ?? '']] : [])));
}

/** The first drones a delivery tries when nothing is passed over (what the code before this test tried). */
const firstTries = (drones: readonly string[], deliveryId: string, limit: number): string[] =>
  candidateOrder(
    dronesInReach(
      drones.map(idle),
      SPOT,
      { now: new Date(AT), freshnessMs: TEST_AGENT_SETTINGS.droneFreshnessMs },
      TEST_AGENT_SETTINGS.maxPickupDistanceM,
    ),
    deliveryId,
    EQUALLY_NEAR_M,
    limit,
  ).map((c) => c.droneId);

describe('an assignment at a spot busier than its tries', () => {
  it('passes over the drones held for other deliveries and reaches a free one beyond its first tries', async () => {
    const drones = Array.from({ length: 8 }, (_, i) => `bs-ex-drone-${i}`);
    const tries = firstTries(drones, 'bs-ex', 3);
    const res = new CosmosDroneReservations(reservations);
    for (const droneId of tries) await res.reserveFor(`bs-ex-other-${droneId}`, AT, async () => [droneId]);

    const got = await assignDrone(deps(res, fleetOf(drones), 3), { deliveryId: 'bs-ex', pickup: SPOT, at: AT });

    expect(got.assigned).toBe(true);
    const droneId = got.assigned ? got.droneId : '';
    expect(tries).not.toContain(droneId);
    expect((await holders(drones)).get(droneId)).toBe('bs-ex');
  });

  it('says that every drone in reach is reserved only when every one is held', async () => {
    const drones = Array.from({ length: 4 }, (_, i) => `bs-full-drone-${i}`);
    const res = new CosmosDroneReservations(reservations);
    for (const droneId of drones) await res.reserveFor(`bs-full-other-${droneId}`, AT, async () => [droneId]);

    const got = await assignDrone(deps(res, fleetOf(drones), 2), { deliveryId: 'bs-full', pickup: SPOT, at: AT });

    expect(got).toEqual({ assigned: false, reason: 'every drone in reach is reserved' });
  });

  it('tries first a drone held for the delivery by a reservation from before claims, and takes no second one', async () => {
    const drones = Array.from({ length: 6 }, (_, i) => `bs-legacy-drone-${i}`);
    // The drone its order would try last, reserved the way the version before claims did.
    const legacy = firstTries(drones, 'bs-legacy', drones.length).at(-1) ?? '';
    await reservations.items.create({ id: legacy, kind: 'reservation', deliveryId: 'bs-legacy', droneId: legacy });
    const res = new CosmosDroneReservations(reservations);

    const got = await assignDrone(deps(res, fleetOf(drones), 3), { deliveryId: 'bs-legacy', pickup: SPOT, at: AT });

    expect(got).toMatchObject({ assigned: true, droneId: legacy });
    expect([...(await holders(drones))]).toEqual([[legacy, 'bs-legacy']]);
  });

  it('from a shared answer of held drones, reads them afresh before saying none is free', async () => {
    const drones = ['bs-stale-drone-0'];
    let clock = 1_000;
    const res = new CosmosDroneReservations(reservations, { snapshotMs: 1000, now: () => clock });
    await res.reserveFor('bs-stale-other', AT, async () => drones);
    // The shared answer is taken while the drone is held, and the drone is let go right after.
    expect((await res.heldDrones()).byDrone.get('bs-stale-drone-0')).toBe('bs-stale-other');
    await res.release('bs-stale-other');
    clock += 10;

    const got = await assignDrone(deps(res, fleetOf(drones), 1), { deliveryId: 'bs-stale', pickup: SPOT, at: AT });

    expect(got).toMatchObject({ assigned: true, droneId: 'bs-stale-drone-0' });
  });
});

async function scenario(seed: number): Promise<string[]> {
  const r = new Random(seed);
  const problems: string[] = [];
  const total = r.int(4, 12);
  const drones = Array.from({ length: total }, (_, i) => `bs-${seed}-drone-${i}`);
  const maxCandidates = r.int(1, 3);
  // Some drones are held for other deliveries before: as many deliveries as the rest.
  const others = new Map<string, string>();
  const setup = new CosmosDroneReservations(reservations);
  for (const droneId of drones)
    if (others.size < total - 2 && r.chance(0.3)) {
      const other = `bs-${seed}-other-${droneId}`;
      await setup.reserveFor(other, AT, async () => [droneId]);
      others.set(droneId, other);
    }
  const deliveries = Array.from({ length: total - others.size }, (_, i) => `bs-${seed}-delivery-${i}`);
  const assigned = new Map<string, string>();
  const fleet = fleetOf(drones);

  for (let round = 1; assigned.size < deliveries.length; round++) {
    if (round > deliveries.length) {
      problems.push(`${deliveries.length - assigned.size} deliveries still waiting after ${deliveries.length} rounds`);
      break;
    }
    const s = new Scheduler(r);
    // One instance's reservations, its held-drone answer shared or not, as FleetSnapshotMs says.
    const res = new CosmosDroneReservations(gated(reservations, s), { snapshotMs: r.chance(0.5) ? 1000 : 0 });
    const waiting = deliveries.filter((d) => !assigned.has(d));
    // An attempt that throws is a finding of its own (with the seed), not a lost run.
    const answers = waiting.map((deliveryId) =>
      s.actor(async (): Promise<[string, AssignDroneResult | Error]> => {
        try {
          return [deliveryId, await assignDrone(deps(res, fleet, maxCandidates), { deliveryId, pickup: SPOT, at: AT })];
        } catch (e) {
          return [deliveryId, e instanceof Error ? e : new Error(String(e))];
        }
      }),
    );
    await s.run();
    const told = await Promise.all(answers);
    const held = await holders(drones);
    let gained = 0;
    for (const [deliveryId, answer] of told) {
      if (answer instanceof Error) {
        problems.push(`round ${round}: ${deliveryId}'s attempt threw ${answer.message}`);
      } else if (answer.assigned) {
        assigned.set(deliveryId, answer.droneId);
        gained++;
        if (held.get(answer.droneId) !== deliveryId)
          problems.push(
            `round ${round}: ${deliveryId} was told ${answer.droneId}, held for ${held.get(answer.droneId) ?? 'none'}`,
          );
      } else if (answer.reason !== 'every drone in reach is reserved') {
        problems.push(`round ${round}: ${deliveryId} was told "${answer.reason}"`);
      }
    }
    if (gained === 0) problems.push(`round ${round}: no delivery was assigned while ${waiting.length} waited`);
    const byDrone = new Map<string, string>();
    for (const [deliveryId, droneId] of assigned) {
      const before = byDrone.get(droneId);
      if (before !== undefined) problems.push(`${droneId} was given to ${before} and ${deliveryId}`);
      byDrone.set(droneId, deliveryId);
    }
    for (const [droneId, other] of others)
      if (held.get(droneId) !== other) problems.push(`${droneId} was taken from ${other}`);
    if (problems.length > 0) break;
  }
  return problems.map(
    (p) => `seed ${seed} (${total} drones, ${others.size} held before, ${maxCandidates} tries): ${p}`,
  );
}

/** Seeds 1, 2, 3 and 42 fail with the assignment that did not pass over held drones; a seed that fails later joins them. */
const FIXED_SEEDS = [1, 2, 3, 42, 1234];

describe('assignments racing at a busy spot under seeded interleavings', () => {
  const fresh = freshSeeds(20);
  it(`reach every free drone and give each to one delivery (fixed seeds and fresh seeds ${fresh.slice(0, 3).join(', ')}, …)`, async () => {
    const problems: string[] = [];
    for (const seed of [...FIXED_SEEDS, ...fresh]) problems.push(...(await scenario(seed)));
    expect(problems, 'replay a seed by adding it to FIXED_SEEDS').toEqual([]);
  }, 180_000);
});
