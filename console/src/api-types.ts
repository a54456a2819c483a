/**
 * The console's view of the HTTP API's wire format (functions/http/ops-schemas.ts and the
 * public schemas describe the same bodies). The console is a client of the API, so it types
 * what arrives over HTTP, not the server's internal types.
 */
export const STAGES = ['Requested', 'Scheduled', 'PickedUp', 'InTransit', 'Delivered', 'Cancelled', 'Failed'] as const;
export type Stage = (typeof STAGES)[number];

export interface Position {
  readonly lat: number;
  readonly lon: number;
  readonly altitudeM: number;
}

export interface Drone {
  readonly droneId: string;
  readonly status: string;
  readonly position: Position;
  readonly batteryPct: number;
  readonly speedMps: number;
  readonly sequence: number;
  readonly reportedAt: string;
  readonly deliveryId?: string;
  readonly stale: boolean;
}

export interface Fleet {
  readonly drones: readonly Drone[];
  readonly freshnessMinutes: number;
  readonly truncated: boolean;
}

export interface DeliveryRow {
  readonly deliveryId: string;
  readonly ownerId: string;
  readonly stage: Stage;
  readonly droneId?: string;
  readonly failureReason?: string;
  readonly version: number;
  readonly updatedAt: string;
  readonly late: boolean;
  readonly stuck: boolean;
  readonly idleMs: number;
}

export interface Deliveries {
  readonly counts: Readonly<Record<Stage, number>>;
  readonly deliveries: readonly DeliveryRow[];
  readonly truncated: boolean;
}

export interface StreamEvent {
  readonly eventId: string;
  readonly type: string;
  readonly sequence: number;
  readonly occurredAt: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export type TimelineKind = 'orchestration' | 'step' | 'compensation' | 'emit' | 'timer' | 'retryTimer' | 'event';

export interface TimelineEntry {
  readonly instanceId: string;
  readonly kind: TimelineKind;
  readonly name: string;
  readonly at: string;
  readonly endedAt?: string;
  readonly outcome?: 'completed' | 'failed' | 'open' | 'fired';
  readonly attempt?: number;
  readonly detail?: string;
}

export interface SagaHistory {
  readonly instanceId: string;
  readonly runtimeStatus: string;
  readonly createdAt: string;
  readonly lastUpdatedAt: string;
  readonly entries: readonly TimelineEntry[];
}

export interface Timeline {
  readonly deliveryId: string;
  readonly events: readonly StreamEvent[];
  readonly sagas: readonly SagaHistory[];
}

export interface DeadLetter {
  readonly id: string;
  readonly source: string;
  readonly reason: string;
  readonly errors: readonly { readonly path: string; readonly message: string }[];
  readonly origin: Readonly<Record<string, unknown>>;
  readonly deadLetteredAt: string;
  readonly body: string;
  readonly bodyEncoding: 'utf8' | 'base64';
  readonly lastError?: string;
  readonly replayedAt?: string;
  readonly replayedTo?: string;
}

export interface DeadLetters {
  readonly deadLetters: readonly DeadLetter[];
  readonly truncated: boolean;
}

export interface ReplayResult {
  readonly id: string;
  readonly outcome: 'replayed' | 'alreadyReplayed';
  readonly hub: string;
  readonly at: string;
}

export interface SupervisorAlerts {
  readonly findings: readonly {
    readonly deliveryId: string;
    readonly runtimeStatus: string;
    readonly stage?: string;
    readonly action: string;
    readonly reason: string;
  }[];
  readonly stuckCompensations: readonly string[];
}

export interface PartitionLag {
  readonly partitionId: string;
  readonly lastEnqueuedSequenceNumber: number;
  readonly checkpointSequenceNumber?: number;
  readonly lag: number;
}

export type HubLag =
  | {
      readonly available: true;
      readonly consumers: readonly {
        readonly hub: string;
        readonly consumerGroup: string;
        readonly totalLag: number;
        readonly partitions: readonly PartitionLag[];
      }[];
    }
  | { readonly available: false; readonly reason: string };

export interface Problem {
  readonly title: string;
  readonly status: number;
  readonly detail: string;
}
