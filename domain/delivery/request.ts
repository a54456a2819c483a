/**
 * A delivery request (docs/contract.md §1 `POST /api/deliveries`): the body schema, which is also the
 * source of the OpenAPI document, and its normalization. Two requests are "the same body" when
 * their normalized forms are equal, which is what makes a retried POST idempotent.
 */
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Caller } from '../shared/caller';
import { isAdmin } from '../shared/caller';
import { err, ok, validationFailed } from '../shared/errors';
import type { DomainError, FieldError, Result } from '../shared/errors';
import { ID_PATTERN } from '../shared/ids';
import { ISO_UTC_PATTERN, isCalendarInstant } from '../shared/time';
import type { DeliveryRequestedData } from './events';

export const MAX_REQUEST_BODY_BYTES = 64 * 1024;
const MAX_WEIGHT_KG = 25;

export const LatLonSchema = Type.Object(
  {
    lat: Type.Number({ minimum: -90, maximum: 90 }),
    lon: Type.Number({ minimum: -180, maximum: 180 }),
  },
  { additionalProperties: false },
);

export const PackageSchema = Type.Object(
  {
    size: Type.Union([Type.Literal('small'), Type.Literal('medium'), Type.Literal('large')]),
    weightKg: Type.Number({ exclusiveMinimum: 0, maximum: MAX_WEIGHT_KG }),
    tag: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const DeliveryRequestSchema = Type.Object(
  {
    deliveryId: Type.Optional(
      Type.String({ pattern: ID_PATTERN, description: '1-64 of [A-Za-z0-9_-]; generated when absent' }),
    ),
    ownerId: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        description: 'Defaults to the caller; must equal the caller unless Deliveries.Admin',
      }),
    ),
    pickup: LatLonSchema,
    dropoff: LatLonSchema,
    deadline: Type.Optional(Type.String({ pattern: ISO_UTC_PATTERN, description: 'ISO-8601 UTC instant' })),
    expedited: Type.Optional(Type.Boolean({ default: false })),
    package: PackageSchema,
  },
  { additionalProperties: false, $id: 'DeliveryRequest' },
);

export type DeliveryRequestBody = Static<typeof DeliveryRequestSchema>;

/** What the saga starts from: every default applied, the owner resolved. */
export interface NormalizedRequest {
  readonly deliveryId: string;
  readonly data: DeliveryRequestedData;
}

const compiled = TypeCompiler.Compile(DeliveryRequestSchema);

export function validateRequestBody(body: unknown): Result<DeliveryRequestBody, DomainError> {
  if (compiled.Check(body)) {
    if (body.deadline !== undefined && !isCalendarInstant(body.deadline)) {
      return err(
        validationFailed('The delivery request is not valid.', [
          { path: '/deadline', message: 'not a real calendar instant' },
        ]),
      );
    }
    return ok(body);
  }
  const errors: FieldError[] = [];
  for (const e of compiled.Errors(body)) {
    const path = e.path || '/';
    if (!errors.some((x) => x.path === path)) errors.push({ path, message: e.message });
    if (errors.length >= 20) break;
  }
  return err(validationFailed('The delivery request is not valid.', errors));
}

/**
 * Applies identity and defaults. `newId` supplies an id when the body has none (ids come in
 * as arguments: the domain makes no randomness).
 */
export function normalizeRequest(
  body: DeliveryRequestBody,
  caller: Caller,
  newId: () => string,
): Result<NormalizedRequest, DomainError> {
  const ownerId = body.ownerId ?? caller.id;
  if (ownerId !== caller.id && !isAdmin(caller)) {
    return err(
      validationFailed('The delivery request is not valid.', [
        { path: '/ownerId', message: 'must be the caller unless the caller is Deliveries.Admin' },
      ]),
    );
  }
  const data: DeliveryRequestedData = {
    ownerId,
    pickup: { lat: body.pickup.lat, lon: body.pickup.lon },
    dropoff: { lat: body.dropoff.lat, lon: body.dropoff.lon },
    ...(body.deadline !== undefined ? { deadline: new Date(Date.parse(body.deadline)).toISOString() } : {}),
    expedited: body.expedited ?? false,
    package: {
      size: body.package.size,
      weightKg: body.package.weightKg,
      ...(body.package.tag !== undefined ? { tag: body.package.tag } : {}),
    },
  };
  return ok({ deliveryId: body.deliveryId ?? newId(), data });
}

/** A stable text form of a normalized request (keys sorted), to compare "the same body". */
export function canonicalRequest(req: NormalizedRequest): string {
  return stableStringify({ deliveryId: req.deliveryId, ...req.data });
}

export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
