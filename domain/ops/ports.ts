/**
 * What the operations views read, in the domain's language: the whole fleet, the status views,
 * the dead letters (with replay), and the hubs' positions. Each is a read over a store that
 * other parts of the app write; only a dead letter's replay writes (its replay mark).
 */
import type { DeliveryStage, DeliveryStatusView } from '../delivery/status';
import type { DroneState } from '../telemetry/drone-state';
import type { DeadLetter } from '../shared/ports';
import type { PartitionPosition } from './ops-view';

export interface FleetListing {
  /** Every drone's latest state, at most `limit` of them. */
  list(limit: number): Promise<DroneState[]>;
}

export interface StatusViewListing {
  /** Status views, optionally of one stage, at most `limit` of them, in no particular order. */
  list(filter: { stage?: DeliveryStage }, limit: number): Promise<DeliveryStatusView[]>;
}

export interface StoredDeadLetter {
  /** Stable name of the record (the blob name): what a replay names. */
  readonly id: string;
  readonly letter: DeadLetter;
  readonly replayedAt?: string;
  readonly replayedTo?: string;
}

export type ReplayOutcome =
  | { readonly outcome: 'replayed'; readonly hub: string; readonly at: string }
  | { readonly outcome: 'alreadyReplayed'; readonly hub: string; readonly at: string }
  /** Today's schema still refuses the body: replaying it would only dead-letter it again. */
  | {
      readonly outcome: 'stillInvalid';
      readonly reason: string;
      readonly errors: readonly { path: string; message: string }[];
    }
  | { readonly outcome: 'unsupportedSource'; readonly source: string }
  | { readonly outcome: 'notFound' };

export interface DeadLetterArchive {
  list(filter: { source?: string; reason?: string }, limit: number): Promise<StoredDeadLetter[]>;
  /** Re-publishes the record's body to its source hub once; a second replay reports the first. */
  replay(id: string): Promise<ReplayOutcome>;
}

export interface ConsumerLag {
  readonly hub: string;
  readonly consumerGroup: string;
  readonly partitions: readonly PartitionPosition[];
}

export type HubLagReport =
  | { readonly available: true; readonly consumers: readonly ConsumerLag[] }
  | { readonly available: false; readonly reason: string };

export interface HubPositions {
  read(): Promise<HubLagReport>;
}
