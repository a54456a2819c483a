/**
 * Delivery milestones read off drone telemetry (docs/contract.md §2): the statuses that mean a step of
 * the drone's current delivery happened. They are raised on the delivery's saga, which ignores
 * duplicates and late ones, so detection may repeat safely (at least once).
 */
import type { DroneStatus, Telemetry } from './schema';

const MILESTONE_BY_STATUS = {
  PickedUp: 'PackagePickedUp',
  EnRouteToDropoff: 'DeliveryInTransit',
  Delivered: 'DeliveryCompleted',
} as const satisfies Partial<Record<DroneStatus, string>>;

export type MilestoneName = (typeof MILESTONE_BY_STATUS)[keyof typeof MILESTONE_BY_STATUS];

export interface Milestone {
  readonly deliveryId: string;
  readonly name: MilestoneName;
  readonly droneId: string;
  readonly sequence: number;
  readonly occurredAt: string;
  readonly position: Telemetry['position'];
}

export function milestoneOf(t: Telemetry): Milestone | undefined {
  if (t.deliveryId === undefined) return undefined;
  const name = (MILESTONE_BY_STATUS as Partial<Record<DroneStatus, MilestoneName>>)[t.status];
  if (name === undefined) return undefined;
  return {
    deliveryId: t.deliveryId,
    name,
    droneId: t.droneId,
    sequence: t.sequence,
    occurredAt: t.timestamp,
    position: t.position,
  };
}
