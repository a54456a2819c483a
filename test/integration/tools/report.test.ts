/**
 * The delivery report over real Capture files: the local Capture writer puts delivery events
 * into Avro files on the lake stand-in, and the report reads them back through the app's own
 * archive reader (Composition.archiveReader, the rebuild's path), as `npm run report` (the CLI,
 * run in process with its argv) and as `GET /api/ops/report` (JSON and SVG, admin only).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { deliveryEvent } from '../../../domain/delivery/events';
import type { DeliveryEvent } from '../../../domain/delivery/events';
import type { DeliveryReport } from '../../../domain/delivery/report';
import { Composition, resetComposition } from '../../../functions/composition';
import { parseConfig } from '../../../functions/config';
import { principalHeaders } from '../../../functions/http/identity';
import { jsonSchemaOf } from '../../../functions/http/openapi';
import { DeliveryReportSchema } from '../../../functions/http/ops-read-schemas';
import { FUNCTIONS, HUBS } from '../../../functions/names';
import { CaptureWriter } from '../../../packages/functions-local/src/lake/capture-writer';
import type { Clock } from '../../../packages/functions-local/src/lake/capture-writer';
import { runReport } from '../../../tools/report/cli';
import { callHttp } from '../../support/app';
import { startTempLake } from '../lake/lake-fixture';
import type { TempLake } from '../lake/lake-fixture';

const ADMIN = principalHeaders({ id: 'ops-admin', roles: ['Deliveries.Admin'] });
const READER = principalHeaders({ id: 'ops-reader', roles: ['Deliveries.Reader'] });

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const iso = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();
const FROM = iso(0);
const TO = iso(120);

class ManualClock implements Clock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
}

function stream(id: string, requestedAt: number, end: 'onTime' | 'late' | 'failed' | 'cancelled'): DeliveryEvent[] {
  let seq = 0;
  const e = <K extends Parameters<typeof deliveryEvent>[0]>(
    type: K,
    minute: number,
    data: Parameters<typeof deliveryEvent<K>>[5],
  ): DeliveryEvent => deliveryEvent(type, id, ++seq, iso(minute), id, data);
  const out = [
    e('DeliveryRequested', requestedAt, {
      ownerId: 'o',
      pickup: { lat: 1, lon: 1 },
      dropoff: { lat: 2, lon: 2 },
      expedited: false,
      package: { size: 'small', weightKg: 1 },
    }),
    e('PackageCreated', requestedAt, { packageId: `p-${id}`, size: 'small', weightKg: 1 }),
    e('DroneAssigned', requestedAt + 1, { droneId: 'dr', distanceToPickupM: 100 }),
    e('DeliveryScheduled', requestedAt + 1, {
      droneId: 'dr',
      pickupEta: iso(requestedAt + 10),
      dropoffEta: iso(requestedAt + 30),
    }),
  ];
  if (end === 'onTime') out.push(e('DeliveryCompleted', requestedAt + 20, { droneId: 'dr' }));
  if (end === 'late') out.push(e('DeliveryCompleted', requestedAt + 40, { droneId: 'dr' }));
  if (end === 'failed')
    out.push(
      e('DeliveryFailed', requestedAt + 15, { code: 'PickupSlaMissed', reason: 'pickup SLA missed' }),
      e('DroneReleased', requestedAt + 16, { droneId: 'dr', reason: 'failed' }),
      e('PackageCancelled', requestedAt + 16, { packageId: `p-${id}`, reason: 'failed' }),
    );
  if (end === 'cancelled')
    out.push(
      e('DeliveryCancelled', requestedAt + 5, { reason: 'by owner' }),
      e('DroneReleased', requestedAt + 6, { droneId: 'dr', reason: 'cancelled' }),
    );
  return out;
}

let lake: TempLake;
let dir: string;
let settings: Record<string, string>;
let files = 0;

beforeAll(async () => {
  lake = await startTempLake('report');
  const fsClient = lake.service.getFileSystemClient('capture');
  await fsClient.create();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'report-cli-'));
  const events = [
    ...stream('a', 5, 'onTime'),
    ...stream('b', 10, 'late'),
    ...stream('c', 65, 'failed'),
    ...stream('d', 70, 'cancelled'),
    ...stream('e', 80, 'onTime'),
  ];
  // A Capture window of 10 minutes: the events land in several files, over two partitions.
  const clock = new ManualClock(T0);
  const writer = new CaptureWriter({
    fileSystem: fsClient,
    namespace: 'local',
    eventHub: HUBS.deliveryEvents,
    clock,
    windowMs: 10 * 60_000,
    maxBytes: 1024 * 1024,
    onFile: () => (files += 1),
  });
  const sorted = [...events].sort((x, y) => x.occurredAt.localeCompare(y.occurredAt));
  const sequences = new Map<string, number>();
  for (const [i, ev] of sorted.entries()) {
    const partitionId = ev.deliveryId < 'c' ? '0' : '1';
    const sequenceNumber = sequences.get(partitionId) ?? 0;
    sequences.set(partitionId, sequenceNumber + 1);
    clock.t = Date.parse(ev.occurredAt);
    await writer.tick();
    await writer.add({
      partitionId,
      sequenceNumber,
      offset: String(i * 100),
      enqueuedTime: new Date(clock.t),
      body: Buffer.from(JSON.stringify(ev)),
      partitionKey: ev.deliveryId,
    });
  }
  await writer.stop();
  settings = {
    CosmosConnection__accountEndpoint: 'http://127.0.0.1:9',
    CosmosConnection__accountKey: 'unused',
    DeadLetterStorage__blobServiceUri: 'http://127.0.0.1:9/unused',
    LocalEventHubsEndpoint: 'http://127.0.0.1:9',
    ArchiveLake__dfsServiceUri: lake.server.url,
    LocalRuntime: 'true',
  };
});

afterAll(async () => {
  resetComposition();
  await lake?.dispose();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function cli(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runReport(argv, { settings, cwd: dir, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('npm run report (in process)', () => {
  it('reads the Capture files of the range and prints the report, with progress, and writes the chart', async () => {
    expect(files).toBeGreaterThan(3);
    const r = await cli('--from', FROM, '--to', TO, '--out', 'chart.svg');
    expect(r.code, r.err.join('\n')).toBe(0);
    const text = r.out.join('\n');
    expect(text).toContain('deliveries requested 5');
    expect(text).toContain('outcomes: delivered 3, failed 1, cancelled 1, in flight 0');
    expect(text).toContain('on time: 66.7% (2 on time, 1 late, 0 with no deadline or ETA)');
    expect(text).toContain('request to delivered (3): p50 20.0 min, p95 40.0 min, p99 40.0 min');
    expect(text).toMatch(/ {5}1 {2}PickupSlaMissed: pickup SLA missed/);
    expect(text).toMatch(/ {5}1 {2}CreatePackage \(CancelPackage\)/);
    expect(text).toMatch(/ {5}2 {2}AssignDrone \(ReleaseDrone\)/);
    expect(r.err[0]).toMatch(
      /^reading file 1 \(1 events so far\): local\/delivery-events\/0\/2026\/11\/22\/10\/05\/00\.avro$/,
    );
    const svg = fs.readFileSync(path.join(dir, 'chart.svg'), 'utf8');
    expect(svg).toContain('5 deliveries requested, on time 66.7%');
  });

  it('prints JSON with --json, the same report the route serves', async () => {
    const r = await cli('--from', FROM, '--to', TO, '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out.join('\n')) as DeliveryReport;
    expect(report.hourly.map((h) => [h.onTime, h.late, h.failed, h.cancelled])).toEqual([
      [1, 1, 0, 0],
      [1, 0, 1, 1],
    ]);
    expect(fs.existsSync(path.join(dir, 'report.svg'))).toBe(true);
  });

  it('works with a range that holds no file', async () => {
    const r = await cli('--from', '2026-11-21T00:00:00Z', '--to', '2026-11-21T06:00:00Z', '--out', 'empty.svg');
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toContain('events read 0 (duplicates 0); deliveries requested 0');
    expect(r.out.join('\n')).toContain('on time: n/a');
    expect(fs.readFileSync(path.join(dir, 'empty.svg'), 'utf8')).toContain('<svg');
  });

  it('names a bad --from or --to and exits 2', async () => {
    const r = await cli('--from', 'last tuesday', '--to', FROM);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toContain('--from "last tuesday" is not an ISO-8601 UTC instant');
    const reversed = await cli('--from', TO, '--to', FROM);
    expect(reversed.code).toBe(2);
    expect(reversed.err.join('\n')).toContain('--to must be after from');
    const missing = await cli('--to', TO);
    expect(missing.err.join('\n')).toContain('--from is required');
    const unknown = await cli('--since', FROM);
    expect(unknown.code).toBe(2);
    expect(unknown.err.join('\n')).toContain('unknown option --since');
  });

  it('says so when no archive is configured', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const { ArchiveLake__dfsServiceUri: _lake, ...withoutLake } = settings;
    const code = await runReport(['--from', FROM, '--to', TO], {
      settings: withoutLake,
      cwd: dir,
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    expect(code).toBe(1);
    expect(err.join('\n')).toContain('no archive is configured');
  });
});

describe('GET /api/ops/report', () => {
  beforeAll(() => resetComposition(new Composition(parseConfig(settings))));
  const query = `from=${encodeURIComponent(FROM)}&to=${encodeURIComponent(TO)}`;
  const get = (headers: Record<string, string>, q = query) =>
    callHttp(FUNCTIONS.getDeliveryReport, { path: `ops/report?${q}`, headers });

  it('answers an admin with the report as JSON, matching its OpenAPI schema', async () => {
    const r = await get(ADMIN);
    expect(r.status, r.body).toBe(200);
    const report = r.json<DeliveryReport>();
    expect(report).toMatchObject({
      deliveries: 5,
      outcomes: { delivered: 3, failed: 1, cancelled: 1, inFlight: 0 },
      onTime: { onTime: 2, late: 1 },
    });
    const validate = new Ajv2020({ strict: false }).compile(jsonSchemaOf(DeliveryReportSchema));
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
  });

  it('serves the chart as SVG for format=svg and for Accept: image/svg+xml', async () => {
    const byQuery = await get(ADMIN, `${query}&format=svg`);
    expect(byQuery.status).toBe(200);
    expect(byQuery.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(byQuery.body).toContain('5 deliveries requested');
    const byAccept = await get({ ...ADMIN, accept: 'image/svg+xml' });
    expect(byAccept.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(byAccept.body).toBe(byQuery.body);
  });

  it('is for Deliveries.Admin only, and answers bad input with problem+json', async () => {
    expect((await get(READER)).status).toBe(403);
    expect((await get({})).status).toBe(401);
    const bad = await get(ADMIN, 'from=nope');
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toBe('application/problem+json');
    expect(bad.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)).toEqual(['/from', '/to']);
    expect((await get(ADMIN, `${query}&format=pdf`)).status).toBe(400);
    const tooLong = await get(ADMIN, `from=2026-01-01T00:00:00Z&to=2026-02-20T00:00:00Z`);
    expect(tooLong.status).toBe(400);
    expect(tooLong.body).toContain('RebuildMaxRangeDays');
  });

  it('answers 503 when no archive is configured', async () => {
    const { ArchiveLake__dfsServiceUri: _lake, ...withoutLake } = settings;
    resetComposition(new Composition(parseConfig(withoutLake)));
    try {
      const r = await get(ADMIN);
      expect(r.status).toBe(503);
      expect(r.headers['content-type']).toBe('application/problem+json');
    } finally {
      resetComposition(new Composition(parseConfig(settings)));
    }
  });
});
