/**
 * Bodies of the admin read routes for tracing and the delivery report: a delivery's trace
 * (GET /api/ops/deliveries/{id}/trace, spans as tracing/span-store.ts records them) and the
 * delivery report (GET /api/ops/report, domain/delivery/report.ts). A file of their own so the
 * OpenAPI document and the route tests share one definition.
 */
import { Type } from '@sinclair/typebox';
import { ID_PATTERN } from '../../domain/shared/ids';

const HEX = (n: number): string => `^[0-9a-f]{${n}}$`;
const count = (description: string) => Type.Integer({ minimum: 0, description });
const nullableMs = (description: string) => Type.Union([Type.Number({ minimum: 0 }), Type.Null()], { description });

export const SpanSchema = Type.Object({
  traceId: Type.String({ pattern: HEX(32) }),
  spanId: Type.String({ pattern: HEX(16) }),
  parentSpanId: Type.Optional(Type.String({ pattern: HEX(16), description: 'Absent for a trace root.' })),
  name: Type.String({
    description:
      'delivery.intake, activity <Name>, history.project (a batch), history.write (one delivery of a batch), telemetry.ingest (a batch).',
  }),
  kind: Type.Union([
    Type.Literal('internal'),
    Type.Literal('server'),
    Type.Literal('client'),
    Type.Literal('producer'),
    Type.Literal('consumer'),
  ]),
  startTime: Type.String({ description: 'ISO-8601 UTC.' }),
  endTime: Type.String({ description: 'ISO-8601 UTC.' }),
  durationMs: Type.Number({ minimum: 0 }),
  status: Type.Union([Type.Literal('unset'), Type.Literal('ok'), Type.Literal('error')]),
  statusMessage: Type.Optional(Type.String()),
  attributes: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
    description: 'Among them delivery.id on every span of one delivery.',
  }),
  links: Type.Array(
    Type.Object({ traceId: Type.String({ pattern: HEX(32) }), spanId: Type.String({ pattern: HEX(16) }) }),
    { description: 'A batch span links to the context of every event it handled.' },
  ),
});

export const DeliveryTraceSchema = Type.Object({
  deliveryId: Type.String({ pattern: ID_PATTERN }),
  traceIds: Type.Array(Type.String({ pattern: HEX(32) }), {
    description: 'One for a delivery started by one request (a recovery adds its own).',
  }),
  spans: Type.Array(SpanSchema, {
    description: 'By start time: the trace(s) of the delivery and the batch spans of other traces that link into them.',
  }),
});

const HourBucketSchema = Type.Object({
  hour: Type.String({ description: 'Start of the UTC hour, ISO-8601.' }),
  onTime: count('Delivered at or before the deadline (or the scheduled drop-off ETA).'),
  late: count('Delivered after it.'),
  delivered: count('Delivered with no deadline or ETA to judge by.'),
  failed: count('Failed.'),
  cancelled: count('Cancelled.'),
  inFlight: count('Not finished by the end of the range.'),
});

export const DeliveryReportSchema = Type.Object({
  range: Type.Object({ from: Type.String(), to: Type.String() }),
  eventsRead: count('Archived delivery events read.'),
  duplicates: count('Events read more than once (the archive is at least once).'),
  deliveries: count('Deliveries requested in the range.'),
  outcomes: Type.Object({
    delivered: count('Delivered.'),
    failed: count('Failed.'),
    cancelled: count('Cancelled.'),
    inFlight: count('Not finished by the end of the range.'),
  }),
  onTime: Type.Object({
    onTime: count('Delivered at or before the promise: the request deadline, else the scheduled drop-off ETA.'),
    late: count('Delivered after it.'),
    unknown: count('Delivered with neither.'),
    rate: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
      description: 'onTime / (onTime + late); null when none was judged.',
    }),
  }),
  requestToDeliveredMs: Type.Object({
    count: count('Delivered deliveries measured.'),
    p50: nullableMs('Nearest-rank median, ms.'),
    p95: nullableMs('Nearest-rank 95th percentile, ms.'),
    p99: nullableMs('Nearest-rank 99th percentile, ms.'),
  }),
  failuresByReason: Type.Array(
    Type.Object({
      code: Type.String(),
      reason: Type.String({ description: 'The first reason seen for the code.' }),
      count: Type.Integer({ minimum: 1 }),
    }),
  ),
  compensationsPerStep: Type.Array(
    Type.Object({
      step: Type.Union([Type.Literal('CreatePackage'), Type.Literal('AssignDrone')]),
      compensation: Type.Union([Type.Literal('CancelPackage'), Type.Literal('ReleaseDrone')]),
      count: count('Compensation events in the range.'),
    }),
  ),
  hourly: Type.Array(HourBucketSchema, { description: 'Deliveries by the hour they were requested in, by outcome.' }),
});
