/**
 * Bodies of the operations console's admin routes (functions/ops/*-http.ts), in TypeBox like
 * schemas.ts, so the OpenAPI document (openapi-ops.ts) describes what the handlers return.
 */
import { Type } from '@sinclair/typebox';
import { DELIVERY_STAGES, DeliveryStatusViewSchema } from '../../domain/delivery/status';
import { HistoryEventSchema } from '../../domain/delivery/schema';
import { ID_PATTERN } from '../../domain/shared/ids';
import { DRONE_STATUSES, PositionSchema } from '../../domain/telemetry/schema';
import { FieldErrorSchema } from './schemas';

const truncated = Type.Boolean({ description: 'True when the list stopped at its bound (2000 items).' });

export const OpsFleetSchema = Type.Object({
  drones: Type.Array(
    Type.Object({
      droneId: Type.String({ pattern: ID_PATTERN }),
      status: Type.Union(DRONE_STATUSES.map((s) => Type.Literal(s))),
      position: PositionSchema,
      batteryPct: Type.Number(),
      speedMps: Type.Number(),
      sequence: Type.Integer(),
      reportedAt: Type.String(),
      deliveryId: Type.Optional(Type.String()),
      stale: Type.Boolean({ description: 'The last accepted report is older than DroneFreshnessMinutes.' }),
    }),
  ),
  freshnessMinutes: Type.Number(),
  truncated,
});

const flags = {
  late: Type.Boolean({ description: "Unfinished, with no event for longer than its stage's SLA." }),
  stuck: Type.Boolean({
    description: "Unfinished, with no event for longer than its stage's SLA plus the supervisor's grace.",
  }),
  idleMs: Type.Integer({ description: 'Milliseconds since the last event.' }),
};

export const OpsDeliveriesSchema = Type.Object({
  counts: Type.Object(Object.fromEntries(DELIVERY_STAGES.map((s) => [s, Type.Integer({ minimum: 0 })]))),
  deliveries: Type.Array(Type.Composite([Type.Omit(DeliveryStatusViewSchema, []), Type.Object(flags)])),
  truncated,
});

const TimelineEntrySchema = Type.Object({
  instanceId: Type.String(),
  kind: Type.Union(
    ['orchestration', 'step', 'compensation', 'emit', 'timer', 'retryTimer', 'event'].map((k) => Type.Literal(k)),
  ),
  name: Type.String(),
  at: Type.String(),
  endedAt: Type.Optional(Type.String()),
  outcome: Type.Optional(Type.Union(['completed', 'failed', 'open', 'fired'].map((k) => Type.Literal(k)))),
  attempt: Type.Optional(Type.Integer({ minimum: 1 })),
  detail: Type.Optional(Type.String()),
});

export const OpsTimelineSchema = Type.Object({
  deliveryId: Type.String({ pattern: ID_PATTERN }),
  events: Type.Array(HistoryEventSchema, {
    description: 'The event stream, as GET /deliveries/{deliveryId}/history gives it.',
  }),
  sagas: Type.Array(
    Type.Object({
      instanceId: Type.String(),
      runtimeStatus: Type.String(),
      createdAt: Type.String(),
      lastUpdatedAt: Type.String(),
      entries: Type.Array(TimelineEntrySchema, {
        description: 'Activity calls, timers, external events and the start and end, in history order.',
      }),
    }),
    { description: 'The saga, then its recovery orchestration when one ran.' },
  ),
});

export const OpsDeadLettersSchema = Type.Object({
  deadLetters: Type.Array(
    Type.Object({
      id: Type.String({ description: 'What POST /ops/dead-letters/replay names.' }),
      source: Type.String(),
      reason: Type.String(),
      errors: Type.Array(FieldErrorSchema),
      origin: Type.Object(
        {},
        {
          additionalProperties: true,
          description: 'Event Hubs metadata: hub, partition, sequence number, offset, enqueued time.',
        },
      ),
      deadLetteredAt: Type.String(),
      body: Type.String(),
      bodyEncoding: Type.Union([Type.Literal('utf8'), Type.Literal('base64')]),
      lastError: Type.Optional(Type.String()),
      replayedAt: Type.Optional(Type.String()),
      replayedTo: Type.Optional(Type.String()),
    }),
  ),
  truncated,
});

export const OpsReplayRequestSchema = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);

export const OpsReplayResultSchema = Type.Object({
  id: Type.String(),
  outcome: Type.Union([Type.Literal('replayed'), Type.Literal('alreadyReplayed')]),
  hub: Type.String(),
  at: Type.String({ description: 'When the record was (first) replayed.' }),
});

export const OpsSupervisorAlertsSchema = Type.Object({
  findings: Type.Array(
    Type.Object({
      deliveryId: Type.String(),
      runtimeStatus: Type.String(),
      stage: Type.Optional(Type.String()),
      action: Type.String(),
      reason: Type.String(),
    }),
  ),
  stuckCompensations: Type.Array(Type.String(), {
    description: 'Deliveries whose compensation was given up (CompensationStuck).',
  }),
});

export const OpsHubLagSchema = Type.Union([
  Type.Object({
    available: Type.Literal(true),
    consumers: Type.Array(
      Type.Object({
        hub: Type.String(),
        consumerGroup: Type.String(),
        totalLag: Type.Integer({ minimum: 0 }),
        partitions: Type.Array(
          Type.Object({
            partitionId: Type.String(),
            lastEnqueuedSequenceNumber: Type.Integer(),
            checkpointSequenceNumber: Type.Optional(Type.Integer()),
            lag: Type.Integer({ minimum: 0 }),
          }),
        ),
      }),
    ),
  }),
  Type.Object({ available: Type.Literal(false), reason: Type.String() }),
]);
