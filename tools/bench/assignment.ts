/**
 * The drone scheduler's choice at fleet scale: how long one assignment takes to pick the drones
 * it will try (at most `maxCandidates`, 100) from a fleet answer of 300 and of 10,000 available
 * drones at one spot, the case where every drone is equally near and all of them are candidates.
 * Beside it, the same choice with the whole fleet ranked and ordered (`rankDrones`, then
 * `candidateOrder` without a limit, then the first 100): the sorts an assignment made before it
 * took only its first drones. The baseline already hashes each delivery's part once, as the
 * assignment does now, so the ratio is the heap against the sorts alone and understates the gain
 * over the code before. test/unit/delivery/scheduling.test.ts shows both give the same drones.
 */
import { candidateOrder, dronesInReach, EQUALLY_NEAR_M, rankDrones } from '../../domain/delivery/scheduling';
import type { DroneState } from '../../domain/telemetry/drone-state';
import { opsPerSecond, sideBySide } from './harness';
import type { Row } from './harness';

const PICKUP = { lat: 47.61, lon: -122.33 };
const FRESHNESS = { now: new Date('2026-11-22T10:01:00Z'), freshnessMs: 10 * 60_000 };
const MAX_DISTANCE_M = 20_000;
const MAX_CANDIDATES = 100;

function fleetAtOneSpot(size: number): DroneState[] {
  return Array.from({ length: size }, (_, i) => ({
    droneId: `drone-${String(i).padStart(5, '0')}`,
    status: 'Idle',
    position: { lat: PICKUP.lat + (i % 7) * 1e-5, lon: PICKUP.lon, altitudeM: 0 },
    batteryPct: 90,
    speedMps: 0,
    sequence: 1,
    reportedAt: '2026-11-22T10:00:00Z',
  }));
}

export async function benchAssignment(opts: { quick: boolean }): Promise<Row[]> {
  const ms = opts.quick ? 20 : 400;
  const rounds = opts.quick ? 1 : 5;
  const rows: Row[] = [];
  for (const size of [300, 10_000]) {
    const fleet = fleetAtOneSpot(size);
    let k = 0;
    const limited = (): number =>
      candidateOrder(
        dronesInReach(fleet, PICKUP, FRESHNESS, MAX_DISTANCE_M),
        `delivery-${k++}`,
        EQUALLY_NEAR_M,
        MAX_CANDIDATES,
      ).length;
    const wholeFleet = (): number =>
      candidateOrder(rankDrones(fleet, PICKUP, FRESHNESS, MAX_DISTANCE_M), `delivery-${k++}`).slice(0, MAX_CANDIDATES)
        .length;
    if (limited() !== MAX_CANDIDATES || wholeFleet() !== MAX_CANDIDATES)
      throw new Error(`assignment bench: expected ${MAX_CANDIDATES} candidates from ${size} drones`);
    const r = await sideBySide(
      () => opsPerSecond(limited, 1, ms),
      () => opsPerSecond(wholeFleet, 1, ms),
      rounds,
    );
    rows.push({
      metric: `assignment: drones to try, picked from ${size.toLocaleString('en-US')} at one spot`,
      ours: r.ours,
      baseline: r.baseline,
      ratio: r.ours / r.baseline,
      target: 'info',
      unit: 'assignments/s vs the whole fleet ranked and ordered',
      note: `the first ${MAX_CANDIDATES} of the delivery's order, kept in a bounded heap; the baseline sorts every drone twice (by distance, then the equally near by the delivery's hash)`,
    });
  }
  return rows;
}
