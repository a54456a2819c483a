/**
 * The OpenAPI document served at /api/openapi.json: valid OpenAPI 3.1, naming every route,
 * method, status code and body of docs/contract.md §1, with schemas that the API's real bodies satisfy.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import Ajv2020 from 'ajv/dist/2020';
import { callHttp, loadFunctionApp } from '../../support/app';
import { deliveryStream } from '../../support/delivery';
import { foldStatus } from '../../../domain/delivery/status';
import { FUNCTIONS } from '../../../functions/names';
import { principalHeaders } from '../../../functions/http/identity';
import { useEmulators } from '../../support/emulators';

type Json = Record<string, unknown>;
let doc: Json;

beforeAll(async () => {
  await useEmulators('openapi');
  const anonymous = await callHttp(FUNCTIONS.openApi, { path: 'openapi.json' });
  expect(anonymous.status).toBe(401);
  const res = await callHttp(FUNCTIONS.openApi, {
    path: 'openapi.json',
    headers: principalHeaders({ id: 'reader', roles: [] }),
  });
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toContain('application/json');
  doc = res.json<Json>();
});

const op = (path: string, method: string): Json => {
  const item = (doc.paths as Record<string, Json>)[path];
  const operation = item?.[method] as Json | undefined;
  if (!operation) throw new Error(`${method.toUpperCase()} ${path} is not described`);
  return operation;
};
const responses = (path: string, method: string): Record<string, Json> =>
  op(path, method).responses as Record<string, Json>;

/** A response's schema, following one $ref to components.responses. */
function bodySchemaRef(
  path: string,
  method: string,
  status: string,
  mediaType = 'application/json',
): string | undefined {
  let r = responses(path, method)[status];
  if (r && typeof r.$ref === 'string')
    r = (doc.components as { responses: Record<string, Json> }).responses[r.$ref.split('/').pop() ?? ''];
  const schema = (r?.content as Record<string, { schema?: Json }> | undefined)?.[mediaType]?.schema;
  return schema?.$ref as string | undefined;
}

describe('GET /api/openapi.json', () => {
  it('is an anonymous GET', async () => {
    expect((await loadFunctionApp()).get(FUNCTIONS.openApi).trigger).toMatchObject({
      type: 'httpTrigger',
      route: 'openapi.json',
      methods: ['GET'],
      authLevel: 'anonymous',
    });
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const { Validator } = await import('@seriousme/openapi-schema-validator');
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    // The validator does reject: the same document with a response lacking its description is invalid.
    const broken = JSON.parse(JSON.stringify(doc)) as {
      paths: Record<string, Record<string, { responses: Record<string, Json> }>>;
    };
    delete broken.paths['/health']?.get?.responses['200']?.description;
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it('describes every route, method and status code of docs/contract.md §1', () => {
    const expected: [string, string, string[]][] = [
      ['/deliveries', 'post', ['202', '200', '400', '401', '409', '429']],
      ['/deliveries/{deliveryId}', 'get', ['200', '304', '400', '401', '404']],
      ['/deliveries/{deliveryId}', 'delete', ['202', '401', '404', '409']],
      ['/deliveries/{deliveryId}/history', 'get', ['200', '400', '401', '404']],
      ['/drones/{droneId}', 'get', ['200', '401', '404']],
      ['/health', 'get', ['200', '503']],
      ['/ops/rebuild-views', 'post', ['202', '400', '401', '403', '503']],
      ['/ops/rebuild-views/{jobId}', 'get', ['200', '401', '403', '404']],
    ];
    for (const [path, method, codes] of expected) {
      expect(Object.keys(responses(path, method)), `${method} ${path}`).toEqual(expect.arrayContaining(codes));
    }
  });

  it('describes every HTTP function the app registers, with its methods', async () => {
    const registered = (await loadFunctionApp()).byTriggerType('httpTrigger');
    expect(registered.length).toBeGreaterThanOrEqual(6);
    for (const fn of registered) {
      for (const method of fn.trigger.methods as string[]) {
        expect(
          () => op(`/${String(fn.trigger.route)}`, method.toLowerCase()),
          `${fn.name}: ${method} /${String(fn.trigger.route)}`,
        ).not.toThrow();
      }
    }
  });

  it('names the bodies, headers and security of the contract', () => {
    expect((op('/deliveries', 'post').requestBody as Json).content).toEqual({
      'application/json': { schema: { $ref: '#/components/schemas/DeliveryRequest' } },
    });
    expect(bodySchemaRef('/deliveries', 'post', '202')).toBe('#/components/schemas/DeliveryAccepted');
    expect(responses('/deliveries', 'post')['202']?.headers).toHaveProperty('Location');
    expect(responses('/deliveries', 'post')['429']?.headers).toHaveProperty('Retry-After');
    expect(bodySchemaRef('/deliveries/{deliveryId}', 'get', '200')).toBe('#/components/schemas/DeliveryStatus');
    expect(responses('/deliveries/{deliveryId}', 'get')['200']?.headers).toHaveProperty('ETag');
    expect((op('/deliveries/{deliveryId}', 'get').parameters as Json[]).map((p) => p.name)).toContain('If-None-Match');
    expect(bodySchemaRef('/deliveries/{deliveryId}/history', 'get', '200')).toBe(
      '#/components/schemas/DeliveryHistory',
    );
    expect(bodySchemaRef('/drones/{droneId}', 'get', '200')).toBe('#/components/schemas/Drone');
    expect(bodySchemaRef('/health', 'get', '200')).toBe('#/components/schemas/HealthReport');
    expect(bodySchemaRef('/health', 'get', '503')).toBe('#/components/schemas/HealthReport');
    for (const [path, method, status] of [
      ['/deliveries', 'post', '400'],
      ['/deliveries', 'post', '409'],
      ['/deliveries/{deliveryId}', 'get', '404'],
      ['/deliveries/{deliveryId}', 'delete', '409'],
      ['/drones/{droneId}', 'get', '404'],
    ] as const) {
      expect(bodySchemaRef(path, method, status, 'application/problem+json'), `${method} ${path} ${status}`).toBe(
        '#/components/schemas/Problem',
      );
    }
    expect(op('/health', 'get').security).toEqual([]);
    // Every other operation needs a signed-in caller, this document included.
    expect(op('/openapi.json', 'get').security).toBeUndefined();
    expect(bodySchemaRef('/ops/rebuild-views', 'post', '202')).toBe('#/components/schemas/RebuildJobAccepted');
    expect(responses('/ops/rebuild-views', 'post')['202']?.headers).toHaveProperty('Location');
    expect(responses('/ops/rebuild-views', 'post')['200']).toBeUndefined();
    expect(bodySchemaRef('/ops/rebuild-views/{jobId}', 'get', '200')).toBe('#/components/schemas/RebuildJob');
    const schemes = (doc.components as { securitySchemes: Record<string, Json> }).securitySchemes;
    expect(Object.values(schemes).map((s) => s.name)).toEqual(
      expect.arrayContaining(['x-ms-client-principal-id', 'x-ms-client-principal']),
    );
  });

  it("carries the validators' own constraints (the request schema is the one the intake validates with)", () => {
    const request = (doc.components as { schemas: Record<string, Json> }).schemas.DeliveryRequest as {
      properties: Record<string, Json>;
    };
    const pkg = request.properties.package as { properties: Record<string, Json> };
    expect(pkg.properties.weightKg).toMatchObject({ exclusiveMinimum: 0, maximum: 25 });
    expect((request.properties.pickup as { properties: Record<string, Json> }).properties.lat).toMatchObject({
      minimum: -90,
      maximum: 90,
    });
  });

  it("has schemas the API's bodies satisfy", () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema({ $id: 'https://fabrikam.example/openapi', components: doc.components });
    const check = (name: string, value: unknown): void => {
      const validate = ajv.getSchema(`https://fabrikam.example/openapi#/components/schemas/${name}`);
      if (!validate) throw new Error(`no schema ${name}`);
      expect(validate(value), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true);
    };
    for (const ending of ['delivered', 'cancelled', 'failed', 'inFlight'] as const) {
      const events = deliveryStream(`d-${ending}`, ending);
      check('DeliveryStatus', foldStatus(events));
      check('DeliveryHistory', {
        deliveryId: `d-${ending}`,
        events: events.map((e) => ({
          eventId: e.eventId,
          type: e.type,
          sequence: e.sequence,
          occurredAt: e.occurredAt,
          data: e.data,
        })),
      });
    }
    check('Drone', {
      droneId: 'drone-1',
      status: 'Idle',
      position: { lat: 1, lon: 2, altitudeM: 3 },
      batteryPct: 50,
      sequence: 4,
      reportedAt: '2026-11-22T10:00:05Z',
      stale: false,
    });
    check('Problem', {
      type: 'https://fabrikam.example/problems/not-found',
      title: 'Not found.',
      status: 404,
      detail: 'x',
    });
    check('HealthReport', {
      status: 'Unhealthy',
      checks: { cosmosDb: { status: 'Unhealthy', latencyMs: 2000, error: 'timeout' } },
    });
    expect(() => check('DeliveryStatus', { ...foldStatus(deliveryStream('x')), stage: 'Teleported' })).toThrow();
    const progress = {
      phase: 'running',
      slicesDone: 1,
      slicesTotal: 2,
      from: '2026-11-22T09:00:00.000Z',
      to: '2026-11-22T11:00:00.000Z',
      eventsRead: 5,
      skipped: 0,
      appended: 5,
      duplicates: 0,
      conflicts: 0,
      deliveries: 1,
      viewsWritten: 1,
      viewsUnchanged: 0,
      viewsEmpty: 0,
    };
    check('RebuildJobAccepted', {
      jobId: 'rebuild-1-2-all',
      status: 'Running',
      links: { status: '/api/ops/rebuild-views/rebuild-1-2-all' },
    });
    check('RebuildJob', {
      jobId: 'rebuild-1-2-all',
      status: 'Running',
      progress,
      createdAt: '2026-11-22T10:00:00.000Z',
      lastUpdatedAt: '2026-11-22T10:00:01.000Z',
    });
    check('RebuildJob', {
      jobId: 'rebuild-1-2-all',
      status: 'Completed',
      progress: { ...progress, phase: 'done', slicesDone: 2 },
      createdAt: 'x',
      lastUpdatedAt: 'y',
    });
    expect(() =>
      check('RebuildJob', { jobId: 'j', status: 'Sleeping', progress, createdAt: 'x', lastUpdatedAt: 'y' }),
    ).toThrow();
  });
});
