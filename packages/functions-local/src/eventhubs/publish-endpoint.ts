/**
 * `POST /local/eventhubs/{eventHubName}` (docs/contract.md §4): publishes a JSON array of
 * `{ body, partitionKey?, properties? }` to an in-process hub and answers `202 { accepted }`.
 * Unknown hub: 404. A body that is not such an array: 400 problem+json naming each bad item.
 * The whole request is validated before anything is published, so a 400 publishes nothing.
 */
import type { LocalResponse, LocalRoute } from '../http/host';
import { plainProblem } from '../http/options';
import type { FieldProblem, ProblemResponder } from '../http/options';
import type { EventHubNamespace, EventToPublish } from './hub';

export const PUBLISH_ROUTE = '/local/eventhubs/{eventHubName}';

function problemOf(
  respond: ProblemResponder,
  status: number,
  slug: string,
  title: string,
  detail: string,
  errors?: FieldProblem[],
): LocalResponse {
  const init = respond(status, slug, title, detail, errors ? { errors } : {});
  return { status, headers: init.headers as Record<string, string>, body: String(init.body) };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parsePublishBody(text: string): { events: EventToPublish[] } | { errors: FieldProblem[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { errors: [{ path: '', message: `The body is not valid JSON: ${(e as Error).message}` }] };
  }
  if (!Array.isArray(parsed)) return { errors: [{ path: '', message: 'The body must be a JSON array of events.' }] };
  const errors: FieldProblem[] = [];
  const events: EventToPublish[] = [];
  parsed.forEach((item: unknown, i) => {
    if (!isPlainObject(item)) {
      errors.push({ path: `/${i}`, message: 'Each event must be an object with a "body".' });
      return;
    }
    const unknownKeys = Object.keys(item).filter((k) => k !== 'body' && k !== 'partitionKey' && k !== 'properties');
    for (const k of unknownKeys) errors.push({ path: `/${i}/${k}`, message: 'Unknown field.' });
    if (!('body' in item) || item.body === undefined) errors.push({ path: `/${i}/body`, message: 'Required.' });
    if (item.partitionKey !== undefined && (typeof item.partitionKey !== 'string' || item.partitionKey === '')) {
      errors.push({ path: `/${i}/partitionKey`, message: 'Must be a non-empty string.' });
    }
    if (item.properties !== undefined && !isPlainObject(item.properties)) {
      errors.push({ path: `/${i}/properties`, message: 'Must be an object.' });
    }
    events.push({
      body: item.body,
      ...(typeof item.partitionKey === 'string' ? { partitionKey: item.partitionKey } : {}),
      ...(isPlainObject(item.properties) ? { properties: item.properties } : {}),
    });
  });
  return errors.length > 0 ? { errors } : { events };
}

/** `problem`: how the app words its error responses (default plain RFC 9457). */
export function eventHubsPublishRoute(
  namespace: EventHubNamespace,
  problem: ProblemResponder = plainProblem,
): LocalRoute {
  return {
    methods: ['POST'],
    path: PUBLISH_ROUTE,
    handle(request) {
      const hubName = request.params.eventHubName ?? '';
      if (!namespace.has(hubName)) {
        return problemOf(problem, 404, 'not-found', 'Not found.', `No event hub named "${hubName}" is declared.`);
      }
      const parsed = parsePublishBody(request.body.toString('utf8'));
      if ('errors' in parsed) {
        return problemOf(
          problem,
          400,
          'validation-failed',
          'The request is not valid.',
          'The body must be a JSON array of { body, partitionKey?, properties? }.',
          parsed.errors,
        );
      }
      namespace.hub(hubName).publish(parsed.events);
      return {
        status: 202,
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ accepted: parsed.events.length }),
      };
    },
  };
}
