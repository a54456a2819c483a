/**
 * Delivery event envelopes v1 (docs/contract.md §3) as TypeBox schemas: one per event type with its
 * data, the union of them, and a validator that decides what is poison on the
 * `delivery-events` hub. The same schemas describe the history in the OpenAPI document.
 *
 * The envelope is closed (the contract names its fields). Event data is open to additive
 * fields: a poison verdict leaves a gap in the delivery's stream, and a gap stops its status
 * view from advancing, so only what the pipeline cannot read is rejected. Stream invariants
 * the projection relies on are checked here too: sequence 1 is `DeliveryRequested`, and only
 * sequence 1 is.
 */
import { Type } from '@sinclair/typebox';
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FieldError } from '../shared/errors';
import { parseBody, poison, rawText } from '../shared/body';
import type { Poison } from '../shared/body';
import { ID_PATTERN } from '../shared/ids';
import { isCalendarInstant } from '../telemetry/schema';
import { DELIVERY_EVENT_SCHEMA_VERSION, DELIVERY_EVENT_TYPES } from './events';
import type { DeliveryEvent, DeliveryEventDataMap, DeliveryEventType } from './events';
import { LatLonSchema, PackageSchema } from './request';
import type { DeadLetterReason } from '../shared/ports';

/** Envelopes are a few hundred bytes; a far larger body is garbage. */
const MAX_DELIVERY_EVENT_BODY_BYTES = 64 * 1024;

const ISO_UTC = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z$';
const Instant = (description?: string) =>
  Type.String({ pattern: ISO_UTC, maxLength: 40, ...(description ? { description } : {}) });
const Text = (maxLength = 1024) => Type.String({ minLength: 1, maxLength });
const Id = () => Type.String({ pattern: ID_PATTERN });
const PackageSizeSchema = Type.Union([Type.Literal('small'), Type.Literal('medium'), Type.Literal('large')]);

export const Location3DSchema = Type.Object(
  {
    lat: Type.Number({ minimum: -90, maximum: 90 }),
    lon: Type.Number({ minimum: -180, maximum: 180 }),
    altitudeM: Type.Number(),
  },
  { additionalProperties: false },
);

const MilestoneDataSchema = Type.Object({
  droneId: Id(),
  position: Type.Optional(Location3DSchema),
  reportedAt: Type.Optional(Instant()),
});

/** The data schema of every event type; `satisfies` keeps it in step with events.ts. */
const EVENT_DATA_SCHEMAS = {
  DeliveryRequested: Type.Object({
    ownerId: Type.String({ minLength: 1, maxLength: 128 }),
    pickup: LatLonSchema,
    dropoff: LatLonSchema,
    deadline: Type.Optional(Instant()),
    expedited: Type.Boolean(),
    package: PackageSchema,
  }),
  PackageCreated: Type.Object({
    packageId: Text(128),
    size: PackageSizeSchema,
    weightKg: Type.Number({ exclusiveMinimum: 0 }),
  }),
  DroneAssigned: Type.Object({ droneId: Id(), distanceToPickupM: Type.Number({ minimum: 0 }) }),
  DeliveryScheduled: Type.Object({ droneId: Id(), pickupEta: Instant(), dropoffEta: Instant() }),
  PackagePickedUp: MilestoneDataSchema,
  DeliveryInTransit: MilestoneDataSchema,
  DeliveryCompleted: MilestoneDataSchema,
  DeliveryCancelled: Type.Object({ reason: Text() }),
  DeliveryFailed: Type.Object({ reason: Text(), code: Text(128) }),
  DroneReleased: Type.Object({ droneId: Id(), reason: Text() }),
  PackageCancelled: Type.Object({ packageId: Text(128), reason: Text() }),
} as const satisfies Record<DeliveryEventType, TSchema>;

/** Compile-time proof that each schema's static type is the data type events.ts declares. */
type DataMatches = {
  [K in DeliveryEventType]: Static<(typeof EVENT_DATA_SCHEMAS)[K]> extends DeliveryEventDataMap[K] ? true : false;
};
const _dataMatches: false extends DataMatches[DeliveryEventType] ? never : true = true;
void _dataMatches;

const envelopeFields = {
  eventId: Text(200),
  deliveryId: Id(),
  sequence: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  occurredAt: Instant(),
  schemaVersion: Type.Literal(DELIVERY_EVENT_SCHEMA_VERSION),
  correlationId: Text(256),
};

/** What `history` shows of an event (docs/contract.md §1): the envelope without routing fields. */
export const HistoryEventSchema = Type.Union(
  DELIVERY_EVENT_TYPES.map((t) =>
    Type.Object(
      {
        eventId: envelopeFields.eventId,
        type: Type.Literal(t),
        sequence: envelopeFields.sequence,
        occurredAt: envelopeFields.occurredAt,
        data: EVENT_DATA_SCHEMAS[t],
      },
      { additionalProperties: false, title: `${t}HistoryEntry` },
    ),
  ),
);

/**
 * The envelope with `data` left open, checked first: its errors name the envelope field at
 * fault, which a failed union check cannot.
 */
const EnvelopeShape = Type.Object(
  { ...envelopeFields, type: Type.Union(DELIVERY_EVENT_TYPES.map((t) => Type.Literal(t))), data: Type.Object({}) },
  { additionalProperties: false },
);
const envelopeCheck = TypeCompiler.Compile(EnvelopeShape);
const dataChecks = new Map(
  DELIVERY_EVENT_TYPES.map((t) => [t, TypeCompiler.Compile(EVENT_DATA_SCHEMAS[t] as TSchema)]),
);

export type DeliveryEventVerdict =
  | { readonly ok: true; readonly value: DeliveryEvent }
  | {
      readonly ok: false;
      readonly reason: 'SchemaViolation' | 'UnsupportedSchemaVersion';
      readonly errors: readonly FieldError[];
    };

const MAX_ERRORS = 10;

function collect(errors: FieldError[], found: Iterable<{ path: string; message: string }>, prefix = ''): void {
  for (const e of found) {
    const path = prefix + (e.path || (prefix ? '' : '/'));
    if (!errors.some((x) => x.path === path)) errors.push({ path, message: e.message });
    if (errors.length >= MAX_ERRORS) return;
  }
}

/** Validates a parsed body against the v1 envelope of its type and the stream invariants. */
export function validateDeliveryEvent(body: unknown): DeliveryEventVerdict {
  const version = body && typeof body === 'object' ? (body as { schemaVersion?: unknown }).schemaVersion : undefined;
  if (typeof version === 'number' && version !== DELIVERY_EVENT_SCHEMA_VERSION) {
    return {
      ok: false,
      reason: 'UnsupportedSchemaVersion',
      errors: [
        {
          path: '/schemaVersion',
          message: `version ${version} is not supported; this pipeline reads version ${DELIVERY_EVENT_SCHEMA_VERSION}`,
        },
      ],
    };
  }
  const errors: FieldError[] = [];
  if (!envelopeCheck.Check(body)) {
    collect(errors, envelopeCheck.Errors(body));
    return { ok: false, reason: 'SchemaViolation', errors };
  }
  const check = dataChecks.get(body.type);
  if (!check || !check.Check(body.data)) {
    if (check) collect(errors, check.Errors(body.data), '/data');
    return { ok: false, reason: 'SchemaViolation', errors };
  }
  if (!isCalendarInstant(body.occurredAt)) errors.push({ path: '/occurredAt', message: 'not a real calendar instant' });
  if ((body.sequence === 1) !== (body.type === 'DeliveryRequested')) {
    errors.push({ path: '/sequence', message: 'a stream starts with DeliveryRequested at sequence 1, and only there' });
  }
  if (errors.length > 0) return { ok: false, reason: 'SchemaViolation', errors };
  // Both checks passed: the envelope is exactly one member of the DeliveryEvent union.
  return { ok: true, value: body as unknown as DeliveryEvent };
}

export type DecodedDeliveryEvent = { readonly ok: true; readonly event: DeliveryEvent } | Poison<DeadLetterReason>;

/** Decodes one body as the Functions host hands it over (see domain/shared/body.ts). */
export function decodeDeliveryEvent(body: unknown, utf8: (bytes: Uint8Array) => string): DecodedDeliveryEvent {
  const parsed = parseBody(body, utf8, MAX_DELIVERY_EVENT_BODY_BYTES);
  if (!parsed.ok) return parsed;
  const verdict = validateDeliveryEvent(parsed.value);
  if (verdict.ok) return { ok: true, event: verdict.value };
  return poison(verdict.reason, verdict.errors, rawText(body, utf8));
}
