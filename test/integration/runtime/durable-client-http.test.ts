/**
 * The real durable-functions `DurableClient`, obtained with `df.getClient(context)` from binding
 * data the engine's builder produces, talks to the engine over its HTTP API: start, status,
 * events, terminate, queries, purge, and the management links of createCheckStatusResponse.
 */
import '../../support/install-core';
import { HttpRequest, InvocationContext } from '@azure/functions';
import type { HttpResponse } from '@azure/functions';
import * as df from 'durable-functions';
import type { DurableClient, OrchestrationContext } from 'durable-functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentRegistry } from '../../../packages/functions-local/src/core/functions-core';
import {
  bindDurableClient,
  DURABLE_WEBHOOK_PATH,
  DurableEngine,
  durableClientInputNames,
  startDurableHttpServer,
  VirtualClock,
} from '../../../packages/functions-local/src/durable';
import type { DurableHttpServer } from '../../../packages/functions-local/src/durable';

df.app.activity('rtHttpShout', { handler: (s: unknown) => String(s).toUpperCase() });

df.app.orchestration('rtHttpApproval', function* (context: OrchestrationContext) {
  const request = context.df.getInput<{ item: string }>();
  context.df.setCustomStatus('awaiting approval');
  const approver: string = yield context.df.waitForExternalEvent('Approved');
  const shouted: string = yield context.df.callActivity('rtHttpShout', request.item);
  return { item: shouted, approver };
});

df.app.orchestration('rtHttpIdle', function* (context: OrchestrationContext) {
  yield context.df.waitForExternalEvent('Never');
});

/** An HTTP starter as an app writes it: the client arrives through the durableClient input. */
df.app.client.http('rtHttpStarter', {
  route: 'rt-http-starter/{id}',
  methods: ['POST'],
  handler: async (request: HttpRequest, client: DurableClient): Promise<HttpResponse> => {
    const id = await client.startNew('rtHttpApproval', { instanceId: request.params.id, input: await request.json() });
    return client.createCheckStatusResponse(request, id);
  },
});

let engine: DurableEngine;
let server: DurableHttpServer;

beforeAll(async () => {
  engine = await DurableEngine.create({ clock: new VirtualClock(Date.UTC(2026, 2, 1)) });
  server = await startDurableHttpServer(engine, { taskHubName: 'RuntimeTestHub' });
});

afterAll(async () => {
  await server.close();
  await engine.close();
});

/** What a local runtime does for a function with a durableClient input: context options from metadata, then the binding data. */
function contextFor(functionName: string): InvocationContext {
  const fn = currentRegistry().get(functionName);
  const extraInputs = durableClientInputNames(fn).map((name) => ({ name, type: 'durableClient' }));
  const context = new InvocationContext({
    functionName,
    invocationId: `inv-${functionName}`,
    options: { trigger: { name: fn.trigger.name, type: fn.trigger.type }, extraInputs },
    logHandler: () => undefined,
  });
  expect(bindDurableClient(context, server.clientBindingData())).toBe(1);
  return context;
}

function plainClient(): DurableClient {
  const context = new InvocationContext({
    functionName: 'rtHttpTestCaller',
    options: { trigger: { name: 'req', type: 'httpTrigger' }, extraInputs: [df.input.durableClient()] },
    logHandler: () => undefined,
  });
  bindDurableClient(context, server.clientBindingData());
  return df.getClient(context);
}

describe('DurableClient over the engine HTTP API', () => {
  it('builds binding data that getClient accepts, pointing rpcBaseUrl at the server', () => {
    const data = server.clientBindingData();
    expect(data.rpcBaseUrl).toBe(`${server.origin}/runtime/webhooks/durabletask/`);
    expect(data.taskHubName).toBe('RuntimeTestHub');
    expect(data.managementUrls.id).toBe('INSTANCEID');
    expect(() => plainClient()).not.toThrow();
  });

  it('starts, queries, signals and completes an orchestration through the client', async () => {
    const client = plainClient();
    const id = await client.startNew('rtHttpApproval', {
      instanceId: 'http-approval-1',
      input: { item: 'drone battery' },
    });
    expect(id).toBe('http-approval-1');
    await engine.idle();

    const running = await client.getStatus(id);
    expect(running.runtimeStatus).toBe('Running');
    expect(running.input).toEqual({ item: 'drone battery' });
    expect(running.customStatus).toBe('awaiting approval');
    expect(running.createdTime).toBeInstanceOf(Date);

    await client.raiseEvent(id, 'Approved', 'dispatcher-7');
    await engine.idle();

    const done = await client.getStatus(id, { showHistory: true, showHistoryOutput: true });
    expect(done.runtimeStatus).toBe('Completed');
    expect(done.output).toEqual({ item: 'DRONE BATTERY', approver: 'dispatcher-7' });
    const history = done.history as { EventType: string; Result?: unknown }[];
    expect(history.map((e) => e.EventType)).toEqual([
      'ExecutionStarted',
      'EventRaised',
      'TaskScheduled',
      'TaskCompleted',
      'ExecutionCompleted',
    ]);
    expect(history.find((e) => e.EventType === 'TaskCompleted')?.Result).toBe('DRONE BATTERY');
  });

  it('generates an instance id when none is given', async () => {
    const client = plainClient();
    const id = await client.startNew('rtHttpIdle');
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    await engine.idle();
    await client.terminate(id, 'cleanup');
  });

  it('rejects a duplicate start of a running instance id', async () => {
    const client = plainClient();
    await client.startNew('rtHttpIdle', { instanceId: 'http-dup' });
    await expect(client.startNew('rtHttpIdle', { instanceId: 'http-dup' })).rejects.toThrow(/409/);
    await client.terminate('http-dup', 'cleanup');
  });

  it('terminates with a reason and reports unknown instances', async () => {
    const client = plainClient();
    const id = await client.startNew('rtHttpIdle', { instanceId: 'http-terminate-me' });
    await engine.idle();
    await client.terminate(id, 'no longer needed');
    const status = await client.getStatus(id);
    expect(status.runtimeStatus).toBe('Terminated');
    expect(status.output).toBe('no longer needed');
    await expect(client.getStatus('http-nobody')).rejects.toThrow(/404/);
    await expect(client.raiseEvent('http-nobody', 'Approved', 1)).rejects.toThrow(/No instance with ID 'http-nobody'/);
  });

  it('lists instances by runtime status and creation time, and purges finished ones', async () => {
    const client = plainClient();
    await client.startNew('rtHttpIdle', { instanceId: 'http-list-running' });
    await client.startNew('rtHttpIdle', { instanceId: 'http-list-terminated' });
    await engine.idle();
    await client.terminate('http-list-terminated', 'done');

    const running = await client.getStatusBy({ runtimeStatus: [df.OrchestrationRuntimeStatus.Running] });
    const runningIds = running.map((s) => s.instanceId);
    expect(runningIds).toContain('http-list-running');
    expect(runningIds).not.toContain('http-list-terminated');

    const all = await client.getStatusAll();
    expect(all.map((s) => s.instanceId)).toEqual(
      expect.arrayContaining(['http-list-running', 'http-list-terminated', 'http-approval-1']),
    );

    const future = await client.getStatusBy({ createdTimeFrom: new Date(Date.UTC(2027, 0, 1)) });
    expect(future).toEqual([]);

    const purged = await client.purgeInstanceHistory('http-list-terminated');
    expect(purged.instancesDeleted).toBe(1);
    await expect(client.getStatus('http-list-terminated')).rejects.toThrow(/404/);
    await client.terminate('http-list-running', 'cleanup');
  });

  it('pages instance queries by 100 (or `top`) with x-ms-continuation-token, and the client follows the pages', async () => {
    const client = plainClient();
    const ids = Array.from({ length: 230 }, (_, i) => `http-page-${String(i).padStart(3, '0')}`);
    for (const instanceId of ids) await client.startNew('rtHttpIdle', { instanceId });
    await engine.idle();
    const url = `${server.origin}${DURABLE_WEBHOOK_PATH}instances?runtimeStatus=Running&instanceIdPrefix=http-page-`;
    const pages: string[][] = [];
    let token: string | null = null;
    do {
      const r: Response = await fetch(url, token ? { headers: { 'x-ms-continuation-token': token } } : {});
      expect(r.status).toBe(200);
      pages.push(((await r.json()) as { instanceId: string }[]).map((s) => s.instanceId));
      token = r.headers.get('x-ms-continuation-token');
    } while (token);
    expect(pages.map((p) => p.length)).toEqual([100, 100, 30]);
    expect(pages.flat()).toEqual(ids);
    const small = await fetch(`${url}&top=50`);
    expect(((await small.json()) as unknown[]).length).toBe(50);
    expect(small.headers.get('x-ms-continuation-token')).toBe('50');

    const running = await client.getStatusBy({ runtimeStatus: [df.OrchestrationRuntimeStatus.Running] });
    expect(running.map((s) => s.instanceId).filter((id) => id.startsWith('http-page-'))).toEqual(ids);
    for (const id of ids) await client.terminate(id, 'cleanup');
  });

  it('runs an app-style HTTP starter whose management links reach the server', async () => {
    const fn = currentRegistry().get('rtHttpStarter');
    const request = new HttpRequest({
      method: 'POST',
      url: `${server.origin}/api/rt-http-starter/http-starter-1`,
      params: { id: 'http-starter-1' },
      body: { string: JSON.stringify({ item: 'rotor' }) },
    });
    const response = (await fn.handler(request, contextFor('rtHttpStarter'))) as HttpResponse;
    expect(response.status).toBe(202);
    const links = (await response.json()) as { id: string; statusQueryGetUri: string; sendEventPostUri: string };
    expect(links.id).toBe('http-starter-1');
    expect(response.headers.get('location')).toBe(links.statusQueryGetUri);
    await engine.idle();

    // The links are the extension's webhook URLs on the request's origin, served by the same API.
    const raise = await fetch(links.sendEventPostUri.replace('{eventName}', 'Approved'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify('ops-lead'),
    });
    expect(raise.status).toBe(202);
    await engine.idle();
    const statusResponse = await fetch(links.statusQueryGetUri);
    expect(statusResponse.status).toBe(200);
    const status = (await statusResponse.json()) as { runtimeStatus: string; output: unknown };
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual({ item: 'ROTOR', approver: 'ops-lead' });
  });

  it('answers malformed requests with 4xx, never 5xx', async () => {
    const base = server.clientBindingData().rpcBaseUrl;
    const badJson = await fetch(`${base}orchestrators/rtHttpIdle/http-bad-json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(badJson.status).toBe(400);
    const unknownOrchestrator = await fetch(`${base}orchestrators/rtHttpNoSuch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '',
    });
    expect(unknownOrchestrator.status).toBe(400);
    const badStatus = await fetch(`${base}instances/?runtimeStatus=Sleeping`);
    expect(badStatus.status).toBe(400);
    const unknownRoute = await fetch(`${base}nothing-here`);
    expect(unknownRoute.status).toBe(404);
  });
});
