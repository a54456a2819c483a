import '../../support/install-core';
import { HttpResponse, app } from '@azure/functions';
import type { HttpHandler, HttpRequest } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLE_ADMIN } from '../../../domain/shared/caller';
import { principalHeaders } from '../../../functions/http/identity';
import { problemResponse } from '../../../functions/http/problem';
import type { EventHubDecl } from '../../../functions/resources';
import { EventHubNamespace } from '../../../packages/functions-local/src/eventhubs/hub';
import { eventHubsPublishRoute } from '../../../packages/functions-local/src/eventhubs/publish-endpoint';
import { HttpHost } from '../../../packages/functions-local/src/http/host';
import type { HttpHostOptions } from '../../../packages/functions-local/src/http/host';
import { silentLogger } from '../../../packages/functions-local/src/host/invocation';
import { currentRegistry } from '../../../packages/functions-local/src/core/functions-core';

const echo = (name: string) => async (request: HttpRequest) => ({
  jsonBody: {
    fn: name,
    method: request.method,
    params: request.params,
    query: request.query.getAll('tag'),
    url: request.url,
  },
});

app.http('localHttpItemById', { route: 'items/{id:int}', methods: ['GET'], handler: echo('byId') });
app.http('localHttpItemDelete', { route: 'items/{id:int}', methods: ['DELETE'], handler: echo('delete') });
app.http('localHttpItemByName', { route: 'items/{name:alpha}', methods: ['GET'], handler: echo('byName') });
app.http('localHttpItemNew', { route: 'items/new', methods: ['GET'], handler: echo('new') });
app.http('localHttpFiles', { route: 'files/{*rest}', methods: ['GET'], handler: echo('files') });
app.http('localHttpOptional', { route: 'pages/{page:int?}', methods: ['GET'], handler: echo('optional') });
app.http('localHttpCode', { route: 'codes/{code:regex(^[a-z]{{2}}\\d+$)}', methods: ['GET'], handler: echo('code') });
app.http('localHttpRange', { route: 'levels/{n:int:range(1,3)}', methods: ['GET'], handler: echo('range') });
app.http('localHttpDefaultRoute', { methods: ['GET'], handler: echo('default-route') });
app.http('localHttpWhoAmI', {
  route: 'whoami',
  methods: ['GET'],
  handler: async (request: HttpRequest) => ({
    jsonBody: { user: request.user, principalId: request.headers.get('x-ms-client-principal-id') },
  }),
});
app.http('localHttpEchoBody', {
  route: 'echo',
  methods: ['POST'],
  handler: async (request: HttpRequest) => ({
    status: 201,
    headers: { 'content-type': 'text/plain', 'x-length': String((await request.text()).length) },
    body: 'created',
  }),
});
app.http('localHttpBinary', {
  route: 'binary',
  methods: ['GET'],
  handler: async () => ({ headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([0, 1, 2, 255]) }),
});
app.http('localHttpCookies', {
  route: 'cookies',
  methods: ['GET'],
  handler: async () =>
    new HttpResponse({
      status: 202,
      jsonBody: { ok: true },
      cookies: [
        { name: 'session', value: 'a b', path: '/', httpOnly: true, secure: true, sameSite: 'Strict', maxAge: 60 },
        { name: 'theme', value: 'dark' },
      ],
    }),
});
// The types ask for a response, but a JavaScript handler may return nothing.
app.http('localHttpNothing', {
  route: 'nothing',
  methods: ['POST'],
  handler: (async () => undefined) as unknown as HttpHandler,
});
app.http('localHttpBoom', {
  route: 'boom',
  methods: ['GET'],
  handler: async () => {
    throw new Error('secret connection string in a stack');
  },
});

const HUBS: EventHubDecl[] = [{ name: 'telemetry', partitionKey: 'droneId', consumerGroups: [], capture: false }];
const namespace = EventHubNamespace.open({ hubs: HUBS, partitionCount: 2 });
const hosts: HttpHost[] = [];

async function start(options: Partial<HttpHostOptions> = {}): Promise<string> {
  // The app's identity headers and problem responses, as its launcher hands them over (tools/local/fabrikam.ts).
  const host = new HttpHost({
    functions: [...currentRegistry().functions.values()],
    port: 0,
    logger: silentLogger,
    principalHeaders,
    problem: problemResponse,
    ...options,
  });
  hosts.push(host);
  return host.listen();
}

let base = '';
beforeAll(async () => {
  base = await start({ routes: [eventHubsPublishRoute(namespace, problemResponse)], maxBodyBytes: 4096 });
});
afterAll(async () => {
  await Promise.all(hosts.map((h) => h.close()));
  namespace.close();
});

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

describe('routing to HTTP functions', () => {
  it('matches parameters by constraint, prefers literals, and passes params, query and url', async () => {
    expect(await json(await fetch(`${base}/api/items/42?tag=a&tag=b`))).toMatchObject({
      fn: 'byId',
      method: 'GET',
      params: { id: '42' },
      query: ['a', 'b'],
      url: `${base}/api/items/42?tag=a&tag=b`,
    });
    expect(await json(await fetch(`${base}/api/items/widget`))).toMatchObject({
      fn: 'byName',
      params: { name: 'widget' },
    });
    expect(await json(await fetch(`${base}/api/ITEMS/new`))).toMatchObject({ fn: 'new' });
    expect((await fetch(`${base}/api/items/12abc`)).status).toBe(404);
    expect(await json(await fetch(`${base}/api/files/a/b/c.txt`))).toMatchObject({
      fn: 'files',
      params: { rest: 'a/b/c.txt' },
    });
    expect(await json(await fetch(`${base}/api/files`))).toMatchObject({ fn: 'files', params: {} });
    expect(await json(await fetch(`${base}/api/pages`))).toMatchObject({ fn: 'optional', params: {} });
    expect(await json(await fetch(`${base}/api/pages/3`))).toMatchObject({ fn: 'optional', params: { page: '3' } });
    expect((await fetch(`${base}/api/pages/x`)).status).toBe(404);
    expect(await json(await fetch(`${base}/api/codes/ab12`))).toMatchObject({ fn: 'code', params: { code: 'ab12' } });
    expect((await fetch(`${base}/api/codes/abc12`)).status).toBe(404);
    expect((await fetch(`${base}/api/levels/2`)).status).toBe(200);
    expect((await fetch(`${base}/api/levels/4`)).status).toBe(404);
    expect(await json(await fetch(`${base}/api/localHttpDefaultRoute`))).toMatchObject({ fn: 'default-route' });
    expect(await json(await fetch(`${base}/api/items/%34%32`))).toMatchObject({ fn: 'byId', params: { id: '42' } });
  });

  it('answers 404 for unknown paths and 405 with Allow for a known path with another method', async () => {
    const missing = await fetch(`${base}/api/nothing-here`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    expect((await fetch(`${base}/items/42`)).status).toBe(404); // outside the route prefix
    const wrong = await fetch(`${base}/api/items/42`, { method: 'POST' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('DELETE, GET');
    expect(await json(wrong)).toMatchObject({ status: 405, title: 'Method not allowed.' });
    expect(await json(await fetch(`${base}/api/items/42`, { method: 'DELETE' }))).toMatchObject({ fn: 'delete' });
  });

  it('honours another route prefix', async () => {
    const url = await start({ routePrefix: '' });
    expect(await json(await fetch(`${url}/items/7`))).toMatchObject({ fn: 'byId', params: { id: '7' } });
    expect((await fetch(`${url}/api/items/7`)).status).toBe(404);
  });
});

describe('responses', () => {
  it('maps status, headers and a string body, and passes the request body through', async () => {
    const res = await fetch(`${base}/api/echo`, { method: 'POST', body: 'hello' });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('text/plain');
    expect(res.headers.get('x-length')).toBe('5');
    expect(await res.text()).toBe('created');
  });

  it('sends Buffer bodies byte for byte', async () => {
    const res = await fetch(`${base}/api/binary`);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(Buffer.from([0, 1, 2, 255]));
  });

  it('maps an HttpResponse with jsonBody and cookies', async () => {
    const res = await fetch(`${base}/api/cookies`);
    expect(res.status).toBe(202);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ ok: true });
    expect(res.headers.getSetCookie()).toEqual([
      'session=a%20b; Path=/; Max-Age=60; Secure; HttpOnly; SameSite=Strict',
      'theme=dark',
    ]);
  });

  it('answers 204 when the handler returns nothing', async () => {
    const res = await fetch(`${base}/api/nothing`, { method: 'POST' });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
  });

  it('turns a throwing handler into a 500 problem without leaking the error', async () => {
    const res = await fetch(`${base}/api/boom`);
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ status: 500, title: 'Internal server error.' });
    expect(text).not.toMatch(/secret|stack|at /);
  });

  it('refuses bodies over the size limit with 413', async () => {
    const res = await fetch(`${base}/api/echo`, { method: 'POST', body: 'x'.repeat(5000) });
    expect(res.status).toBe(413);
  });
});

describe('caller identity', () => {
  const admin = principalHeaders({ id: 'user-1', roles: [ROLE_ADMIN] });

  it('exposes App Service principal headers as request.user', async () => {
    const body = await json(await fetch(`${base}/api/whoami`, { headers: admin }));
    expect(body.user).toMatchObject({ type: 'AppService', id: 'user-1', username: 'user-1', identityProvider: 'aad' });
    expect((body.user as { claimsPrincipalData: unknown }).claimsPrincipalData).toMatchObject({
      claims: expect.arrayContaining([{ typ: 'roles', val: ROLE_ADMIN }]),
    });
    expect(await json(await fetch(`${base}/api/whoami`))).toEqual({ user: null, principalId: null });
  });

  it('adds the dev principal to requests without one, and strips client-sent ones when not trusted', async () => {
    const dev = await start({ devPrincipal: { id: 'dev-user', roles: ['Deliveries.Reader'] } });
    expect(await json(await fetch(`${dev}/api/whoami`))).toMatchObject({
      principalId: 'dev-user',
      user: { id: 'dev-user' },
    });
    expect(await json(await fetch(`${dev}/api/whoami`, { headers: admin }))).toMatchObject({ principalId: 'user-1' });

    const strict = await start({ trustClientPrincipalHeaders: false });
    expect(await json(await fetch(`${strict}/api/whoami`, { headers: admin }))).toEqual({
      user: null,
      principalId: null,
    });
  });
});

describe('POST /local/eventhubs/{eventHubName}', () => {
  const post = (hub: string, body: string): Promise<Response> =>
    fetch(`${base}/local/eventhubs/${hub}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('publishes the events and answers 202 with the count', async () => {
    const res = await post(
      'telemetry',
      JSON.stringify([
        { body: { droneId: 'd-1', sequence: 1 }, partitionKey: 'd-1', properties: { source: 'test' } },
        { body: 'plain' },
      ]),
    );
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 2 });
    const hub = namespace.hub('telemetry');
    const events = hub.partitionIds.flatMap((p) => hub.read(p, 0));
    expect(events.map((e) => JSON.parse(e.body.toString()) as unknown)).toContainEqual({ droneId: 'd-1', sequence: 1 });
    const keyed = hub.read(hub.partitionFor('d-1'), 0).find((e) => e.partitionKey === 'd-1');
    expect(keyed?.properties).toEqual({ source: 'test' });
  });

  it('answers 404 for an unknown hub', async () => {
    const res = await post('nope', '[]');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it.each([
    ['not json', '{oops', ''],
    ['not an array', '{"body":1}', ''],
    ['an item without body', '[{"partitionKey":"k"}]', '/0/body'],
    ['a bad partition key', '[{"body":1,"partitionKey":5}]', '/0/partitionKey'],
    ['bad properties', '[{"body":1,"properties":[1]}]', '/0/properties'],
  ])('answers 400 problem+json for %s and publishes nothing', async (_what, body, errorPath) => {
    const hub = namespace.hub('telemetry');
    const before = hub.partitionIds.map((p) => hub.lastSequenceNumber(p));
    const res = await post('telemetry', body);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await res.json()) as { status: number; errors: { path: string }[] };
    expect(problem.status).toBe(400);
    expect(problem.errors.map((e) => e.path)).toContain(errorPath);
    expect(hub.partitionIds.map((p) => hub.lastSequenceNumber(p))).toEqual(before);
  });

  it('allows only POST', async () => {
    expect((await fetch(`${base}/local/eventhubs/telemetry`)).status).toBe(405);
  });
});
