import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DRONE_FRESHNESS_MS,
  evolveDrone,
  foldDrone,
  isAssignable,
  isAvailable,
  isStale,
} from '../../../domain/telemetry/drone-state';
import { groupByDrone, planDrone } from '../../../domain/telemetry/batch';
import { DRONE_STATUSES } from '../../../domain/telemetry/schema';
import type { Telemetry } from '../../../domain/telemetry/schema';
import { telemetry } from '../../support/telemetry';

describe('the drone state fold', () => {
  it('takes the first event as the state', () => {
    const s = evolveDrone(undefined, telemetry({ sequence: 3 }));
    expect(s).toMatchObject({ droneId: 'drone-1', sequence: 3, status: 'Idle', reportedAt: '2026-11-22T10:00:05Z' });
  });

  it('moves forward on a higher sequence, replacing every field', () => {
    const s1 = evolveDrone(undefined, telemetry({ sequence: 1, status: 'EnRouteToPickup', deliveryId: 'd-1' }));
    const s2 = evolveDrone(s1, telemetry({ sequence: 2, status: 'Returning' }));
    expect(s2?.sequence).toBe(2);
    expect(s2?.status).toBe('Returning');
    expect(s2?.deliveryId).toBeUndefined();
  });

  it('ignores a duplicate and an older sequence (never moves backwards)', () => {
    const s5 = evolveDrone(undefined, telemetry({ sequence: 5, batteryPct: 50 }));
    expect(evolveDrone(s5, telemetry({ sequence: 5, batteryPct: 10 }))).toBe(s5);
    expect(evolveDrone(s5, telemetry({ sequence: 4, batteryPct: 99 }))).toBe(s5);
  });

  it('refuses to fold another drone into a state', () => {
    const s = evolveDrone(undefined, telemetry({ droneId: 'a' }));
    expect(() => evolveDrone(s, telemetry({ droneId: 'b', sequence: 2 }))).toThrow(
      /telemetry for b folded into state of a/,
    );
  });

  const arbEvent = (droneId: string): fc.Arbitrary<Telemetry> =>
    fc
      .record({
        sequence: fc.integer({ min: 0, max: 50 }),
        status: fc.constantFrom(...DRONE_STATUSES),
        batteryPct: fc.double({ min: 0, max: 100, noNaN: true }),
      })
      .map((r) => telemetry({ droneId, ...r }));

  it('folds any permutation with any duplicates to the in-order state (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(arbEvent('p'), { selector: (t) => t.sequence, minLength: 1, maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.integer(),
        (events, dupIdx, seed) => {
          const inOrder = foldDrone([...events].sort((a, b) => a.sequence - b.sequence));
          const dups = dupIdx.map((i) => events[i % events.length] as Telemetry);
          const shuffled =
            fc.sample(fc.shuffledSubarray([...events, ...dups], { minLength: events.length + dups.length }), {
              seed,
              numRuns: 1,
            })[0] ?? [];
          expect(foldDrone(shuffled)).toEqual(inOrder);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('availability for scheduling', () => {
  const reportedAt = '2026-11-22T10:00:00Z';
  const base = { status: 'Idle' as const, batteryPct: 30, reportedAt };
  const now = new Date('2026-11-22T10:05:00Z');
  const TEN_MIN = DEFAULT_DRONE_FRESHNESS_MS;

  it('is an Idle drone with battery ≥ 30%, no delivery and a report at most DroneFreshnessMinutes old', () => {
    expect(isAvailable(base, now, TEN_MIN)).toBe(true);
    expect(isAvailable({ ...base, batteryPct: 29.99 }, now, TEN_MIN)).toBe(false);
    expect(isAvailable({ ...base, deliveryId: 'd-1' }, now, TEN_MIN)).toBe(false);
    for (const status of DRONE_STATUSES.filter((s) => s !== 'Idle'))
      expect(isAvailable({ ...base, status }, now, TEN_MIN)).toBe(false);
  });

  it('given an Idle, charged, free drone whose last report is 10 minutes old, it is available; a millisecond later it is stale and not', () => {
    const atLimit = new Date(Date.parse(reportedAt) + TEN_MIN);
    const pastLimit = new Date(atLimit.getTime() + 1);
    expect(isStale(base, atLimit, TEN_MIN)).toBe(false);
    expect(isAvailable(base, atLimit, TEN_MIN)).toBe(true);
    expect(isStale(base, pastLimit, TEN_MIN)).toBe(true);
    expect(isAvailable(base, pastLimit, TEN_MIN)).toBe(false);
    // The time-free rules alone still hold: the stored flag is unchanged by age.
    expect(isAssignable(base)).toBe(true);
  });

  it('takes the limit it is given, and counts a report stamped ahead of now as fresh and an unreadable one as stale', () => {
    expect(isAvailable(base, now, 4 * 60_000)).toBe(false);
    expect(isAvailable(base, now, 5 * 60_000)).toBe(true);
    expect(isStale({ reportedAt: '2026-11-22T10:30:00Z' }, now, TEN_MIN)).toBe(false);
    expect(isStale({ reportedAt: 'not a time' }, now, TEN_MIN)).toBe(true);
  });
});

describe('planning one drone of a batch', () => {
  it('coalesces to the newest event and dedupes by sequence', () => {
    const groups = groupByDrone([
      telemetry({ droneId: 'a', sequence: 3 }),
      telemetry({ droneId: 'b', sequence: 1 }),
      telemetry({ droneId: 'a', sequence: 1 }),
      telemetry({ droneId: 'a', sequence: 3 }),
    ]);
    expect([...groups.keys()].sort()).toEqual(['a', 'b']);
    expect(groups.get('a')?.map((t) => t.sequence)).toEqual([1, 3]);
    expect(planDrone(undefined, groups.get('a') ?? []).next?.sequence).toBe(3);
  });

  it('raises each milestone newer than the stored state once, in sequence order', () => {
    const events = [
      telemetry({ sequence: 1, status: 'EnRouteToPickup', deliveryId: 'd' }),
      telemetry({ sequence: 2, status: 'PickedUp', deliveryId: 'd' }),
      telemetry({ sequence: 3, status: 'PickedUp', deliveryId: 'd' }),
      telemetry({ sequence: 4, status: 'EnRouteToDropoff', deliveryId: 'd' }),
      telemetry({ sequence: 5, status: 'Delivered', deliveryId: 'd' }),
      telemetry({ sequence: 6, status: 'Returning' }),
    ];
    const plan = planDrone(undefined, events);
    expect(plan.milestones.map((m) => [m.name, m.sequence])).toEqual([
      ['PackagePickedUp', 2],
      ['DeliveryInTransit', 4],
      ['DeliveryCompleted', 5],
    ]);
    const later = planDrone(evolveDrone(undefined, events[2] as Telemetry), events);
    expect(later.milestones.map((m) => m.name)).toEqual(['DeliveryInTransit', 'DeliveryCompleted']);
    expect(later.staleEvents).toBe(3);
  });

  it('plans nothing when every event is at or behind the stored state', () => {
    const stored = evolveDrone(undefined, telemetry({ sequence: 9 }));
    const plan = planDrone(stored, [
      telemetry({ sequence: 8, status: 'PickedUp', deliveryId: 'd' }),
      telemetry({ sequence: 9 }),
    ]);
    expect(plan).toEqual({ next: undefined, milestones: [], staleEvents: 2 });
  });

  it('raises no milestone for a milestone status without a delivery', () => {
    expect(planDrone(undefined, [telemetry({ status: 'Delivered' })]).milestones).toEqual([]);
  });
});
