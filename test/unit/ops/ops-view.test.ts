/** Late and stuck from the time since a delivery's last event against its stage's SLA; counts per stage; lag per partition. */
import { describe, expect, it } from 'vitest';
import { deliveryFlags, partitionLag, stageCounts } from '../../../domain/ops/ops-view';
import type { DeliveryStatusView } from '../../../domain/delivery/status';

const MIN = 60_000;
const sla = { assignmentSlaMs: 5 * MIN, pickupSlaMs: 30 * MIN, deliverySlaMs: 60 * MIN, supervisorGraceMs: 5 * MIN };
const now = new Date('2026-12-02T12:00:00Z');
const view = (stage: DeliveryStatusView['stage'], idleMin: number): DeliveryStatusView => ({
  deliveryId: 'd',
  ownerId: 'o',
  stage,
  version: 3,
  updatedAt: new Date(now.getTime() - idleMin * MIN).toISOString(),
});

describe('deliveryFlags', () => {
  it('is neither late nor stuck within its stage SLA, late past it, stuck past it plus the grace', () => {
    expect(deliveryFlags(view('Scheduled', 29), now, sla)).toMatchObject({
      late: false,
      stuck: false,
      idleMs: 29 * MIN,
    });
    expect(deliveryFlags(view('Scheduled', 31), now, sla)).toMatchObject({ late: true, stuck: false });
    expect(deliveryFlags(view('Scheduled', 36), now, sla)).toMatchObject({ late: true, stuck: true });
    expect(deliveryFlags(view('Requested', 6), now, sla)).toMatchObject({ late: true, stuck: false });
    expect(deliveryFlags(view('InTransit', 61), now, sla)).toMatchObject({ late: true, stuck: false });
  });

  it('never marks a finished delivery, however old', () => {
    for (const stage of ['Delivered', 'Cancelled', 'Failed'] as const)
      expect(deliveryFlags(view(stage, 10_000), now, sla)).toMatchObject({ late: false, stuck: false });
  });
});

describe('stageCounts and partitionLag', () => {
  it('counts every stage, zero included', () => {
    expect(stageCounts([view('Delivered', 1), view('Delivered', 2), view('Failed', 1)])).toEqual({
      Requested: 0,
      Scheduled: 0,
      PickedUp: 0,
      InTransit: 0,
      Delivered: 2,
      Cancelled: 0,
      Failed: 1,
    });
  });

  it('is what was enqueued after the checkpoint; everything before a first checkpoint; never negative', () => {
    expect(partitionLag({ partitionId: '0', lastEnqueuedSequenceNumber: 41, checkpointSequenceNumber: 39 })).toBe(2);
    expect(
      partitionLag({ partitionId: '0', lastEnqueuedSequenceNumber: 41, checkpointSequenceNumber: undefined }),
    ).toBe(42);
    expect(
      partitionLag({ partitionId: '0', lastEnqueuedSequenceNumber: -1, checkpointSequenceNumber: undefined }),
    ).toBe(0);
    expect(partitionLag({ partitionId: '0', lastEnqueuedSequenceNumber: 5, checkpointSequenceNumber: 5 })).toBe(0);
  });
});
