/**
 * Delivery events (docs/contract.md §3): the envelope and every event type with its data. A delivery's
 * stream is written by its saga alone, which numbers the events 1, 2, 3… without gaps; the
 * event id is derived from (delivery id, sequence), so a re-sent event is the same event.
 */
import type { LatLon } from '../shared/geo';

export const DELIVERY_EVENT_SCHEMA_VERSION = 1;

export type PackageSize = 'small' | 'medium' | 'large';

export interface Location3D {
  readonly lat: number;
  readonly lon: number;
  readonly altitudeM: number;
}

export interface DeliveryRequestedData {
  readonly ownerId: string;
  readonly pickup: LatLon;
  readonly dropoff: LatLon;
  readonly deadline?: string;
  readonly expedited: boolean;
  readonly package: { readonly size: PackageSize; readonly weightKg: number; readonly tag?: string };
}

export interface MilestoneData {
  readonly droneId: string;
  readonly position?: Location3D;
  readonly reportedAt?: string;
}

/** Event type → data. */
export interface DeliveryEventDataMap {
  DeliveryRequested: DeliveryRequestedData;
  PackageCreated: { readonly packageId: string; readonly size: PackageSize; readonly weightKg: number };
  DroneAssigned: { readonly droneId: string; readonly distanceToPickupM: number };
  DeliveryScheduled: { readonly droneId: string; readonly pickupEta: string; readonly dropoffEta: string };
  PackagePickedUp: MilestoneData;
  DeliveryInTransit: MilestoneData;
  DeliveryCompleted: MilestoneData;
  DeliveryCancelled: { readonly reason: string };
  DeliveryFailed: { readonly reason: string; readonly code: string };
  DroneReleased: { readonly droneId: string; readonly reason: string };
  PackageCancelled: { readonly packageId: string; readonly reason: string };
}

export type DeliveryEventType = keyof DeliveryEventDataMap;

export const DELIVERY_EVENT_TYPES: readonly DeliveryEventType[] = [
  'DeliveryRequested',
  'PackageCreated',
  'DroneAssigned',
  'DeliveryScheduled',
  'PackagePickedUp',
  'DeliveryInTransit',
  'DeliveryCompleted',
  'DeliveryCancelled',
  'DeliveryFailed',
  'DroneReleased',
  'PackageCancelled',
];

/** A discriminated union: `type` decides the shape of `data`. */
export type DeliveryEvent = {
  [K in DeliveryEventType]: {
    readonly eventId: string;
    readonly type: K;
    readonly deliveryId: string;
    readonly sequence: number;
    readonly occurredAt: string;
    readonly schemaVersion: typeof DELIVERY_EVENT_SCHEMA_VERSION;
    readonly correlationId: string;
    readonly data: DeliveryEventDataMap[K];
  };
}[DeliveryEventType];

export type DeliveryEventOf<K extends DeliveryEventType> = Extract<DeliveryEvent, { type: K }>;

const eventIdOf = (deliveryId: string, sequence: number): string => `${deliveryId}:${sequence}`;

export function deliveryEvent<K extends DeliveryEventType>(
  type: K,
  deliveryId: string,
  sequence: number,
  occurredAt: string,
  correlationId: string,
  data: DeliveryEventDataMap[K],
): DeliveryEventOf<K> {
  return {
    eventId: eventIdOf(deliveryId, sequence),
    type,
    deliveryId,
    sequence,
    occurredAt,
    schemaVersion: DELIVERY_EVENT_SCHEMA_VERSION,
    correlationId,
    data,
  } as DeliveryEventOf<K>;
}
