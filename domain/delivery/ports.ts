/**
 * What delivery history needs from the outside world, in the domain's language: the append-only
 * event store, the status view store, and the archive the views are rebuilt from.
 */
import type { DeliveryEvent } from './events';
import type { DeliveryStatusView } from './status';

export type AppendOutcome =
  | { readonly outcome: 'appended' }
  /** The same event is already stored: appending is idempotent. */
  | { readonly outcome: 'duplicate' }
  /** A different event holds this (deliveryId, sequence); the stored one stands. */
  | { readonly outcome: 'conflict'; readonly existing: DeliveryEvent };

export interface DeliveryEventStore {
  /** Stores the event under (deliveryId, sequence) unless that slot is taken. */
  append(event: DeliveryEvent): Promise<AppendOutcome>;
  /** Every stored event of the delivery in ascending sequence (gaps possible while events are in flight). */
  readStream(deliveryId: string): Promise<DeliveryEvent[]>;
  /** Whether the (deliveryId, sequence) slot is taken: one point read, whatever the stream's length. */
  has(deliveryId: string, sequence: number): Promise<boolean>;
}

export interface VersionedStatusView {
  readonly view: DeliveryStatusView;
  /** Opaque concurrency token (an ETag in Cosmos DB); also the HTTP entity tag. */
  readonly etag: string;
}

export interface StatusViewStore {
  read(deliveryId: string): Promise<VersionedStatusView | undefined>;
  /**
   * Creates the view when `expectedEtag` is undefined, else replaces it only if it is still at
   * that ETag. `ttlSeconds` makes the document expire (finished deliveries). Resolves false when
   * another writer got there first (the caller re-reads).
   */
  write(view: DeliveryStatusView, expectedEtag: string | undefined, ttlSeconds?: number): Promise<boolean>;
}

export interface ArchiveRange {
  /** Inclusive, ISO-8601. */
  readonly from: string;
  /** Exclusive, ISO-8601. */
  readonly to: string;
  /** Only this delivery's events. */
  readonly deliveryId?: string;
}

export interface ArchiveReader {
  /** The archived delivery events of the range, in the archive's order (not necessarily by sequence). */
  events(range: ArchiveRange): AsyncIterable<DeliveryEvent>;
}
