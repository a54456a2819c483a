/**
 * Delivery event streams for the history and Capture benchmarks: each delivery's happy path as
 * its saga emits it (requested, package, drone, schedule, the three milestones), numbered 1..8,
 * with ids unique per run so an idempotent store never mistakes a round for a replay.
 */
import { deliveryEvent } from '../../domain/delivery/events';
import type { DeliveryEvent } from '../../domain/delivery/events';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const at = (i: number, step: number): string => new Date(T0 + i * 1000 + step * 60_000).toISOString();

/** The eight events of one delivered delivery. */
export function happyStream(deliveryId: string, i: number): DeliveryEvent[] {
  const droneId = `drone-${i % 50}`;
  const position = { lat: 47.61 + (i % 10) / 1000, lon: -122.33, altitudeM: 80 };
  return [
    deliveryEvent('DeliveryRequested', deliveryId, 1, at(i, 0), deliveryId, {
      ownerId: `owner-${i % 20}`,
      pickup: { lat: 47.61, lon: -122.33 },
      dropoff: { lat: 47.62, lon: -122.35 },
      expedited: false,
      package: { size: 'small', weightKg: 1.5 },
    }),
    deliveryEvent('PackageCreated', deliveryId, 2, at(i, 1), deliveryId, {
      packageId: `pkg-${deliveryId}`,
      size: 'small',
      weightKg: 1.5,
    }),
    deliveryEvent('DroneAssigned', deliveryId, 3, at(i, 2), deliveryId, { droneId, distanceToPickupM: 420 }),
    deliveryEvent('DeliveryScheduled', deliveryId, 4, at(i, 3), deliveryId, {
      droneId,
      pickupEta: at(i, 10),
      dropoffEta: at(i, 25),
    }),
    deliveryEvent('PackagePickedUp', deliveryId, 5, at(i, 10), deliveryId, {
      droneId,
      position,
      reportedAt: at(i, 10),
    }),
    deliveryEvent('DeliveryInTransit', deliveryId, 6, at(i, 11), deliveryId, {
      droneId,
      position,
      reportedAt: at(i, 11),
    }),
    deliveryEvent('DeliveryCompleted', deliveryId, 7, at(i, 25), deliveryId, {
      droneId,
      position,
      reportedAt: at(i, 25),
    }),
    deliveryEvent('DroneReleased', deliveryId, 8, at(i, 26), deliveryId, { droneId, reason: 'delivered' }),
  ];
}

/** `deliveries` happy streams, in saga order per delivery, deliveries interleaved as a partition would hold them. */
export function deliveryEvents(prefix: string, deliveries: number): DeliveryEvent[] {
  const streams = Array.from({ length: deliveries }, (_, i) => happyStream(`${prefix}-${i}`, i));
  const out: DeliveryEvent[] = [];
  for (let step = 0; step < 8; step++) for (const s of streams) if (s[step]) out.push(s[step] as DeliveryEvent);
  return out;
}

/** One delivery of `length` events: requested, then position reports in transit (a long-running stream). */
export function longStream(deliveryId: string, i: number, length: number): DeliveryEvent[] {
  const droneId = `drone-${i % 50}`;
  const events: DeliveryEvent[] = [happyStream(deliveryId, i)[0] as DeliveryEvent];
  for (let s = 2; s <= length; s++) {
    const position = { lat: 47.61 + s / 10_000, lon: -122.33, altitudeM: 80 };
    events.push(
      deliveryEvent('DeliveryInTransit', deliveryId, s, at(i, s), deliveryId, {
        droneId,
        position,
        reportedAt: at(i, s),
      }),
    );
  }
  return events;
}
