/** Builders for delivery event streams (docs/contract.md §3) used across specifications. */
import { deliveryEvent } from '../../domain/delivery/events';
import type { DeliveryEvent } from '../../domain/delivery/events';

export type Ending = 'delivered' | 'cancelled' | 'failed' | 'inFlight';

const at = (minute: number): string => new Date(Date.UTC(2026, 10, 22, 10, minute, 0)).toISOString();

/** A delivery's whole stream, numbered 1..n as its saga writes it. */
export function deliveryStream(
  deliveryId: string,
  ending: Ending = 'delivered',
  opts: { ownerId?: string; droneId?: string } = {},
): DeliveryEvent[] {
  const ownerId = opts.ownerId ?? 'owner-1';
  const droneId = opts.droneId ?? 'drone-7';
  const corr = `corr-${deliveryId}`;
  let seq = 0;
  const next = <K extends Parameters<typeof deliveryEvent>[0]>(
    type: K,
    data: Parameters<typeof deliveryEvent<K>>[5],
  ): DeliveryEvent => {
    seq += 1;
    return deliveryEvent(type, deliveryId, seq, at(seq), corr, data);
  };
  const events: DeliveryEvent[] = [
    next('DeliveryRequested', {
      ownerId,
      pickup: { lat: 47.64, lon: -122.13 },
      dropoff: { lat: 47.61, lon: -122.2 },
      expedited: false,
      package: { size: 'small', weightKg: 2.5 },
    }),
    next('PackageCreated', { packageId: `pkg-${deliveryId}`, size: 'small', weightKg: 2.5 }),
    next('DroneAssigned', { droneId, distanceToPickupM: 1200 }),
    next('DeliveryScheduled', { droneId, pickupEta: at(20), dropoffEta: at(40) }),
  ];
  switch (ending) {
    case 'delivered':
      events.push(
        next('PackagePickedUp', { droneId, position: { lat: 47.64, lon: -122.13, altitudeM: 3 }, reportedAt: at(21) }),
        next('DeliveryInTransit', {
          droneId,
          position: { lat: 47.63, lon: -122.16, altitudeM: 120 },
          reportedAt: at(25),
        }),
        next('DeliveryCompleted', { droneId, position: { lat: 47.61, lon: -122.2, altitudeM: 2 }, reportedAt: at(40) }),
      );
      break;
    case 'cancelled':
      events.push(
        next('DeliveryCancelled', { reason: 'cancelled by the owner' }),
        next('DroneReleased', { droneId, reason: 'delivery cancelled' }),
        next('PackageCancelled', { packageId: `pkg-${deliveryId}`, reason: 'delivery cancelled' }),
      );
      break;
    case 'failed':
      events.push(
        next('DeliveryFailed', { reason: 'pickup SLA missed', code: 'PickupSlaMissed' }),
        next('DroneReleased', { droneId, reason: 'delivery failed' }),
        next('PackageCancelled', { packageId: `pkg-${deliveryId}`, reason: 'delivery failed' }),
      );
      break;
    case 'inFlight':
      events.push(next('PackagePickedUp', { droneId, position: { lat: 47.64, lon: -122.13, altitudeM: 3 } }));
      break;
  }
  return events;
}
