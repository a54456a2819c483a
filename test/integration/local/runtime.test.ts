/**
 * startLocalRuntime in-process with a small app of its own (registered through the same seam as
 * the real one): timers fire and keep their status on disk; the durable client binding reaches
 * HTTP functions, timers and activities alike, and orchestrations run on the engine behind the
 * same host; `eventHub` outputs land on the hubs; Capture writes the hub's events to the lake;
 * settings come from the right places in the right order.
 */
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { app, output } from '@azure/functions';
import type { HttpRequest, InvocationContext, Timer } from '@azure/functions';
import * as df from 'durable-functions';
import type { OrchestrationContext } from 'durable-functions';
import { DataLakeServiceClient, StorageSharedKeyCredential } from '@azure/storage-file-datalake';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localSettings, startLocalRuntime } from '../../../tools/local/fabrikam';
import type { LocalRuntime } from '../../../tools/local/fabrikam';
import { optionsFromArgs, parseDevPrincipal } from '../../../tools/local/start';
import { AZURITE_ACCOUNT, AZURITE_KEY } from '../../../packages/functions-local/src/host/standins';

const ticks: Timer[] = [];

function registerTestApp(): void {
  df.app.activity('rtlEcho', {
    extraInputs: [df.input.durableClient()],
    handler: async (input: unknown, context: InvocationContext) => {
      // An activity with a client: it can see its own orchestration through the engine's API.
      const status = await df.getClient(context).getStatus(String(context.triggerMetadata?.instanceId));
      return { echoed: input, seenAs: status.runtimeStatus };
    },
  });
  df.app.orchestration('rtlFlow', function* (context: OrchestrationContext) {
    const out: unknown = yield context.df.callActivity('rtlEcho', context.df.getInput());
    return out;
  });
  app.http('rtlStart', {
    route: 'rtl/start/{id}',
    methods: ['POST'],
    extraInputs: [df.input.durableClient()],
    handler: async (request: HttpRequest, context: InvocationContext) => {
      const client = df.getClient(context);
      const id = await client.startNew('rtlFlow', { instanceId: request.params.id, input: await request.text() });
      return client.createCheckStatusResponse(request, id);
    },
  });
  app.timer('rtlTick', {
    schedule: '*/1 * * * * *',
    extraInputs: [df.input.durableClient()],
    handler: async (timer: Timer, context: InvocationContext) => {
      ticks.push(timer);
      if (ticks.length === 1)
        await df.getClient(context).startNew('rtlFlow', { instanceId: 'from-timer', input: 'tick' });
    },
  });
  app.http('rtlEmit', {
    route: 'rtl/emit',
    methods: ['POST'],
    extraOutputs: [output.eventHub({ eventHubName: 'delivery-events', connection: 'EventHubConnection' })],
    handler: async (request: HttpRequest, context: InvocationContext) => {
      const items = (await request.json()) as unknown[];
      const binding = context.options.extraOutputs[0];
      if (binding) context.extraOutputs.set(binding, items);
      return { status: 202 };
    },
  });
}

let rt: LocalRuntime;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-inproc-'));
  rt = await startLocalRuntime({
    dataDir: path.join(dir, 'data'),
    port: 0,
    app: registerTestApp,
    localSettings: false,
    captureWindowMs: 300,
    quiet: true,
  });
}, 60_000);

afterAll(async () => {
  await rt?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function instance(id: string): Promise<{ runtimeStatus: string; output: unknown }> {
  const r = await fetch(`${rt.baseUrl}/runtime/webhooks/durabletask/instances/${id}`);
  return (await r.json()) as { runtimeStatus: string; output: unknown };
}

describe('startLocalRuntime', () => {
  it('fires timers on their schedule and keeps their status under the data directory', async () => {
    await until('two ticks', async () => (ticks.length >= 2 ? true : undefined), 5000);
    expect(ticks[0]?.scheduleStatus?.next).toBeDefined();
    expect(fs.existsSync(path.join(rt.dataDir, 'timers', 'rtlTick.json'))).toBe(true);
  });

  it('binds the durable client for timers, HTTP functions and activities, on the same host', async () => {
    // The timer started one; it ran its activity, which used its own client.
    const fromTimer = await until('the timer-started orchestration', async () => {
      const s = await instance('from-timer');
      return s.runtimeStatus === 'Completed' ? s : undefined;
    });
    expect(fromTimer.output).toEqual({ echoed: 'tick', seenAs: 'Running' });

    const r = await fetch(`${rt.baseUrl}/api/rtl/start/from-http`, { method: 'POST', body: 'hello' });
    expect(r.status).toBe(202);
    const links = (await r.json()) as { statusQueryGetUri: string };
    expect(links.statusQueryGetUri.startsWith(`${rt.baseUrl}/runtime/webhooks/durabletask/instances/from-http`)).toBe(
      true,
    );
    const done = await until('the HTTP-started orchestration', async () => {
      const s = await instance('from-http');
      return s.runtimeStatus === 'Completed' ? s : undefined;
    });
    expect(done.output).toEqual({ echoed: 'hello', seenAs: 'Running' });
    expect(fs.readdirSync(path.join(rt.dataDir, 'durable')).some((f) => f.startsWith('from-http'))).toBe(true);
  });

  it('publishes eventHub outputs and captures the hub to the lake', async () => {
    const r = await fetch(`${rt.baseUrl}/api/rtl/emit`, {
      method: 'POST',
      body: JSON.stringify([{ n: 1 }, { n: 2 }, { n: 3 }]),
    });
    expect(r.status).toBe(202);
    const hub = rt.namespace.hub('delivery-events');
    const total = hub.partitionIds.reduce((n, p) => n + hub.lastSequenceNumber(p) + 1, 0);
    expect(total).toBe(3);
    const lake = new DataLakeServiceClient(
      rt.endpoints.lake.url,
      new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY),
    );
    const files = await until('capture files', async () => {
      const names: string[] = [];
      for await (const p of lake.getFileSystemClient(rt.endpoints.lake.fileSystem).listPaths({ recursive: true }))
        if (!p.isDirectory && p.name) names.push(p.name);
      return names.length > 0 ? names : undefined;
    });
    // Under the folder the app's archive reader uses (captureNamespaceOf the local namespace).
    expect(files.every((f) => f.startsWith('local/delivery-events/') && f.endsWith('.avro'))).toBe(true);
  });

  it('serves the publish endpoint and its own status', async () => {
    const events = JSON.stringify([{ body: { a: 1 }, partitionKey: 'k' }]);
    const r = await fetch(`${rt.baseUrl}/local/eventhubs/telemetry`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: events,
    });
    expect(r.status).toBe(202);
    // The whole runtime's listener refuses what a web page could send (packages/functions-local/src/http/cross-site.ts).
    expect((await fetch(`${rt.baseUrl}/local/eventhubs/telemetry`, { method: 'POST', body: events })).status).toBe(415);
    for (const path of ['/local/status', '/runtime/webhooks/durabletask/instances', '/api/rtl/nothing']) {
      expect((await fetch(`${rt.baseUrl}${path}`, { headers: { origin: 'https://evil.example' } })).status, path).toBe(
        403,
      );
      expect(await statusWithHost(rt.baseUrl, path, 'rebound.example'), path).toBe(403);
      expect(await statusWithHost(rt.baseUrl, path, `localhost:${new URL(rt.baseUrl).port}`), path).not.toBe(403);
    }
    const status = (await (await fetch(`${rt.baseUrl}/local/status`)).json()) as { hubs: { name: string }[] };
    expect(status.hubs.map((h) => h.name).sort()).toEqual(['delivery-events', 'telemetry']);
  });

  it('refuses a second runtime on the same data directory', async () => {
    await expect(
      startLocalRuntime({ dataDir: rt.dataDir, port: 0, app: () => undefined, localSettings: false }),
    ).rejects.toThrow(/in use by process/);
  });
});

/** GET with exactly this Host header (fetch cannot set it): what a DNS-rebound page's request looks like. */
function statusWithHost(baseUrl: string, path: string, host: string): Promise<number> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('local settings', () => {
  it('layers defaults, local.settings.json, the environment and overrides; stand-ins win; Azure identity settings go', () => {
    const { settings, removed } = localSettings(
      { PickupSlaMinutes: '7', UNRELATED: 'x', CosmosConnection__accountEndpoint: 'https://real.documents.azure.com' },
      {
        PickupSlaMinutes: '9',
        DeliverySlaMinutes: '50',
        DeadLetterStorage__blobServiceUri: 'https://x.blob.core.windows.net',
        Custom: 'c',
      },
      { DeliverySlaMinutes: '60' },
      { CosmosConnection__accountEndpoint: 'http://127.0.0.1:1' },
    );
    expect(settings.PickupSlaMinutes).toBe('7');
    expect(settings.DeliverySlaMinutes).toBe('60');
    expect(settings.Custom).toBe('c');
    expect(settings.UNRELATED).toBeUndefined();
    expect(settings.CosmosConnection__accountEndpoint).toBe('http://127.0.0.1:1');
    expect(settings.DeadLetterStorage__blobServiceUri).toBeUndefined();
    expect(removed).toContain('DeadLetterStorage__blobServiceUri');
    expect(settings.TelemetryConsumerGroup).toBe('ingestion');
    expect(settings.DurableTaskHubName).toBeDefined();
  });

  it('parses the command line', () => {
    expect(parseDevPrincipal('alice:Deliveries.Admin, Deliveries.Reader')).toEqual({
      id: 'alice',
      roles: ['Deliveries.Admin', 'Deliveries.Reader'],
    });
    expect(parseDevPrincipal('bob')).toEqual({ id: 'bob', roles: [] });
    expect(() => parseDevPrincipal(':Admin')).toThrow();
    expect(optionsFromArgs(['--port', '0', '--fresh', '--capture-window', '2.5', '--data-dir', 'd'])).toEqual({
      port: 0,
      fresh: true,
      captureWindowMs: 2500,
      dataDir: 'd',
    });
    expect(() => optionsFromArgs(['--port', 'x'])).toThrow(/port/);
    expect(() => optionsFromArgs(['--nope'])).toThrow();
  });
});
