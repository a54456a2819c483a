/** What telemetry ingestion needs from the outside world, in the domain's language. */
import type { FieldError } from '../shared/errors';
import type { DroneState } from './drone-state';
import type { Milestone } from './milestones';

export interface VersionedDroneState {
  readonly state: DroneState;
  /** Opaque concurrency token (an ETag in Cosmos DB). */
  readonly version: string;
}

export interface DroneStateStore {
  read(droneId: string): Promise<VersionedDroneState | undefined>;
  /**
   * Creates the state when `expectedVersion` is undefined, else replaces it only if it is still
   * at that version. Resolves false when another writer got there first (the caller re-reads).
   */
  write(next: DroneState, expectedVersion: string | undefined): Promise<boolean>;
}

/** Where an event came from on its hub: enough to find it again and to replay it. */
export interface EventOrigin {
  readonly eventHubName: string;
  readonly consumerGroup?: string;
  readonly partitionId?: string;
  readonly sequenceNumber?: number;
  readonly offset?: string;
  readonly enqueuedTimeUtc?: string;
  readonly partitionKey?: string;
}

/**
 * Why an event was set aside: its body is poison (the first four), or its batch kept failing
 * until the trigger's retry policy ran out (`RetriesExhausted`: the event itself may be fine).
 */
export type DeadLetterReason = 'NotJson' | 'BodyTooLarge' | 'SchemaViolation' | 'UnsupportedSchemaVersion' | 'RetriesExhausted';

export interface DeadLetter {
  readonly source: string;
  readonly reason: DeadLetterReason;
  readonly errors: readonly FieldError[];
  /** The body as received, as text (UTF-8, or base64 for bytes that are not text). */
  readonly rawBody: string;
  readonly rawBodyEncoding: 'utf8' | 'base64';
  readonly origin: EventOrigin;
  readonly deadLetteredAt: string;
  /** `RetriesExhausted` only: the error of the batch's last attempt. */
  readonly lastError?: string;
  /** `RetriesExhausted` only: the attempt that parked the batch, as the host counted it. */
  readonly retry?: { readonly retryCount: number; readonly maxRetryCount: number };
}

export interface DeadLetterSink {
  /** Idempotent per origin: the same event dead-lettered twice is stored once. */
  put(letter: DeadLetter): Promise<void>;
}

export interface MilestoneSink {
  /** At least once: the saga ignores duplicates and late milestones. */
  raise(milestone: Milestone): Promise<void>;
}
