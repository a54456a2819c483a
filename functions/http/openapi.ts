/**
 * The OpenAPI 3.1 description of the HTTP API (docs/contract.md §1), generated from the TypeBox schemas
 * the validators and handlers use, so the document cannot drift from the code. OpenAPI 3.1
 * schemas are JSON Schema 2020-12, which TypeBox emits; only TypeBox's own `$id`s are dropped
 * (relative ids would re-base references inside the document).
 */
import type { TSchema } from '@sinclair/typebox';
import { DeliveryRequestSchema, MAX_REQUEST_BODY_BYTES } from '../../domain/delivery/request';
import { DeliveryStatusViewSchema } from '../../domain/delivery/status';
import { ROLE_ADMIN, ROLE_READER } from '../../domain/shared/caller';
import { ID_PATTERN } from '../../domain/shared/ids';
import { ROUTES } from '../names';
import { opsPaths, opsSchemas } from './openapi-ops';
import { PROBLEM_CONTENT_TYPE } from './problem';
import {
  DeliveryAcceptedSchema,
  DeliveryHistorySchema,
  DroneViewSchema,
  HealthReportSchema,
  ProblemSchema,
  RebuildJobAcceptedSchema,
  RebuildJobSchema,
  RebuildRequestSchema,
} from './schemas';
import { DeliveryReportSchema, DeliveryTraceSchema } from './ops-read-schemas';

type Json = Record<string, unknown>;

/** A plain JSON Schema object: TypeBox's symbol keys vanish in the round trip, `$id`s are removed. */
export function jsonSchemaOf(schema: TSchema): Json {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') {
      const out: Json = {};
      for (const [k, x] of Object.entries(v)) if (k !== '$id') out[k] = strip(x);
      return out;
    }
    return v;
  };
  return strip(JSON.parse(JSON.stringify(schema))) as Json;
}

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json): Json => ({ 'application/json': { schema } });
const problem = (description: string, headers?: Json): Json => ({
  description,
  content: { [PROBLEM_CONTENT_TYPE]: { schema: ref('Problem') } },
  ...(headers ? { headers } : {}),
});
const respRef = (name: string): Json => ({ $ref: `#/components/responses/${name}` });

const idParameter = (name: string, description: string): Json => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string', pattern: ID_PATTERN },
});

/** `deliveries/{deliveryId}` → `/deliveries/{deliveryId}`: function routes and OpenAPI templates share a syntax. */
const path = (route: string): string => `/${route}`;

export function buildOpenApiDocument(): Json {
  const deliveryId = idParameter('deliveryId', 'The delivery: 1-64 of [A-Za-z0-9_-].');
  const common = { 400: respRef('BadRequest'), 401: respRef('Unauthorized') };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Fabrikam Drone Delivery API',
      version: '1.0.0',
      description:
        'Request deliveries, follow their status and history, and read drone state. Callers are identified by App Service Authentication ' +
        `(Entra ID): a caller sees its own deliveries; ${ROLE_ADMIN} sees and changes all, ${ROLE_READER} reads all. ` +
        'A delivery the caller may not see answers 404, exactly like one that does not exist.',
    },
    servers: [{ url: '/api' }],
    security: [{ appServicePrincipalId: [], appServicePrincipal: [] }, { appServicePrincipalId: [] }],
    paths: {
      '/deliveries': {
        post: {
          operationId: 'requestDelivery',
          summary: 'Request a delivery',
          description: `Idempotent per deliveryId: the same body again names the same delivery; a different body for the same id is 409. Bodies over ${MAX_REQUEST_BODY_BYTES} bytes are 400.`,
          requestBody: { required: true, content: json(ref('DeliveryRequest')) },
          responses: {
            202: {
              description: 'Accepted: the delivery saga has started (or had started for this same request).',
              headers: { Location: { description: '/api/deliveries/{deliveryId}', schema: { type: 'string' } } },
              content: json(ref('DeliveryAccepted')),
            },
            200: {
              description: 'The same request was accepted before; it names the same delivery.',
              content: json(ref('DeliveryAccepted')),
            },
            ...common,
            409: problem('The deliveryId is taken by a different request.'),
            429: problem('Too many deliveries in flight; retry after the given number of seconds.', {
              'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer', minimum: 0 } },
            }),
          },
        },
      },
      [path(ROUTES.delivery)]: {
        parameters: [deliveryId],
        get: {
          operationId: 'getDeliveryStatus',
          summary: 'Status of a delivery (materialized view)',
          parameters: [
            {
              name: 'If-None-Match',
              in: 'header',
              required: false,
              description: 'An ETag from an earlier answer.',
              schema: { type: 'string' },
            },
          ],
          responses: {
            200: {
              description: 'The delivery status.',
              headers: { ETag: { description: 'Entity tag of this status.', schema: { type: 'string' } } },
              content: json(ref('DeliveryStatus')),
            },
            304: {
              description: 'Not modified: If-None-Match named the current ETag.',
              headers: { ETag: { schema: { type: 'string' } } },
            },
            ...common,
            404: respRef('NotFound'),
          },
        },
        delete: {
          operationId: 'cancelDelivery',
          summary: 'Cancel a delivery',
          description: 'The saga compensates every step it completed and the delivery ends Cancelled.',
          responses: {
            202: { description: 'Cancellation accepted.' },
            ...common,
            404: respRef('NotFound'),
            409: problem(
              'Already Delivered, Failed or Cancelled, or already compensating a failure; the problem names the stage.',
            ),
          },
        },
      },
      [path(ROUTES.deliveryHistory)]: {
        parameters: [deliveryId],
        get: {
          operationId: 'getDeliveryHistory',
          summary: 'Events of a delivery in sequence order',
          responses: {
            200: { description: 'The history.', content: json(ref('DeliveryHistory')) },
            ...common,
            404: respRef('NotFound'),
          },
        },
      },
      [path(ROUTES.drone)]: {
        parameters: [idParameter('droneId', 'The drone: 1-64 of [A-Za-z0-9_-].')],
        get: {
          operationId: 'getDrone',
          summary: `Latest known drone state (${ROLE_ADMIN} or ${ROLE_READER})`,
          description:
            "The state from the drone's last accepted report, with `stale: true` once that report is older than DroneFreshnessMinutes " +
            '(default 10): a stale drone is not assigned to deliveries until it reports again. `reservedFor` names the delivery holding it.',
          responses: {
            200: { description: 'The drone state.', content: json(ref('Drone')) },
            ...common,
            403: problem(`The caller has neither ${ROLE_ADMIN} nor ${ROLE_READER}.`),
            404: respRef('NotFound'),
          },
        },
      },
      [path(ROUTES.health)]: {
        get: {
          operationId: 'getHealth',
          summary: 'Health of the app and each dependency',
          security: [],
          responses: {
            200: { description: 'Every dependency answers.', content: json(ref('HealthReport')) },
            503: {
              description: 'At least one dependency does not answer; the failing ones are named.',
              content: json(ref('HealthReport')),
            },
          },
        },
      },
      [path(ROUTES.openApi)]: {
        get: {
          operationId: 'getOpenApi',
          summary: 'This document (for signed-in callers)',
          responses: {
            200: { description: 'The OpenAPI 3.1 document.', content: json({ type: 'object' }) },
            401: respRef('Unauthorized'),
          },
        },
      },
      [path(ROUTES.rebuildViews)]: {
        post: {
          operationId: 'rebuildViews',
          summary: `Rebuild status views from the archive (${ROLE_ADMIN})`,
          description:
            'Starts a job that appends the archived events of the range to the event store (idempotent) and recomputes the views of the deliveries they touch. ' +
            'The range may span at most RebuildMaxRangeDays (default 31). The same range asked again while its job runs answers with that job.',
          requestBody: { required: true, content: json(ref('RebuildRequest')) },
          responses: {
            202: {
              description: 'The job runs; poll its Location.',
              headers: {
                Location: { description: 'The job: GET it for status and progress.', schema: { type: 'string' } },
                'Retry-After': { schema: { type: 'integer' } },
              },
              content: json(ref('RebuildJobAccepted')),
            },
            ...common,
            403: problem(`The caller is not ${ROLE_ADMIN}.`),
            503: problem('The archive or a store is unavailable.'),
          },
        },
      },
      [path(ROUTES.rebuildJob)]: {
        get: {
          operationId: 'getRebuildJob',
          summary: `A view rebuild job: status and progress (${ROLE_ADMIN})`,
          parameters: [
            {
              name: 'jobId',
              in: 'path',
              required: true,
              description: 'The job, as the Location of POST /ops/rebuild-views names it.',
              schema: { type: 'string' },
            },
          ],
          responses: {
            200: {
              description: 'Running (progress so far), Completed (the totals) or Failed.',
              content: json(ref('RebuildJob')),
            },
            401: respRef('Unauthorized'),
            403: problem(`The caller is not ${ROLE_ADMIN}.`),
            404: respRef('NotFound'),
          },
        },
      },
      [path(ROUTES.deliveryTrace)]: {
        get: {
          operationId: 'getDeliveryTrace',
          summary: `A delivery's trace, for a waterfall (${ROLE_ADMIN})`,
          description:
            'The OpenTelemetry spans of one delivery, from its intake request through the saga activities to the projector writes, as far as the app keeps them. ' +
            'Only the local runtime keeps spans (the most recent ones, in memory); in Azure the spans are exported to Application Insights, which serves traces, and this route answers 501.',
          parameters: [idParameter('deliveryId', 'The delivery.')],
          responses: {
            200: { description: 'The spans, by start time.', content: json(ref('DeliveryTrace')) },
            400: respRef('BadRequest'),
            401: respRef('Unauthorized'),
            403: problem(`The caller is not ${ROLE_ADMIN}.`),
            404: problem('No span of the delivery is kept (unknown, or older than the spans kept).'),
            501: problem(
              'The app keeps no spans here: they are in Application Insights (the detail says how to find them).',
            ),
          },
        },
      },
      [path(ROUTES.deliveryReport)]: {
        get: {
          operationId: 'getDeliveryReport',
          summary: `The delivery report of a range, from the archive (${ROLE_ADMIN})`,
          description:
            'On-time rate, request-to-delivered percentiles, failures by reason, compensations per step and deliveries per hour by outcome, for the deliveries requested in [from, to), read from the Capture archive. ' +
            'On time: delivered at or before the request deadline, or, without one, the drop-off ETA announced at scheduling. The range may span at most RebuildMaxRangeDays here; `npm run report` reads longer ones. ' +
            'JSON, or the chart as SVG with `format=svg` or `Accept: image/svg+xml`.',
          parameters: [
            {
              name: 'from',
              in: 'query',
              required: true,
              description: 'Inclusive start (ISO-8601 UTC).',
              schema: { type: 'string' },
            },
            {
              name: 'to',
              in: 'query',
              required: true,
              description: 'Exclusive end (ISO-8601 UTC).',
              schema: { type: 'string' },
            },
            {
              name: 'format',
              in: 'query',
              required: false,
              description: 'json (default) or svg.',
              schema: { type: 'string', enum: ['json', 'svg'] },
            },
          ],
          responses: {
            200: {
              description: 'The report, or its chart.',
              content: {
                ...json(ref('DeliveryReport')),
                'image/svg+xml': { schema: { type: 'string', description: 'Deliveries per hour by outcome.' } },
              },
            },
            400: respRef('BadRequest'),
            401: respRef('Unauthorized'),
            403: problem(`The caller is not ${ROLE_ADMIN}.`),
            503: problem('No archive is configured, or it is unavailable.'),
          },
        },
      },
      ...opsPaths(),
    },
    components: {
      schemas: {
        DeliveryRequest: jsonSchemaOf(DeliveryRequestSchema),
        DeliveryAccepted: jsonSchemaOf(DeliveryAcceptedSchema),
        DeliveryStatus: jsonSchemaOf(DeliveryStatusViewSchema),
        DeliveryHistory: jsonSchemaOf(DeliveryHistorySchema),
        Drone: jsonSchemaOf(DroneViewSchema),
        HealthReport: jsonSchemaOf(HealthReportSchema),
        Problem: jsonSchemaOf(ProblemSchema),
        RebuildRequest: jsonSchemaOf(RebuildRequestSchema),
        RebuildJobAccepted: jsonSchemaOf(RebuildJobAcceptedSchema),
        RebuildJob: jsonSchemaOf(RebuildJobSchema),
        DeliveryTrace: jsonSchemaOf(DeliveryTraceSchema),
        DeliveryReport: jsonSchemaOf(DeliveryReportSchema),
        ...opsSchemas(),
      },
      responses: {
        BadRequest: problem('The request is not valid (bad id, body or JSON); `errors` names each field.'),
        Unauthorized: problem('No caller identity.'),
        NotFound: problem('Unknown, or not visible to the caller.'),
      },
      securitySchemes: {
        appServicePrincipalId: {
          type: 'apiKey',
          in: 'header',
          name: 'x-ms-client-principal-id',
          description:
            'Set by App Service Authentication after Entra ID sign-in: the caller id. Clients sign in; they never send it themselves.',
        },
        appServicePrincipal: {
          type: 'apiKey',
          in: 'header',
          name: 'x-ms-client-principal',
          description:
            'Set by App Service Authentication: base64 JSON with `claims`; a role is a claim typed `roles` or typed as `role_typ` names it.',
        },
      },
    },
  };
}

let cached: string | undefined;

/** The document as served: built once per instance. */
export function openApiJson(): string {
  cached ??= JSON.stringify(buildOpenApiDocument());
  return cached;
}
