/**
 * Response and request bodies of the HTTP API that are not domain schemas of their own
 * (docs/contract.md §1): problem+json, the accepted-delivery answer, history, drone state, health and
 * the rebuild operation. TypeBox, like the domain's, so validators and the OpenAPI document
 * share one definition.
 */
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { HistoryEventSchema } from '../../domain/delivery/schema';
import { ID_PATTERN } from '../../domain/shared/ids';
import { DRONE_STATUSES, PositionSchema } from '../../domain/telemetry/schema';

export const FieldErrorSchema = Type.Object(
  { path: Type.String(), message: Type.String() },
  { additionalProperties: false },
);

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ format: 'uri' }),
    title: Type.String(),
    status: Type.Integer({ minimum: 400, maximum: 599 }),
    detail: Type.String(),
    errors: Type.Optional(Type.Array(FieldErrorSchema, { description: 'Present for validation failures.' })),
  },
  { description: 'RFC 9457 problem details.' },
);

export const DeliveryAcceptedSchema = Type.Object(
  {
    deliveryId: Type.String({ pattern: ID_PATTERN }),
    stage: Type.Literal('Requested'),
    links: Type.Object({ status: Type.String(), history: Type.String() }),
  },
  { description: 'The delivery the request names; the same body sent again names the same delivery.' },
);

export const DeliveryHistorySchema = Type.Object(
  {
    deliveryId: Type.String({ pattern: ID_PATTERN }),
    events: Type.Array(HistoryEventSchema, {
      description: 'In sequence order: 1, 2, 3, … with no gaps and no duplicates.',
    }),
  },
  { additionalProperties: false },
);

export const DroneViewSchema = Type.Object(
  {
    droneId: Type.String({ pattern: ID_PATTERN }),
    status: Type.Union(DRONE_STATUSES.map((s) => Type.Literal(s))),
    position: PositionSchema,
    batteryPct: Type.Number({ minimum: 0, maximum: 100 }),
    sequence: Type.Integer({ minimum: 0 }),
    reportedAt: Type.String({ description: 'ISO-8601: the telemetry timestamp of this state.' }),
    deliveryId: Type.Optional(
      Type.String({ pattern: ID_PATTERN, description: 'Present while the drone works on a delivery.' }),
    ),
    stale: Type.Boolean({
      description:
        'True when the last accepted report is older than DroneFreshnessMinutes (default 10): the drone is not assigned until it reports again.',
    }),
    reservedFor: Type.Optional(
      Type.String({
        pattern: ID_PATTERN,
        description: 'The delivery holding the drone, from its assignment until the drone is released.',
      }),
    ),
  },
  { additionalProperties: false },
);

const HealthStatusSchema = Type.Union([Type.Literal('Healthy'), Type.Literal('Unhealthy')]);

export const HealthReportSchema = Type.Object({
  status: HealthStatusSchema,
  checks: Type.Record(
    Type.String(),
    Type.Object({
      status: HealthStatusSchema,
      latencyMs: Type.Integer({ minimum: 0 }),
      error: Type.Optional(Type.String()),
    }),
  ),
});

const ISO_UTC = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z$';

export const RebuildRequestSchema = Type.Object(
  {
    from: Type.String({ pattern: ISO_UTC, description: 'Inclusive start of the archive range (ISO-8601 UTC).' }),
    to: Type.String({ pattern: ISO_UTC, description: 'Exclusive end of the archive range (ISO-8601 UTC).' }),
    deliveryId: Type.Optional(Type.String({ pattern: ID_PATTERN, description: 'Only this delivery.' })),
  },
  { additionalProperties: false },
);
export type RebuildRequest = Static<typeof RebuildRequestSchema>;

const count = (description: string) => Type.Integer({ minimum: 0, description });

/** A rebuild job's progress: its orchestration's custom status while it runs, its output once completed. */
const RebuildJobProgressSchema = Type.Object({
  phase: Type.Union([Type.Literal('running'), Type.Literal('done')]),
  slicesDone: count('Archive slices (an hour each) finished.'),
  slicesTotal: count('Archive slices of the range.'),
  from: Type.String({ pattern: ISO_UTC }),
  to: Type.String({ pattern: ISO_UTC }),
  deliveryId: Type.Optional(Type.String({ pattern: ID_PATTERN })),
  eventsRead: count('Archived events read.'),
  skipped: count('Events of other deliveries, when a delivery is named.'),
  appended: count('Events the event store did not have yet.'),
  duplicates: count('Events it already had.'),
  conflicts: count('Events whose sequence it holds with other content.'),
  deliveries: count('Deliveries touched, counted once per slice.'),
  viewsWritten: count('Views replaced.'),
  viewsUnchanged: count('Views already right.'),
  viewsEmpty: count('Deliveries without a gapless stream from sequence 1.'),
});

export const RebuildJobAcceptedSchema = Type.Object({
  jobId: Type.String(),
  status: Type.Literal('Running'),
  links: Type.Object({ status: Type.String({ description: 'The job to poll (also the Location header).' }) }),
});

export const RebuildJobSchema = Type.Object({
  jobId: Type.String(),
  status: Type.Union([Type.Literal('Running'), Type.Literal('Completed'), Type.Literal('Failed')]),
  progress: Type.Union([RebuildJobProgressSchema, Type.Object({})]),
  createdAt: Type.String(),
  lastUpdatedAt: Type.String(),
  failure: Type.Optional(Type.String()),
});
