import { describe, expect, it } from 'vitest';
import { candidateOrder, dronesInReach, EQUALLY_NEAR_M, rankDrones } from '../../../domain/delivery/scheduling';
import type { DroneCandidate } from '../../../domain/delivery/scheduling';
import type { DroneState } from '../../../domain/telemetry/drone-state';
import { Random } from '../../../tools/simulation/random';

const at = (droneId: string, distanceM: number): DroneCandidate => ({
  droneId,
  distanceM,
  position: { lat: 0, lon: 0 },
});
const ids = (cs: readonly DroneCandidate[]) => cs.map((c) => c.droneId);

describe('the order in which a delivery tries the ranked drones', () => {
  const equallyNear = Array.from({ length: 20 }, (_, i) => at(`near-${String(i).padStart(2, '0')}`, 100 + i));
  const further = [at('further-a', 100 + EQUALLY_NEAR_M + 1), at('further-b', 5_000)];
  const ranked = [...equallyNear, ...further];

  it('tries every ranked drone exactly once', () => {
    const order = candidateOrder(ranked, 'delivery-1');
    expect([...ids(order)].sort()).toEqual([...ids(ranked)].sort());
  });

  it('tries the drones about as near as the nearest before any further one, and the further ones nearest first', () => {
    const order = ids(candidateOrder(ranked, 'delivery-1'));
    expect(new Set(order.slice(0, equallyNear.length))).toEqual(new Set(ids(equallyNear)));
    expect(order.slice(equallyNear.length)).toEqual(['further-a', 'further-b']);
  });

  it('gives the same delivery the same order every time, however the drones were listed, so a retried attempt tries the same drones', () => {
    const order = ids(candidateOrder(ranked, 'delivery-7'));
    expect(ids(candidateOrder(ranked, 'delivery-7'))).toEqual(order);
    expect(ids(candidateOrder([...ranked].reverse(), 'delivery-7'))).toEqual(order);
  });

  it('spreads deliveries requested at one spot over the equally near drones instead of all racing for one', () => {
    const firstChoices = new Set(
      Array.from({ length: 200 }, (_, i) => candidateOrder(equallyNear, `delivery-${i}`)[0]?.droneId),
    );
    // 200 deliveries over 20 drones: a fair spread leaves almost none unchosen.
    expect(firstChoices.size).toBeGreaterThanOrEqual(18);
  });

  it('keeps a clearly nearer drone first for every delivery', () => {
    const clear = [at('nearest', 10), at('next', 10 + EQUALLY_NEAR_M + 1)];
    for (let i = 0; i < 50; i++) expect(candidateOrder(clear, `delivery-${i}`)[0]?.droneId).toBe('nearest');
  });

  it('has nothing to try when no drone is ranked', () => {
    expect(candidateOrder([], 'delivery-1')).toEqual([]);
  });
});

/**
 * The order as first specified, with whole sorts: the equally near drones by the hash of
 * `${deliveryId}\u0000${droneId}` (FNV-1a, then MurmurHash3's finaliser), then the rest nearest
 * first. The limited order must be exactly its first drones.
 */
function referenceOrder(ranked: readonly DroneCandidate[], deliveryId: string): string[] {
  const hash = (text: string): number => {
    let h = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    return (h ^ (h >>> 16)) >>> 0;
  };
  const byId = (a: DroneCandidate, b: DroneCandidate) => (a.droneId < b.droneId ? -1 : a.droneId > b.droneId ? 1 : 0);
  const bound = Math.min(...ranked.map((c) => c.distanceM)) + EQUALLY_NEAR_M;
  const near = ranked
    .filter((c) => c.distanceM <= bound)
    .sort((a, b) => hash(`${deliveryId}\u0000${a.droneId}`) - hash(`${deliveryId}\u0000${b.droneId}`) || byId(a, b));
  const rest = ranked.filter((c) => c.distanceM > bound).sort((a, b) => a.distanceM - b.distanceM || byId(a, b));
  return [...near, ...rest].map((c) => c.droneId);
}

describe('the first drones a delivery tries, picked from a large fleet without sorting all of it', () => {
  // Fleets from a seed: drones bunched at a few spots (so many are equally near and many
  // distances tie), listed in a random order, with limits below, at and above each group's size.
  const SEEDS = Array.from({ length: 60 }, (_, i) => 9_100 + i);
  it.each(SEEDS)('seed %i: the limited order is the first drones of the whole order', (seed) => {
    const rnd = new Random(seed);
    const n = rnd.int(0, 400);
    const spots = Array.from({ length: rnd.int(1, 4) }, () => rnd.int(0, 3_000));
    const fleet = Array.from({ length: n }, (_, i) =>
      at(`drone-${rnd.int(0, 99_999)}-${i}`, rnd.pick(spots) + rnd.int(0, 3) * 75),
    );
    const deliveryId = `delivery-${rnd.int(0, 9_999)}`;
    const whole = referenceOrder(fleet, deliveryId);
    expect(ids(candidateOrder(fleet, deliveryId)), `seed ${seed}: whole order`).toEqual(whole);
    const nearCount = fleet.filter(
      (c) => c.distanceM <= Math.min(...fleet.map((f) => f.distanceM)) + EQUALLY_NEAR_M,
    ).length;
    for (const limit of [0, 1, 7, nearCount - 1, nearCount, nearCount + 3, 100, n - 1, n, n + 5]) {
      if (limit < 0) continue;
      expect(ids(candidateOrder(fleet, deliveryId, EQUALLY_NEAR_M, limit)), `seed ${seed}, limit ${limit}`).toEqual(
        whole.slice(0, limit),
      );
    }
  });

  it('reads a limit as a count of drones: a fraction counts down, a negative or NaN limit as none', () => {
    const fleet = [at('a', 10), at('b', 20), at('c', 30)];
    const whole = ids(candidateOrder(fleet, 'delivery-3'));
    expect(ids(candidateOrder(fleet, 'delivery-3', EQUALLY_NEAR_M, 2.5))).toEqual(whole.slice(0, 2));
    expect(candidateOrder(fleet, 'delivery-3', EQUALLY_NEAR_M, -1)).toEqual([]);
    expect(candidateOrder(fleet, 'delivery-3', EQUALLY_NEAR_M, Number.NaN)).toEqual([]);
  });

  it('ranks the same drones that are in reach, only in order', () => {
    const state = (droneId: string, lat: number, extra: Partial<DroneState> = {}): DroneState => ({
      droneId,
      status: 'Idle',
      position: { lat, lon: -122.33, altitudeM: 0 },
      batteryPct: 90,
      speedMps: 0,
      sequence: 1,
      reportedAt: '2026-11-22T10:00:00Z',
      ...extra,
    });
    const fleet = [
      state('c', 47.63),
      state('a', 47.61),
      state('stale', 47.61, { reportedAt: '2026-11-22T09:00:00Z' }),
      state('b', 47.62),
      state('far', 48.5),
      state('busy', 47.61, { deliveryId: 'other' }),
    ];
    const args = [
      fleet,
      { lat: 47.61, lon: -122.33 },
      { now: new Date('2026-11-22T10:05:00Z'), freshnessMs: 10 * 60_000 },
      25_000,
    ] as const;
    expect(ids(dronesInReach(...args))).toEqual(['c', 'a', 'b']);
    expect(ids(rankDrones(...args))).toEqual(['a', 'b', 'c']);
  });
});
