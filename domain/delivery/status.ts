/**
 * The delivery status view (docs/contract.md §1 `GET /api/deliveries/{id}`) as a projection of the
 * delivery's events: `evolveStatus(view, event) → view`, folded in sequence order over the
 * gapless prefix of the stream. The view's schema (TypeBox) is also its OpenAPI description.
 */
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { assertNever } from '../shared/errors';
import type { DeliveryEvent, Location3D, MilestoneData } from './events';
import { Location3DSchema } from './schema';

export const DELIVERY_STAGES = [
  'Requested',
  'Scheduled',
  'PickedUp',
  'InTransit',
  'Delivered',
  'Cancelled',
  'Failed',
] as const;
export type DeliveryStage = (typeof DELIVERY_STAGES)[number];

/** The stages a delivery ends in; a saga's outcome is one of them. */
const FINISHED_STAGES = ['Delivered', 'Cancelled', 'Failed'] as const satisfies readonly DeliveryStage[];
export type FinishedStage = (typeof FINISHED_STAGES)[number];
const FINISHED: ReadonlySet<string> = new Set(FINISHED_STAGES);
export const isFinished = (stage: string): stage is FinishedStage => FINISHED.has(stage);

export const DeliveryStatusViewSchema = Type.Object(
  {
    deliveryId: Type.String(),
    ownerId: Type.String(),
    stage: Type.Union(DELIVERY_STAGES.map((s) => Type.Literal(s))),
    droneId: Type.Optional(Type.String({ description: 'Present once a drone is assigned: the drone assigned last.' })),
    lastKnownLocation: Type.Optional(Location3DSchema),
    failureReason: Type.Optional(Type.String({ description: 'Present when Failed.' })),
    version: Type.Integer({
      minimum: 1,
      description: 'Highest event sequence applied (the stream is applied without gaps).',
    }),
    updatedAt: Type.String({ description: 'ISO-8601: when the last applied event occurred.' }),
  },
  { additionalProperties: false },
);

export interface DeliveryStatusView {
  readonly deliveryId: string;
  readonly ownerId: string;
  readonly stage: DeliveryStage;
  readonly droneId?: string;
  readonly lastKnownLocation?: Location3D;
  readonly failureReason?: string;
  readonly version: number;
  readonly updatedAt: string;
}

/** The schema and the interface describe the same object. */
const _viewMatches: [Static<typeof DeliveryStatusViewSchema>] extends [DeliveryStatusView] ? true : false = true;
void _viewMatches;

/**
 * Applies one event. A finished delivery stays as it finished: the compensations that follow
 * a cancel or a failure (DroneReleased, PackageCancelled) are recorded in `version` only.
 * `droneId` names the drone assigned last and stays once set ("present once a drone is
 * assigned"), so a delivered or cancelled delivery still says which drone it had.
 * The first event of a stream is `DeliveryRequested` (the schema enforces that sequence 1 is
 * it); anything else without a view is a bug in the caller, which folds gapless prefixes only.
 */
export function evolveStatus(view: DeliveryStatusView | undefined, event: DeliveryEvent): DeliveryStatusView {
  if (view === undefined) {
    if (event.type !== 'DeliveryRequested') {
      throw new Error(
        `status of ${event.deliveryId} must start with DeliveryRequested, got ${event.type} at ${event.sequence}`,
      );
    }
    return {
      deliveryId: event.deliveryId,
      ownerId: event.data.ownerId,
      stage: 'Requested',
      version: event.sequence,
      updatedAt: event.occurredAt,
    };
  }
  if (view.deliveryId !== event.deliveryId) {
    throw new Error(`event of ${event.deliveryId} folded into the status of ${view.deliveryId}`);
  }
  const base: DeliveryStatusView = {
    ...view,
    version: Math.max(view.version, event.sequence),
    updatedAt: event.occurredAt,
  };
  if (isFinished(view.stage)) return base;
  switch (event.type) {
    case 'DeliveryRequested':
    case 'PackageCreated':
    case 'PackageCancelled':
    case 'DroneReleased':
      return base;
    case 'DroneAssigned':
      return { ...base, droneId: event.data.droneId };
    case 'DeliveryScheduled':
      return { ...base, stage: 'Scheduled', droneId: event.data.droneId };
    case 'PackagePickedUp':
      return milestone(base, 'PickedUp', event.data);
    case 'DeliveryInTransit':
      return milestone(base, 'InTransit', event.data);
    case 'DeliveryCompleted':
      return milestone(base, 'Delivered', event.data);
    case 'DeliveryCancelled':
      return { ...base, stage: 'Cancelled' };
    case 'DeliveryFailed':
      return { ...base, stage: 'Failed', failureReason: event.data.reason };
    default:
      return assertNever(event, 'delivery event');
  }
}

/** Milestones come from drone telemetry, so their position is the delivery's last known location. */
function milestone(base: DeliveryStatusView, stage: DeliveryStage, data: MilestoneData): DeliveryStatusView {
  const p = data.position;
  return {
    ...base,
    stage,
    droneId: data.droneId,
    ...(p ? { lastKnownLocation: { lat: p.lat, lon: p.lon, altitudeM: p.altitudeM } } : {}),
  };
}

/** Folds events in the order given (callers pass a gapless prefix in sequence order). */
export function foldStatus(
  events: Iterable<DeliveryEvent>,
  initial?: DeliveryStatusView,
): DeliveryStatusView | undefined {
  let view = initial;
  for (const e of events) view = evolveStatus(view, e);
  return view;
}

/**
 * The events 1, 2, 3, … of one delivery up to the first missing sequence: duplicates removed
 * (the first of each sequence kept), any order accepted. What lies past a gap waits for it.
 */
export function gaplessPrefix(events: Iterable<DeliveryEvent>): DeliveryEvent[] {
  const bySequence = new Map<number, DeliveryEvent>();
  for (const e of events) if (!bySequence.has(e.sequence)) bySequence.set(e.sequence, e);
  const prefix: DeliveryEvent[] = [];
  for (let s = 1; ; s++) {
    const e = bySequence.get(s);
    if (!e) return prefix;
    prefix.push(e);
  }
}
