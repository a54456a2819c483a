/** The status projection as specifications: given a delivery's events, then its view. */
import { describe, expect, it } from 'vitest';
import { deliveryEvent } from '../../../domain/delivery/events';
import { evolveStatus, foldStatus, gaplessPrefix } from '../../../domain/delivery/status';
import { deliveryStream } from '../../support/delivery';

describe('delivery status projection', () => {
  it('starts Requested, owned by the requester, at version 1', () => {
    const [requested] = deliveryStream('d1');
    expect(foldStatus([requested!])).toEqual({
      deliveryId: 'd1',
      ownerId: 'owner-1',
      stage: 'Requested',
      version: 1,
      updatedAt: requested!.occurredAt,
    });
  });

  it('names the drone once assigned, and is Scheduled once the delivery is scheduled', () => {
    const events = deliveryStream('d1');
    expect(foldStatus(events.slice(0, 3))).toMatchObject({ stage: 'Requested', droneId: 'drone-7', version: 3 });
    expect(foldStatus(events.slice(0, 4))).toMatchObject({ stage: 'Scheduled', droneId: 'drone-7', version: 4 });
  });

  it('follows the milestones and keeps the last known location from their positions', () => {
    const events = deliveryStream('d1', 'delivered');
    expect(foldStatus(events.slice(0, 5))).toMatchObject({
      stage: 'PickedUp',
      lastKnownLocation: { lat: 47.64, lon: -122.13, altitudeM: 3 },
    });
    expect(foldStatus(events.slice(0, 6))).toMatchObject({
      stage: 'InTransit',
      lastKnownLocation: { lat: 47.63, lon: -122.16, altitudeM: 120 },
    });
    const done = foldStatus(events);
    expect(done).toEqual({
      deliveryId: 'd1',
      ownerId: 'owner-1',
      stage: 'Delivered',
      droneId: 'drone-7',
      lastKnownLocation: { lat: 47.61, lon: -122.2, altitudeM: 2 },
      version: 7,
      updatedAt: events[6]!.occurredAt,
    });
    expect(done).not.toHaveProperty('failureReason');
  });

  it('keeps the last location when a milestone carries no position', () => {
    const events = deliveryStream('d1', 'delivered');
    const transit = events[5]!;
    const noPosition = deliveryEvent('DeliveryInTransit', 'd1', 6, transit.occurredAt, transit.correlationId, {
      droneId: 'drone-7',
    });
    expect(foldStatus([...events.slice(0, 5), noPosition])).toMatchObject({
      stage: 'InTransit',
      lastKnownLocation: { lat: 47.64, lon: -122.13, altitudeM: 3 },
    });
  });

  it('ends Failed with the reason, and compensations afterwards only advance the version', () => {
    const events = deliveryStream('d1', 'failed');
    expect(foldStatus(events.slice(0, 5))).toMatchObject({
      stage: 'Failed',
      failureReason: 'pickup SLA missed',
      version: 5,
    });
    expect(foldStatus(events)).toMatchObject({
      stage: 'Failed',
      failureReason: 'pickup SLA missed',
      droneId: 'drone-7',
      version: 7,
      updatedAt: events[6]!.occurredAt,
    });
  });

  it('ends Cancelled and stays Cancelled through its compensations', () => {
    const view = foldStatus(deliveryStream('d1', 'cancelled'));
    expect(view).toMatchObject({ stage: 'Cancelled', version: 7 });
    expect(view).not.toHaveProperty('failureReason');
  });

  it('does not leave a finished stage for a late event', () => {
    const events = deliveryStream('d1', 'cancelled');
    const late = deliveryEvent('PackagePickedUp', 'd1', 8, '2026-11-22T11:00:00.000Z', 'c', {
      droneId: 'drone-9',
      position: { lat: 1, lon: 2, altitudeM: 3 },
    });
    const view = foldStatus([...events, late]);
    expect(view).toMatchObject({ stage: 'Cancelled', droneId: 'drone-7', version: 8 });
    expect(view).not.toHaveProperty('lastKnownLocation');
  });

  it("refuses a stream that does not start with DeliveryRequested, or another delivery's event", () => {
    const events = deliveryStream('d1');
    expect(() => evolveStatus(undefined, events[1]!)).toThrow(/must start with DeliveryRequested/);
    expect(() => evolveStatus(foldStatus(events.slice(0, 1)), deliveryStream('d2')[1]!)).toThrow(
      /folded into the status of d1/,
    );
  });

  it('folds the gapless prefix only: what lies past a gap waits for it', () => {
    const events = deliveryStream('d1');
    const arrived = [events[3]!, events[0]!, events[1]!, events[1]!, events[5]!];
    expect(gaplessPrefix(arrived).map((e) => e.sequence)).toEqual([1, 2]);
    expect(foldStatus(gaplessPrefix(arrived))).toMatchObject({ version: 2, stage: 'Requested' });
    expect(gaplessPrefix([...arrived, events[2]!]).map((e) => e.sequence)).toEqual([1, 2, 3, 4]);
    expect(gaplessPrefix([events[1]!])).toEqual([]);
  });
});
