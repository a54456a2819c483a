/**
 * Ports more than one area uses, in the domain's language: where an event came from on its hub,
 * the dead-letter sink that both telemetry ingestion and the delivery history park poison in,
 * and publishing to a hub with a partition key (the saga's delivery events, the dead-letter
 * replay, the simulator).
 */
import type { FieldError } from './errors';

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
export type DeadLetterReason =
  'NotJson' | 'BodyTooLarge' | 'SchemaViolation' | 'UnsupportedSchemaVersion' | 'RetriesExhausted';

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

/** An event to publish: its body, the partition key that keeps its stream in order, and application properties. */
export interface OutgoingEvent {
  readonly body: unknown;
  readonly partitionKey?: string;
  readonly properties?: Record<string, string | number | boolean>;
}

export interface EventPublisher {
  publish(hub: string, events: readonly OutgoingEvent[]): Promise<void>;
  close(): Promise<void>;
}
