import { describe, expect, it } from 'vitest';
import { candidateOrder, EQUALLY_NEAR_M } from '../../../domain/delivery/scheduling';
import type { DroneCandidate } from '../../../domain/delivery/scheduling';

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
