import { describe, expect, it } from 'vitest';
import { applyMilestone, completeBy, milestoneDeadlines } from '../../../domain/delivery/saga';
import type { SagaProgress } from '../../../domain/delivery/saga';
import { rankDrones, schedule } from '../../../domain/delivery/scheduling';
import { superviseSaga } from '../../../domain/delivery/supervisor';
import type { SagaSnapshot } from '../../../domain/delivery/supervisor';
import { stateFromTelemetry } from '../../../domain/telemetry/drone-state';
import { telemetry } from '../../support/telemetry';

const request = {
  ownerId: 'o',
  pickup: { lat: 47.61, lon: -122.33 },
  dropoff: { lat: 47.62, lon: -122.35 },
  expedited: false,
  package: { size: 'small' as const, weightKg: 1 },
};
const sla = {
  pickupSlaMs: 30 * 60_000,
  deliverySlaMs: 120 * 60_000,
  assignmentSlaMs: 10 * 60_000,
  assignmentRetryMs: 30_000,
};

describe('the saga plan', () => {
  it('moves forward on milestones only: duplicates and late ones are ignored, skipped ones accepted', () => {
    expect(applyMilestone('Scheduled', 'PackagePickedUp')).toBe('PickedUp');
    expect(applyMilestone('PickedUp', 'PackagePickedUp')).toBeUndefined();
    expect(applyMilestone('InTransit', 'PackagePickedUp')).toBeUndefined();
    expect(applyMilestone('Scheduled', 'DeliveryCompleted')).toBe('Delivered');
    expect(applyMilestone('Delivered', 'DeliveryInTransit')).toBeUndefined();
    expect(applyMilestone('Scheduling', 'PackagePickedUp')).toBeUndefined();
    expect(applyMilestone('Cancelled', 'DeliveryCompleted')).toBeUndefined();
  });

  it('times the SLAs from scheduling, and a request deadline can only shorten the delivery SLA', () => {
    const at = new Date('2026-11-22T10:00:00Z');
    expect(milestoneDeadlines(at, request, sla)).toEqual({
      pickupBy: new Date('2026-11-22T10:30:00Z'),
      deliverBy: new Date('2026-11-22T12:00:00Z'),
    });
    const withDeadline = milestoneDeadlines(at, { ...request, deadline: '2026-11-22T11:00:00.000Z' }, sla);
    expect(withDeadline.deliverBy).toEqual(new Date('2026-11-22T11:00:00Z'));
    expect(completeBy(at, request, sla)).toEqual(new Date('2026-11-22T12:10:00Z'));
  });
});

describe('the drone scheduler and delivery agent decisions', () => {
  const drone = (droneId: string, lat: number, lon: number, extra = {}) =>
    stateFromTelemetry(telemetry({ droneId, position: { lat, lon, altitudeM: 0 }, ...extra }));
  it('ranks available drones within reach, nearest first, ties by id', () => {
    const ranked = rankDrones(
      [
        drone('far', 47.7, -122.5),
        drone('b', 47.61, -122.33),
        drone('a', 47.61, -122.33),
        drone('busy', 47.61, -122.33, { deliveryId: 'x' }),
        drone('low', 47.61, -122.33, { batteryPct: 10 }),
        drone('away', -33.9, 18.4),
      ],
      { lat: 47.61, lon: -122.33 },
      { now: new Date('2026-11-22T10:05:00Z'), freshnessMs: 10 * 60_000 },
      25_000,
    );
    expect(ranked.map((r) => r.droneId)).toEqual(['a', 'b', 'far']);
  });

  it('passes over a drone that still says Idle but has not reported for longer than the freshness limit, however near', () => {
    const now = new Date('2026-11-22T10:20:00Z');
    const ranked = rankDrones(
      [
        drone('silent-nearest', 47.61, -122.33, { timestamp: '2026-11-22T10:09:59Z' }),
        drone('fresh-further', 47.62, -122.34, { timestamp: '2026-11-22T10:19:00Z' }),
        drone('at-limit', 47.63, -122.35, { timestamp: '2026-11-22T10:10:00Z' }),
      ],
      { lat: 47.61, lon: -122.33 },
      { now, freshnessMs: 10 * 60_000 },
    );
    expect(ranked.map((r) => r.droneId)).toEqual(['fresh-further', 'at-limit']);
  });

  it('computes ETAs from distance and cruise speed, and refuses an unreachable deadline', () => {
    const now = new Date('2026-11-22T10:00:00Z');
    const base = {
      now,
      dronePosition: { lat: 47.61, lon: -122.33 },
      pickup: { lat: 47.61, lon: -122.33 },
      dropoff: { lat: 47.61, lon: -122.33 + 0.0132 },
      cruiseSpeedMps: 10,
      handlingSeconds: 60,
    };
    const ok = schedule(base);
    expect(ok.ok).toBe(true);
    if (ok.ok) {
      expect(ok.pickupEta).toBe('2026-11-22T10:01:00.000Z');
      expect(Date.parse(ok.dropoffEta) - Date.parse(ok.pickupEta)).toBeGreaterThan(150_000);
    }
    const late = schedule({ ...base, deadline: '2026-11-22T10:02:00Z' });
    expect(late).toMatchObject({ ok: false, code: 'DeadlineUnreachable' });
  });
});

describe("the supervisor's verdict", () => {
  const now = new Date('2026-11-22T12:00:00Z');
  const policy = { graceMs: 60_000, escalateAfterMs: 600_000, pendingTooLongMs: 600_000 };
  const steps = ['CreatePackage', 'AssignDrone', 'ScheduleDelivery'] as const;
  const progress = (p: Partial<SagaProgress> = {}): SagaProgress => ({
    stage: 'Scheduled',
    completedSteps: steps,
    attemptedSteps: steps,
    compensated: [],
    closed: [],
    completeBy: '2026-11-22T11:00:00.000Z',
    sequence: 4,
    outbox: [],
    ...p,
  });
  const snap = (s: Partial<SagaSnapshot>): SagaSnapshot => ({
    instanceId: 'd',
    runtimeStatus: 'Running',
    createdAt: new Date('2026-11-22T09:00:00Z'),
    lastUpdatedAt: now,
    progress: progress(),
    recoveryExists: false,
    ...s,
  });

  it('asks a running saga past its complete-by time to compensate, then escalates if it does not', () => {
    expect(
      superviseSaga(snap({ progress: progress({ completeBy: '2026-11-22T13:00:00Z' }) }), now, policy).action,
    ).toBe('none');
    expect(superviseSaga(snap({}), now, policy).action).toBe('requestCompensation');
    expect(superviseSaga(snap({ supervisorRequestedAt: new Date('2026-11-22T11:59:00Z') }), now, policy).action).toBe(
      'none',
    );
    expect(superviseSaga(snap({ supervisorRequestedAt: new Date('2026-11-22T11:00:00Z') }), now, policy).action).toBe(
      'alert',
    );
  });

  it('recovers a failed or terminated saga that had not finished, once', () => {
    expect(superviseSaga(snap({ runtimeStatus: 'Failed' }), now, policy).action).toBe('recover');
    expect(superviseSaga(snap({ runtimeStatus: 'Terminated' }), now, policy).action).toBe('recover');
    expect(
      superviseSaga(
        snap({ runtimeStatus: 'Terminated', recoveryExists: true, recoveryStatus: 'Completed' }),
        now,
        policy,
      ).action,
    ).toBe('none');
    expect(
      superviseSaga(snap({ runtimeStatus: 'Terminated', recoveryExists: true, recoveryStatus: 'Failed' }), now, policy)
        .action,
    ).toBe('alert');
    expect(superviseSaga(snap({ runtimeStatus: 'Terminated', intakeClosed: true }), now, policy).action).toBe('none');
    expect(
      superviseSaga(snap({ runtimeStatus: 'Failed', progress: progress({ finished: true }) }), now, policy).action,
    ).toBe('none');
    const noProgress: SagaSnapshot = {
      instanceId: 'd',
      runtimeStatus: 'Failed',
      createdAt: now,
      lastUpdatedAt: now,
      recoveryExists: false,
    };
    expect(superviseSaga(noProgress, now, policy).action).toBe('alert');
  });

  it('resumes a suspended saga, reports one pending too long, and leaves completed ones alone', () => {
    expect(superviseSaga(snap({ runtimeStatus: 'Suspended' }), now, policy).action).toBe('resume');
    expect(
      superviseSaga(snap({ runtimeStatus: 'Pending', createdAt: new Date('2026-11-22T11:00:00Z') }), now, policy)
        .action,
    ).toBe('alert');
    expect(
      superviseSaga(snap({ runtimeStatus: 'Pending', createdAt: new Date('2026-11-22T11:58:00Z') }), now, policy)
        .action,
    ).toBe('none');
    expect(superviseSaga(snap({ runtimeStatus: 'Completed' }), now, policy).action).toBe('none');
  });
});
