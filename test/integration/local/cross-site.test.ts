/**
 * The local runtime refuses cross-site use (docs/contract.md §4), over real HTTP: a Host that is not the
 * listener's address or a loopback name gets 403 (DNS rebinding), a foreign Origin gets 403 on
 * every route (app routes, /local/*, the durable API), and POST to /local/* or the durable API
 * without `content-type: application/json` gets 415. curl-like callers (no Origin, own Host)
 * and the real durable client still work; so does the dev principal.
 */
import '../../support/install-core';
import http from 'node:http';
import { app } from '@azure/functions';
import type { HttpRequest } from '@azure/functions';
import * as df from 'durable-functions';
import { InvocationContext } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventHubDecl } from '../../../functions/resources';
import { crossSiteVerdict, allowedHostnames } from '../../../packages/functions-local/src/http/cross-site';
import { EventHubNamespace } from '../../../packages/functions-local/src/eventhubs/hub';
import { eventHubsPublishRoute } from '../../../packages/functions-local/src/eventhubs/publish-endpoint';
import { HttpHost } from '../../../packages/functions-local/src/http/host';
import { silentLogger } from '../../../packages/functions-local/src/host/invocation';
import { currentRegistry } from '../../../packages/functions-local/src/core/functions-core';
import {
  createDurableHttpHandler,
  DurableEngine,
  DURABLE_WEBHOOK_PATH,
  startDurableHttpServer,
  VirtualClock,
} from '../../../packages/functions-local/src/durable';
import type { DurableHttpServer } from '../../../packages/functions-local/src/durable';

app.http('xsiteWhoAmI', {
  route: 'xsite/whoami',
  methods: ['GET', 'POST'],
  handler: async (request: HttpRequest) => ({
    jsonBody: { principalId: request.headers.get('x-ms-client-principal-id') },
  }),
});
df.app.orchestration('xsiteIdle', function* (context) {
  yield context.df.waitForExternalEvent('Never');
});

const HUBS: readonly EventHubDecl[] = [
  { name: 'telemetry', partitionKey: 'droneId', consumerGroups: [{ name: 'ingestion', setting: 'X' }], capture: false },
];

interface Raw {
  readonly status: number;
  readonly body: string;
}

/** A request with exactly these headers (fetch cannot set Host). */
function raw(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path, headers: { host: `127.0.0.1:${port}`, ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

let engine: DurableEngine;
let host: HttpHost;
let port: number;
let namespace: EventHubNamespace;
let durableServer: DurableHttpServer;

beforeAll(async () => {
  engine = await DurableEngine.create({ clock: new VirtualClock(Date.UTC(2026, 2, 1)) });
  namespace = EventHubNamespace.open({ hubs: HUBS });
  const durable = createDurableHttpHandler(engine, { taskHubName: 'XSite' });
  host = new HttpHost({
    functions: [...currentRegistry().functions.values()],
    port: 0,
    logger: silentLogger,
    devPrincipal: { id: 'dev-user', roles: [] },
    routes: [eventHubsPublishRoute(namespace)],
    rawHandlers: [durable],
  });
  port = Number(new URL(await host.listen()).port);
  durableServer = await startDurableHttpServer(engine, { taskHubName: 'XSite' });
});

afterAll(async () => {
  await host.close();
  await durableServer.close();
  namespace.close();
  await engine.close();
});

const stored = (): number =>
  namespace.hub('telemetry').partitionIds.reduce((n, p) => n + namespace.hub('telemetry').read(p, 0).length, 0);
const JSON_CT = { 'content-type': 'application/json' };
const publish = JSON.stringify([{ body: { droneId: 'd-1' }, partitionKey: 'd-1' }]);
const routes: readonly {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly body?: string;
}[] = [
  { name: 'app route', method: 'GET', path: '/api/xsite/whoami' },
  { name: 'app route (POST)', method: 'POST', path: '/api/xsite/whoami', body: '{}' },
  { name: '/local/*', method: 'POST', path: '/local/eventhubs/telemetry', body: publish },
  { name: 'durable API', method: 'GET', path: `${DURABLE_WEBHOOK_PATH}instances` },
  {
    name: 'durable API (start)',
    method: 'POST',
    path: `${DURABLE_WEBHOOK_PATH}orchestrators/xsiteIdle/xsite-1`,
    body: '{}',
  },
];

describe('requests from the runtime itself, curl and the tools', () => {
  it.each(routes)('$name: own Host, no Origin, JSON: served', async (r) => {
    const res = await raw(port, r.method, r.path, JSON_CT, r.body);
    expect(res.status, res.body).toBeLessThan(300);
  });

  it('loopback names are the runtime’s own: localhost and 127.0.0.1, and an Origin naming them', async () => {
    expect((await raw(port, 'GET', '/api/xsite/whoami', { host: `localhost:${port}` })).status).toBe(200);
    expect((await raw(port, 'GET', '/api/xsite/whoami', { origin: `http://127.0.0.1:${port}` })).status).toBe(200);
    expect((await raw(port, 'GET', '/api/xsite/whoami', { origin: `http://localhost:${port}` })).status).toBe(200);
  });

  it('the dev principal still reaches the app for curl', async () => {
    const res = await raw(port, 'GET', '/api/xsite/whoami', {});
    expect(JSON.parse(res.body)).toEqual({ principalId: 'dev-user' });
  });

  it('the real durable client (rpcBaseUrl) starts, raises and terminates through the guarded server', async () => {
    const context = new InvocationContext({
      functionName: 'xsiteCaller',
      invocationId: 'inv',
      options: { trigger: { name: 't', type: 'httpTrigger' }, extraInputs: [{ name: 'c', type: 'durableClient' }] },
      logHandler: () => undefined,
    });
    context.extraInputs.set('c', durableServer.clientBindingData());
    const client = df.getClient(context);
    const id = await client.startNew('xsiteIdle', { instanceId: 'xsite-client' });
    await client.raiseEvent(id, 'Other', { x: 1 });
    await client.terminate(id, 'done');
    expect((await client.getStatus(id)).runtimeStatus).toBe('Terminated');
  });
});

describe('DNS rebinding: a Host that is not the listener’s', () => {
  it.each(routes)('$name: 403', async (r) => {
    const res = await raw(port, r.method, r.path, { ...JSON_CT, host: `attacker.example:${port}` }, r.body);
    expect(res.status).toBe(403);
  });

  it('the right name on another port, or no port, is refused too', async () => {
    expect((await raw(port, 'GET', '/api/xsite/whoami', { host: `127.0.0.1:${port + 1}` })).status).toBe(403);
    expect((await raw(port, 'GET', '/api/xsite/whoami', { host: '127.0.0.1' })).status).toBe(403);
  });

  it('the standalone durable API server refuses it as well', async () => {
    const dport = Number(new URL(durableServer.origin).port);
    expect(
      (await raw(dport, 'GET', `${DURABLE_WEBHOOK_PATH}instances`, { host: `rebound.example:${dport}` })).status,
    ).toBe(403);
    expect((await raw(dport, 'GET', `${DURABLE_WEBHOOK_PATH}instances`, {})).status).toBe(200);
  });
});

describe('a web page: an Origin other than the runtime’s own', () => {
  it.each(routes)('$name: 403', async (r) => {
    const res = await raw(port, r.method, r.path, { ...JSON_CT, origin: 'https://evil.example' }, r.body);
    expect(res.status).toBe(403);
    expect(res.body).toContain('Web pages cannot use the local runtime');
  });

  it('an opaque origin (null) and the right host on https are not the runtime’s own either', async () => {
    expect((await raw(port, 'GET', '/api/xsite/whoami', { origin: 'null' })).status).toBe(403);
    expect((await raw(port, 'GET', '/api/xsite/whoami', { origin: `https://127.0.0.1:${port}` })).status).toBe(403);
  });

  it('nothing was published or started by the refused requests', async () => {
    await raw(
      port,
      'POST',
      `${DURABLE_WEBHOOK_PATH}orchestrators/xsiteIdle/xsite-evil`,
      { ...JSON_CT, origin: 'https://evil.example' },
      '{}',
    );
    expect((await raw(port, 'GET', `${DURABLE_WEBHOOK_PATH}instances/xsite-evil`, {})).status).toBe(404);
    const before = stored();
    await raw(port, 'POST', '/local/eventhubs/telemetry', { ...JSON_CT, origin: 'https://evil.example' }, publish);
    expect(stored()).toBe(before);
  });
});

describe('mutating /local/* and durable routes need content-type: application/json (415)', () => {
  const mutating = routes.filter((r) => r.method === 'POST' && !r.path.startsWith('/api/'));
  it.each(
    mutating.flatMap((r) =>
      [undefined, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'].map((ct) => ({
        ...r,
        ct: ct ?? '(none)',
      })),
    ),
  )('$name with $ct: 415', async (r) => {
    const res = await raw(port, r.method, r.path, r.ct === '(none)' ? {} : { 'content-type': r.ct }, r.body);
    expect(res.status).toBe(415);
  });

  it('application/json with parameters is JSON', async () => {
    expect(
      (
        await raw(
          port,
          'POST',
          '/local/eventhubs/telemetry',
          { 'content-type': 'application/json; charset=utf-8' },
          publish,
        )
      ).status,
    ).toBe(202);
  });
});

describe('the rules as a function', () => {
  const names = allowedHostnames('127.0.0.1');
  it('IPv6 loopback in brackets is a loopback name; a wildcard listener adds no name of its own', () => {
    expect(
      crossSiteVerdict(
        { method: 'GET', path: '/', host: '[::1]:7071', origin: undefined, contentType: undefined },
        names,
        7071,
      ),
    ).toBeUndefined();
    expect([...allowedHostnames('0.0.0.0')].sort()).toEqual(['127.0.0.1', '[::1]', 'localhost']);
    expect(
      crossSiteVerdict(
        { method: 'GET', path: '/', host: undefined, origin: undefined, contentType: undefined },
        names,
        7071,
      )?.status,
    ).toBe(403);
  });
});
