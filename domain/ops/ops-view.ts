/**
 * What the operations console is told about deliveries, the fleet and the hubs, computed from
 * the read models only (status views, drone states, hub positions): which deliveries are late
 * or stuck, how many are in each stage, how far a consumer is behind its partition. Pure: the
 * clock and the settings come in as arguments.
 *
 * A status view carries no deadline, so "late" and "stuck" are judged from the time since the
 * delivery's last event, against the SLA of the stage it is in: late once that SLA has passed
 * with no progress (the saga's own timer should be about to act), stuck once the supervisor's
 * grace has passed on top of it (the saga should have acted and has not).
 */
import { DELIVERY_STAGES, isFinished } from '../delivery/status';
import type { DeliveryStage, DeliveryStatusView } from '../delivery/status';

export interface OpsSla {
  readonly assignmentSlaMs: number;
  readonly pickupSlaMs: number;
  readonly deliverySlaMs: number;
  readonly supervisorGraceMs: number;
}

export interface DeliveryFlags {
  readonly late: boolean;
  readonly stuck: boolean;
  /** Milliseconds since the delivery's last event. */
  readonly idleMs: number;
}

/** The SLA that bounds how long a delivery may sit in a stage without an event. */
function stageSlaMs(stage: DeliveryStage, sla: OpsSla): number | undefined {
  switch (stage) {
    case 'Requested':
      return sla.assignmentSlaMs;
    case 'Scheduled':
      return sla.pickupSlaMs;
    case 'PickedUp':
    case 'InTransit':
      return sla.deliverySlaMs;
    case 'Delivered':
    case 'Cancelled':
    case 'Failed':
      return undefined;
    default: {
      const _exhaustive: never = stage;
      return _exhaustive;
    }
  }
}

export function deliveryFlags(view: DeliveryStatusView, now: Date, sla: OpsSla): DeliveryFlags {
  const idleMs = Math.max(0, now.getTime() - Date.parse(view.updatedAt));
  const bound = isFinished(view.stage) ? undefined : stageSlaMs(view.stage, sla);
  if (bound === undefined) return { late: false, stuck: false, idleMs };
  return { late: idleMs > bound, stuck: idleMs > bound + sla.supervisorGraceMs, idleMs };
}

export type StageCounts = Readonly<Record<DeliveryStage, number>>;

export function stageCounts(views: readonly Pick<DeliveryStatusView, 'stage'>[]): StageCounts {
  const counts = Object.fromEntries(DELIVERY_STAGES.map((s) => [s, 0])) as Record<DeliveryStage, number>;
  for (const v of views) counts[v.stage]++;
  return counts;
}

/** A consumer's position on one partition, as the hub and its checkpoint store report them. */
export interface PartitionPosition {
  readonly partitionId: string;
  /** The partition's last enqueued sequence number; -1 when it holds no event yet. */
  readonly lastEnqueuedSequenceNumber: number;
  /** The checkpointed sequence number; undefined before the consumer's first checkpoint. */
  readonly checkpointSequenceNumber: number | undefined;
}

/** Events enqueued and not yet checkpointed: with no checkpoint, everything the partition holds. */
export function partitionLag(p: PartitionPosition): number {
  const done = p.checkpointSequenceNumber ?? -1;
  return Math.max(0, p.lastEnqueuedSequenceNumber - done);
}
