/**
 * The operations console's admin routes in the OpenAPI document (merged by openapi.ts): kept
 * apart so the public API's description stays readable and the console's routes grow here.
 */
import { ROLE_ADMIN } from '../../domain/shared/caller';
import { DELIVERY_STAGES } from '../../domain/delivery/status';
import { ID_PATTERN } from '../../domain/shared/ids';
import { ROUTES } from '../names';
import { jsonSchemaOf } from './openapi';
import { PROBLEM_CONTENT_TYPE } from './problem';
import {
  OpsDeadLettersSchema,
  OpsDeliveriesSchema,
  OpsFleetSchema,
  OpsHubLagSchema,
  OpsReplayRequestSchema,
  OpsReplayResultSchema,
  OpsSupervisorAlertsSchema,
  OpsTimelineSchema,
} from './ops-schemas';

type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json): Json => ({ 'application/json': { schema } });
const respRef = (name: string): Json => ({ $ref: `#/components/responses/${name}` });
const problem = (description: string): Json => ({
  description,
  content: { [PROBLEM_CONTENT_TYPE]: { schema: ref('Problem') } },
});

const forbidden = problem(`The caller is not ${ROLE_ADMIN}.`);
const ifNoneMatch = {
  name: 'If-None-Match',
  in: 'header',
  required: false,
  description: 'The ETag of an earlier answer: 304 while nothing changed.',
  schema: { type: 'string' },
};
const notModified = {
  description: 'Not modified: If-None-Match named the current ETag.',
  headers: { ETag: { schema: { type: 'string' } } },
};

function conditionalGet(
  operationId: string,
  summary: string,
  description: string,
  schema: string,
  extra: Json = {},
): Json {
  return {
    get: {
      operationId,
      summary: `${summary} (${ROLE_ADMIN})`,
      description,
      parameters: [ifNoneMatch, ...((extra.parameters as Json[] | undefined) ?? [])],
      responses: {
        200: {
          description: 'The current answer.',
          headers: { ETag: { description: 'A hash of this answer.', schema: { type: 'string' } } },
          content: json(ref(schema)),
        },
        304: notModified,
        401: respRef('Unauthorized'),
        403: forbidden,
        ...((extra.responses as Json | undefined) ?? {}),
      },
    },
  };
}

export function opsPaths(): Json {
  return {
    [`/${ROUTES.opsDrones}`]: conditionalGet(
      'opsListDrones',
      'The fleet',
      "Every drone's latest state with `stale` (DroneFreshnessMinutes).",
      'OpsFleet',
    ),
    [`/${ROUTES.opsDeliveries}`]: conditionalGet(
      'opsListDeliveries',
      'Deliveries: counts per stage and the list',
      "Counts are over every status view; the list is the ones of `status` (all when absent), newest change first, each marked late (no event for longer than its stage's SLA) and stuck (and the supervisor's grace on top).",
      'OpsDeliveries',
      {
        parameters: [
          {
            name: 'status',
            in: 'query',
            required: false,
            description: 'Only deliveries in this stage.',
            schema: { type: 'string', enum: [...DELIVERY_STAGES] },
          },
        ],
        responses: { 400: respRef('BadRequest') },
      },
    ),
    [`/${ROUTES.opsDeliveryTimeline}`]: {
      parameters: [
        {
          name: 'deliveryId',
          in: 'path',
          required: true,
          description: 'The delivery.',
          schema: { type: 'string', pattern: ID_PATTERN },
        },
      ],
      ...conditionalGet(
        'opsDeliveryTimeline',
        "A delivery's timeline",
        "The event stream beside the saga's durable history (and its recovery's): activity calls with attempts, compensations, timers, retry backoffs and external events.",
        'OpsTimeline',
        { responses: { 400: respRef('BadRequest'), 404: respRef('NotFound') } },
      ),
    },
    [`/${ROUTES.opsDeadLetters}`]: conditionalGet(
      'opsListDeadLetters',
      'Dead letters',
      'Reason, field errors, Event Hubs metadata and raw body of each, newest first, with its replay mark.',
      'OpsDeadLetters',
      {
        parameters: [
          {
            name: 'source',
            in: 'query',
            required: false,
            description: 'telemetry or delivery-events.',
            schema: { type: 'string' },
          },
          {
            name: 'reason',
            in: 'query',
            required: false,
            description: 'NotJson, BodyTooLarge, SchemaViolation, UnsupportedSchemaVersion or RetriesExhausted.',
            schema: { type: 'string' },
          },
        ],
      },
    ),
    [`/${ROUTES.opsReplayDeadLetter}`]: {
      post: {
        operationId: 'opsReplayDeadLetter',
        summary: `Replay one dead letter to its source hub (${ROLE_ADMIN})`,
        description:
          "Re-validates the body with today's schema and publishes it to its source hub with the contract's partition key, once: the record is claimed in its blob metadata first, so a second replay (here or by `npm run deadletter -- replay`) answers alreadyReplayed and publishes nothing.",
        requestBody: { required: true, content: json(ref('OpsReplayRequest')) },
        responses: {
          200: {
            description: 'Replayed now, or already replayed (naming when and where).',
            content: json(ref('OpsReplayResult')),
          },
          400: respRef('BadRequest'),
          401: respRef('Unauthorized'),
          403: forbidden,
          404: respRef('NotFound'),
          409: problem("Today's schema still refuses the body, or its source cannot be replayed."),
        },
      },
    },
    [`/${ROUTES.opsSupervisorAlerts}`]: conditionalGet(
      'opsSupervisorAlerts',
      'Supervisor findings',
      "The supervisor's verdict on every unfinished saga as of now (what its next run would do; nothing is done here), and the compensations it gave up on.",
      'OpsSupervisorAlerts',
    ),
    [`/${ROUTES.opsHubLag}`]: conditionalGet(
      'opsHubLag',
      'Hub lag per partition',
      "Each consumer's checkpoint against each partition's last enqueued event. `available: false` with the reason where the numbers cannot be read honestly.",
      'OpsHubLag',
    ),
  };
}

export function opsSchemas(): Json {
  return {
    OpsFleet: jsonSchemaOf(OpsFleetSchema),
    OpsDeliveries: jsonSchemaOf(OpsDeliveriesSchema),
    OpsTimeline: jsonSchemaOf(OpsTimelineSchema),
    OpsDeadLetters: jsonSchemaOf(OpsDeadLettersSchema),
    OpsReplayRequest: jsonSchemaOf(OpsReplayRequestSchema),
    OpsReplayResult: jsonSchemaOf(OpsReplayResultSchema),
    OpsSupervisorAlerts: jsonSchemaOf(OpsSupervisorAlertsSchema),
    OpsHubLag: jsonSchemaOf(OpsHubLagSchema),
  };
}
