/**
 * The operations console in headless Chromium against `npm start`'s program (with its dev
 * principal as Deliveries.Admin, as the README's console section says) while the fleet
 * simulator flies a small load. On the page: the map shows the fleet; a delivery's timeline
 * shows its milestones in order beside the saga's history; a cancelled delivery shows its
 * compensations; a dead letter is replayed and its body reaches ingestion. Every view is
 * screenshotted at 1280×800, and the bundle size and first-load time are measured and written
 * to test/e2e/screenshots/metrics.json.
 *
 * Two deliveries of the test's own are flown by drones of its own ~15 km south of the
 * simulator's area, with DroneMaxPickupDistanceKm at 5, so neither side takes the other's drones.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawn, spawnSync } from 'node:child_process';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { principalHeaders } from '../../functions/http/identity';
import { BlobDeadLetterSink, deadLetterBlobName } from '../../functions/adapters/blob-dead-letters';
import { BLOB_CONTAINERS } from '../../functions/resources';
import type { DeadLetter } from '../../domain/shared/ports';
import { buildOnce, killAll, ROOT, runtimeInfo, startRuntime } from './support/runtime-process';
import type { RuntimeProcess } from './support/runtime-process';
import { launchBrowser, screenshot, SCREENSHOTS, VIEWPORT } from './support/browser';

const OPS = principalHeaders({ id: 'ops', roles: ['Deliveries.Admin'] });
const HOME = { lat: 47.45, lon: -122.3 };
const run = Date.now().toString(36);
const DELIVERED = `e2e-console-ok-${run}`;
const CANCELLED = `e2e-console-cancel-${run}`;
const DRONE_A = `e2e-console-a-${run}`;
const DRONE_B = `e2e-console-b-${run}`;

let dataDir: string;
let rt: RuntimeProcess;
let browser: Browser;
let page: Page;
let simulator: Promise<{ code: number | null; output: string }>;
const metrics: Record<string, unknown> = {};

function buildConsole(): void {
  const vite = path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  // vitest sets NODE_ENV=test, which would make Vite build lit-html's development variant: build what `npm start` builds.
  const r = spawnSync(process.execPath, [vite, 'build', '--config', 'console/vite.config.ts', '--logLevel', 'warn'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (r.status !== 0) throw new Error(`The console did not build:\n${r.stdout}${r.stderr}`);
}

function simulate(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist-tools', 'tools', 'simulate.js'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

const sequences = new Map<string, number>();
async function report(
  droneId: string,
  status: string,
  at: { lat: number; lon: number },
  deliveryId?: string,
): Promise<void> {
  const sequence = (sequences.get(droneId) ?? 0) + 1;
  sequences.set(droneId, sequence);
  const body = {
    schemaVersion: 1,
    droneId,
    sequence,
    timestamp: new Date().toISOString(),
    position: { ...at, altitudeM: status === 'Idle' ? 0 : 100 },
    batteryPct: 90,
    speedMps: status === 'Idle' ? 0 : 12,
    status,
    ...(deliveryId ? { deliveryId } : {}),
  };
  const res = await fetch(`${rt.url}/local/eventhubs/telemetry`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([{ body, partitionKey: droneId }]),
  });
  expect(res.status).toBe(202);
}

async function api<T>(route: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${rt.url}/api/${route}`, {
    ...init,
    headers: { ...OPS, 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) },
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.\n${rt.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const stageOf = async (id: string): Promise<string | undefined> =>
  (await api<{ stage?: string }>(`deliveries/${id}`)).body?.stage;
const reach = (id: string, stage: string) =>
  until(`${id} ${stage}`, async () => ((await stageOf(id)) === stage ? true : undefined));

async function request(deliveryId: string): Promise<void> {
  const post = await api('deliveries', {
    method: 'POST',
    body: JSON.stringify({
      deliveryId,
      pickup: HOME,
      dropoff: { lat: HOME.lat - 0.01, lon: HOME.lon + 0.01 },
      package: { size: 'small', weightKg: 1 },
    }),
  });
  expect(post.status).toBe(202);
}

beforeAll(async () => {
  buildOnce();
  buildConsole();
  dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-console-')), 'data');
  rt = await startRuntime(dataDir, ['--quiet', '--dev-principal', 'ops:Deliveries.Admin'], {
    DroneMaxPickupDistanceKm: '5',
  });
  simulator = simulate([
    '--url',
    rt.url,
    '--data-dir',
    dataDir,
    '--drones',
    '4',
    '--deliveries',
    '4',
    '--rate',
    '2',
    '--poison',
    '0.3',
    '--seed',
    '11',
    '--timeout',
    '90',
  ]);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: VIEWPORT });
}, 120_000);

afterAll(async () => {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  fs.writeFileSync(path.join(SCREENSHOTS, 'metrics.json'), JSON.stringify(metrics, null, 2));
  await browser?.close();
  await killAll();
  if (dataDir) fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
});

describe('the operations console', () => {
  it('is one small bundle, served at /console with a same-origin policy', async () => {
    const assets = path.join(ROOT, 'console', 'dist', 'assets');
    const files = fs.readdirSync(assets).map((f) => fs.readFileSync(path.join(assets, f)));
    const raw = files.reduce((n, b) => n + b.length, 0);
    const gzip = files.reduce((n, b) => n + zlib.gzipSync(b, { level: 9 }).length, 0);
    metrics.bundle = { files: fs.readdirSync(assets), rawBytes: raw, gzipBytes: gzip };
    expect(gzip).toBeLessThan(20_000);
    const res = await fetch(`${rt.url}/console/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect((await fetch(`${rt.url}/console/../package.json`)).status).not.toBe(200);
  });

  it('Fleet: the map shows the fleet, live, without a polling storm', async () => {
    const started = Date.now();
    await page.goto(`${rt.url}/console/#/fleet`);
    await page.locator('[data-testid="drone-marker"]').first().waitFor({ timeout: 30_000 });
    metrics.firstDroneOnMapMs = Date.now() - started;
    // Evaluated in the page (the test's own TypeScript has no DOM types).
    metrics.navigation = await page.evaluate(
      `(() => { const n = performance.getEntriesByType('navigation')[0]; return { domContentLoadedMs: Math.round(n.domContentLoadedEventEnd), loadMs: Math.round(n.loadEventEnd), transferBytes: n.transferSize }; })()`,
    );
    // The simulator's four drones (and nothing of ours yet) are on the map, each with its battery.
    await until(
      'four drones on the map',
      async () => ((await page.locator('[data-testid="drone-marker"]').count()) >= 4 ? true : undefined),
      30_000,
    );
    const ids = await page
      .locator('[data-testid="drone-marker"]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-drone-id') ?? ''));
    expect(ids.filter((id) => id.startsWith('sim-'))).toHaveLength(4);
    expect(await page.locator('[data-testid="drone-row"]').count()).toBeGreaterThanOrEqual(4);
    const before = Number(await page.evaluate(`window.__consoleStats.byPath['ops/drones'] ?? 0`));
    await page.waitForTimeout(4000);
    const after = Number(await page.evaluate(`window.__consoleStats.byPath['ops/drones'] ?? 0`));
    expect(after - before).toBeGreaterThanOrEqual(2);
    expect(after - before).toBeLessThanOrEqual(5);
    await screenshot(page, 'fleet');
  }, 90_000);

  it("a delivery's timeline shows its milestones in order, beside the saga's durable history", async () => {
    await report(DRONE_A, 'Idle', HOME);
    await until('drone A ingested', async () => ((await api(`drones/${DRONE_A}`)).status === 200 ? true : undefined));
    await request(DELIVERED);
    await reach(DELIVERED, 'Scheduled');
    await report(DRONE_A, 'PickedUp', HOME, DELIVERED);
    await reach(DELIVERED, 'PickedUp');
    await report(DRONE_A, 'EnRouteToDropoff', { lat: HOME.lat - 0.005, lon: HOME.lon + 0.005 }, DELIVERED);
    await reach(DELIVERED, 'InTransit');
    await report(DRONE_A, 'Delivered', { lat: HOME.lat - 0.01, lon: HOME.lon + 0.01 }, DELIVERED);
    await reach(DELIVERED, 'Delivered');
    await report(DRONE_A, 'Idle', HOME);

    await page.goto(`${rt.url}/console/#/deliveries/${DELIVERED}`);
    const stream = page.locator('[data-testid="event-stream"] [data-testid="stream-event"]');
    await until('the whole stream on the page', async () =>
      (await stream.evaluateAll((els) => els.map((e) => e.getAttribute('data-type')))).includes('DeliveryCompleted')
        ? true
        : undefined,
    );
    const types = await stream.evaluateAll((els) => els.map((e) => e.getAttribute('data-type') ?? ''));
    const milestones = types.filter((t) => ['PackagePickedUp', 'DeliveryInTransit', 'DeliveryCompleted'].includes(t));
    expect(milestones).toEqual(['PackagePickedUp', 'DeliveryInTransit', 'DeliveryCompleted']);
    expect(types.indexOf('DeliveryScheduled')).toBeLessThan(types.indexOf('PackagePickedUp'));
    const history = page.locator(
      `[data-testid="durable-history"][data-instance="${DELIVERED}"] [data-testid="history-entry"]`,
    );
    const entries = await history.evaluateAll((els) =>
      els.map((e) => `${e.getAttribute('data-kind')}:${e.getAttribute('data-name')}`),
    );
    const steps = entries.filter((e) => e.startsWith('step:')).map((e) => e.slice(5));
    expect(steps.slice(0, 3)).toEqual(['CreatePackage', 'AssignDrone', 'ScheduleDelivery']);
    const raised = entries.filter((e) => e.startsWith('event:')).map((e) => e.slice(6));
    expect(raised).toEqual(expect.arrayContaining(['PackagePickedUp', 'DeliveryInTransit', 'DeliveryCompleted']));
    expect(entries.filter((e) => e.startsWith('compensation:'))).toEqual([]);
    expect(await page.locator('[data-testid="timeline-axis"] [data-testid="axis-event"]').count()).toBe(types.length);
    // Once its saga has completed, the timeline no longer changes: the poller gets 304s, not bodies.
    const sagaStatus = page.locator(`[data-testid="saga-status"][data-instance="${DELIVERED}"]`);
    await until(
      'the saga completed on the page',
      async () => ((await sagaStatus.textContent()) === 'Completed' ? true : undefined),
      30_000,
    );
    const notModified = Number(await page.evaluate('window.__consoleStats.notModified'));
    await page.waitForTimeout(2500);
    expect(Number(await page.evaluate('window.__consoleStats.notModified'))).toBeGreaterThan(notModified);
    await screenshot(page, 'timeline');
  }, 120_000);

  it('a cancelled delivery shows its compensations', async () => {
    await report(DRONE_B, 'Idle', { lat: HOME.lat + 0.002, lon: HOME.lon });
    await until('drone B ingested', async () => ((await api(`drones/${DRONE_B}`)).status === 200 ? true : undefined));
    await request(CANCELLED);
    await reach(CANCELLED, 'Scheduled');
    expect((await api(`deliveries/${CANCELLED}`, { method: 'DELETE' })).status).toBe(202);
    await reach(CANCELLED, 'Cancelled');

    await page.goto(`${rt.url}/console/#/deliveries/${CANCELLED}`);
    const compensations = page.locator(
      `[data-testid="durable-history"][data-instance="${CANCELLED}"] [data-testid="history-entry"][data-kind="compensation"]`,
    );
    await until(
      'compensations on the page',
      async () => ((await compensations.count()) >= 3 ? true : undefined),
      30_000,
    );
    const names = await compensations.evaluateAll((els) =>
      els.map((e) => `${e.getAttribute('data-name')}:${e.getAttribute('data-outcome')}`),
    );
    // Every step it took is undone, last first, and each compensation completed.
    expect(names.slice(0, 3)).toEqual([
      'CancelDeliverySchedule:completed',
      'ReleaseDrone:completed',
      'CancelPackage:completed',
    ]);
    await until('the compensation events in the stream', async () => {
      const types = await page
        .locator('[data-testid="stream-event"]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-type') ?? ''));
      return types.includes('DroneReleased') &&
        types.includes('PackageCancelled') &&
        types.includes('DeliveryCancelled')
        ? true
        : undefined;
    });
    await screenshot(page, 'timeline-cancelled');
  }, 120_000);

  it('Deliveries: counts per stage, the filterable list, our two deliveries in their stages', async () => {
    await page.goto(`${rt.url}/console/#/deliveries`);
    const row = (id: string) => page.locator(`[data-testid="delivery-row"][data-delivery-id="${id}"]`);
    await row(CANCELLED).waitFor({ timeout: 20_000 });
    expect(await row(DELIVERED).getAttribute('data-stage')).toBe('Delivered');
    expect(await row(CANCELLED).getAttribute('data-stage')).toBe('Cancelled');
    const cancelledTile = page.locator('[data-testid="stage-count"][data-stage="Cancelled"] b');
    expect(Number(await cancelledTile.textContent())).toBeGreaterThanOrEqual(1);
    await page.locator('[data-testid="stage-filter"]').selectOption('Cancelled');
    await until('the list filtered to Cancelled', async () => {
      const stages = await page
        .locator('[data-testid="delivery-row"]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-stage')));
      return stages.length > 0 && stages.every((s) => s === 'Cancelled') ? true : undefined;
    });
    await page.locator('[data-testid="stage-filter"]').selectOption('');
    await screenshot(page, 'deliveries');
  }, 60_000);

  it('Dead letters: a parked event is replayed from the page and reaches ingestion', async () => {
    const sim = await simulator;
    expect(sim.code, sim.output.slice(-3000)).toBe(0);
    metrics.simulator = sim.output.split('\n').filter((l) => /deliveries:|poison|Summary/.test(l));
    // A batch that ran out of retries parks its events as RetriesExhausted (functions/shared/hub-batch.ts): the body is fine, so it replays.
    const droneId = `e2e-console-parked-${run}`;
    const body = {
      schemaVersion: 1,
      droneId,
      sequence: 1,
      timestamp: new Date().toISOString(),
      position: { ...HOME, altitudeM: 0 },
      batteryPct: 77,
      speedMps: 0,
      status: 'Idle',
    };
    const letter: DeadLetter = {
      source: 'telemetry',
      reason: 'RetriesExhausted',
      errors: [],
      rawBody: JSON.stringify(body),
      rawBodyEncoding: 'utf8',
      origin: {
        eventHubName: 'telemetry',
        consumerGroup: 'ingestion',
        partitionId: '1',
        sequenceNumber: 424242,
        offset: '424242',
        enqueuedTimeUtc: new Date().toISOString(),
        partitionKey: droneId,
      },
      deadLetteredAt: new Date().toISOString(),
      lastError: 'Cosmos DB answered 503 on every attempt',
      retry: { retryCount: 5, maxRetryCount: 5 },
    };
    const container = BlobServiceClient.fromConnectionString(
      runtimeInfo(dataDir).endpoints.blob.connectionString,
    ).getContainerClient(BLOB_CONTAINERS.deadLetter.name);
    await new BlobDeadLetterSink(container).put(letter);
    const id = deadLetterBlobName(letter);

    await page.goto(`${rt.url}/console/#/dead-letters`);
    const card = page.locator(`[data-testid="dead-letter"][data-id="${id}"]`);
    await card.waitFor({ timeout: 20_000 });
    expect(await card.textContent()).toContain('Cosmos DB answered 503');
    expect(await card.locator('pre').textContent()).toContain(droneId);
    expect(
      await page
        .locator(
          '[data-testid="dead-letter"][data-reason="SchemaViolation"], [data-testid="dead-letter"][data-reason="NotJson"]',
        )
        .count(),
    ).toBeGreaterThan(0);
    await card.locator('[data-testid="replay"]').click();
    await until(
      'the replay answered',
      async () =>
        (await card.locator('[data-testid="replay-result"]').textContent())?.includes('Replayed to telemetry')
          ? true
          : undefined,
      20_000,
    );
    await card.locator('[data-testid="replayed-badge"]').waitFor({ timeout: 10_000 });
    expect(await card.getAttribute('data-replayed')).toBe('true');
    // The body went back through the hub into ingestion: the drone it describes is known now.
    const drone = await until('the replayed drone ingested', async () => {
      const r = await api<{ batteryPct: number }>(`drones/${droneId}`);
      return r.status === 200 ? r.body : undefined;
    });
    expect(drone.batteryPct).toBe(77);
    // Replaying again publishes nothing new: the API names the first replay.
    const again = await api<{ outcome: string }>('ops/dead-letters/replay', {
      method: 'POST',
      body: JSON.stringify({ id }),
    });
    expect(again.body.outcome).toBe('alreadyReplayed');
    await screenshot(page, 'dead-letters');
  }, 150_000);

  it('Supervisor and hubs: findings and lag per partition, read from the runtime', async () => {
    await page.goto(`${rt.url}/console/#/supervisor`);
    await page.locator('[data-testid="hub-partition"]').first().waitFor({ timeout: 20_000 });
    const hubs = await page
      .locator('[data-testid="hub-partition"]')
      .evaluateAll((els) => [...new Set(els.map((e) => e.getAttribute('data-hub')))]);
    expect(hubs).toEqual(expect.arrayContaining(['telemetry', 'delivery-events']));
    expect(await page.locator('[data-testid="supervisor-alerts"]').textContent()).toMatch(/Supervisor findings/);
    await until(
      'no lag once everything is consumed',
      async () => {
        const lags = await page
          .locator('[data-testid="hub-partition"]')
          .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-lag'))));
        return lags.length > 0 && lags.every((l) => l === 0) ? true : undefined;
      },
      30_000,
    );
    await screenshot(page, 'supervisor');
  }, 60_000);
});
