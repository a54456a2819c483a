/**
 * The local Capture stand-in against a lake that fails part-way through (a fault-injecting proxy
 * in front of the lake stand-in, through the real Data Lake client): a failed write is retried
 * with backoff, a window is noted as written only once the lake has it, and a writer killed
 * between append and flush loses nothing; the archive reader drops what is captured twice. Retry
 * waits are handed to the test: nothing sleeps.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DataLakeServiceClient, StorageSharedKeyCredential } from '@azure/storage-file-datalake';
import type { DataLakeFileSystemClient } from '@azure/storage-file-datalake';
import { CaptureArchive } from '../../../functions/adapters/capture-archive';
import { CaptureAbandonedError, CaptureWriter } from '../../../packages/functions-local/src/lake/capture-writer';
import type {
  CaptureInput,
  CaptureRetry,
  CapturedFile,
  Clock,
} from '../../../packages/functions-local/src/lake/capture-writer';
import { AZURITE_ACCOUNT, AZURITE_KEY } from '../../../packages/functions-local/src/host/standins';
import { startFaultProxy } from '../../support/fault-proxy';
import type { FaultProxy } from '../../support/fault-proxy';
import { startTempLake } from './lake-fixture';
import type { TempLake } from './lake-fixture';

const NS = 'retry-ns';
const T0 = Date.UTC(2026, 10, 22, 11, 0, 0);
const sec = (s: number): number => T0 + s * 1000;
const isFlush = (method: string, path: string): boolean => method === 'PATCH' && path.includes('action=flush');

class ManualClock implements Clock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
}

function event(partitionId: string, seq: number): CaptureInput {
  const body = { eventId: `d-${seq}:1`, type: 'DeliveryRequested', deliveryId: `d-${seq}`, sequence: 1 };
  return {
    partitionId,
    sequenceNumber: seq,
    offset: String(seq * 100),
    enqueuedTime: new Date(sec(seq)),
    body: Buffer.from(JSON.stringify(body)),
    partitionKey: `d-${seq}`,
    properties: { kind: 'test' },
  };
}

let lake: TempLake;
let proxy: FaultProxy;
let direct: DataLakeFileSystemClient;
let viaProxy: DataLakeFileSystemClient;

beforeAll(async () => {
  lake = await startTempLake('capture-retry');
  proxy = await startFaultProxy(lake.server.url);
  direct = lake.service.getFileSystemClient('capture');
  await direct.create();
  const account = new URL(lake.server.url).pathname;
  viaProxy = new DataLakeServiceClient(
    `${proxy.url}${account}`,
    new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY),
    { retryOptions: { maxTries: 1 } },
  ).getFileSystemClient('capture');
});

afterAll(async () => {
  await proxy?.close();
  await lake?.dispose();
});

beforeEach(() => proxy.heal());

async function archived(hub: string, duplicates: number[] = []): Promise<number[]> {
  const out: number[] = [];
  const archive = new CaptureArchive(direct);
  for await (const e of archive.events(
    { namespace: NS, eventHub: hub, from: new Date(sec(-3600)), to: new Date(sec(3600)) },
    (d) => duplicates.push(d.sequenceNumber),
  ))
    out.push(e.sequenceNumber);
  return out;
}

describe('Capture stand-in with a lake that fails part-way through', () => {
  it('retries a write whose flush fails, with doubling delays, and notes the window only once the lake has it, each event once', async () => {
    const clock = new ManualClock(sec(0));
    const files: CapturedFile[] = [];
    const retries: CaptureRetry[] = [];
    const w = new CaptureWriter({
      fileSystem: viaProxy,
      namespace: NS,
      eventHub: 'flaky-flush',
      clock,
      windowMs: 10_000,
      onFile: (f) => files.push(f),
      onRetry: (r) => retries.push(r),
      retry: {
        firstDelayMs: 100,
        maxDelayMs: 300,
        // Nothing is noted while the lake fails: checked at every wait.
        wait: async () => {
          expect(files).toEqual([]);
          return true;
        },
      },
    });
    for (const s of [0, 1, 2]) await w.add(event('0', s));
    // The create and the appends go through; the flush, which makes the data part of the file, fails 4 times.
    proxy.failNext(4, { kind: 'status', status: 503 }, isFlush);
    clock.t = sec(10);
    await w.tick();
    expect(proxy.injected).toBe(4);
    expect(retries.map((r) => [r.attempt, r.delayMs])).toEqual([
      [1, 100],
      [2, 200],
      [3, 300],
      [4, 300],
    ]);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatchObject({
      partitionId: '0',
      events: 3,
      firstSequenceNumber: 0,
      lastSequenceNumber: 2,
      attempts: 5,
    });
    expect(await archived('flaky-flush')).toEqual([0, 1, 2]);
  });

  it('keeps the windows of a partition in order while an earlier one is retried (a later one is never noted first)', async () => {
    const clock = new ManualClock(sec(100));
    const files: CapturedFile[] = [];
    let release: (() => void) | undefined;
    const w = new CaptureWriter({
      fileSystem: viaProxy,
      namespace: NS,
      eventHub: 'ordered',
      clock,
      windowMs: 1000,
      maxBytes: 1,
      onFile: (f) => files.push(f),
      retry: { wait: () => new Promise<boolean>((r) => (release = () => r(true))) },
    });
    proxy.failNext(
      1,
      { kind: 'status', status: 500 },
      (method, path) => method === 'PUT' && path.includes('resource=file'),
    );
    // One event per window (size limit 1 byte): seq 10 fails once, seq 11 queues behind it.
    const first = w.add(event('0', 10));
    clock.t = sec(101);
    const second = w.add(event('0', 11));
    for (let i = 0; i < 200 && !release; i++) await new Promise((r) => setImmediate(r));
    expect(files).toEqual([]);
    release?.();
    await Promise.all([first, second]);
    expect(files.map((f) => f.firstSequenceNumber)).toEqual([10, 11]);
    expect(await archived('ordered')).toEqual([10, 11]);
  });

  it('loses nothing when the writer is killed between append and flush: a restart captures the window again, and readers drop what the lake got twice', async () => {
    const clock = new ManualClock(sec(200));
    const noted: CapturedFile[] = [];
    // The first run: the lake takes appends but no flush; the process dies while it waits to retry.
    const first = new CaptureWriter({
      fileSystem: viaProxy,
      namespace: NS,
      eventHub: 'killed',
      clock,
      windowMs: 10_000,
      onFile: (f) => noted.push(f),
      retry: { wait: (_ms, signal) => new Promise((r) => signal.addEventListener('abort', () => r(false))) },
    });
    proxy.failAll({ kind: 'status', status: 503 }, isFlush);
    for (const s of [0, 1, 2, 3]) await first.add(event('0', s));
    clock.t = sec(210);
    const closing = first.tick();
    const stopping = first.stop();
    await Promise.all([
      expect(closing).rejects.toBeInstanceOf(CaptureAbandonedError),
      expect(stopping).rejects.toBeInstanceOf(CaptureAbandonedError),
    ]);
    expect(noted).toEqual([]);
    // A crash drops what was appended and not flushed (the lake stand-in keeps it in memory only).
    await lake.restart();
    direct = lake.service.getFileSystemClient('capture');
    proxy.heal();
    await proxy.close();
    proxy = await startFaultProxy(lake.server.url);
    const account = new URL(lake.server.url).pathname;
    viaProxy = new DataLakeServiceClient(
      `${proxy.url}${account}`,
      new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY),
      { retryOptions: { maxTries: 1 } },
    ).getFileSystemClient('capture');
    expect(await archived('killed')).toEqual([]);

    // The restart resumes from the last noted position (none): the same events again, and more.
    const second = new CaptureWriter({
      fileSystem: viaProxy,
      namespace: NS,
      eventHub: 'killed',
      clock,
      windowMs: 10_000,
      onFile: (f) => noted.push(f),
    });
    clock.t = sec(300);
    for (const s of [0, 1, 2, 3, 4]) await second.add(event('0', s));
    clock.t = sec(310);
    await second.tick();
    expect(noted.map((f) => [f.firstSequenceNumber, f.lastSequenceNumber])).toEqual([[0, 4]]);
    expect(await archived('killed')).toEqual([0, 1, 2, 3, 4]);

    // Killed after the lake took a window but before it was noted: the next run captures 3..4 again.
    const third = new CaptureWriter({
      fileSystem: viaProxy,
      namespace: NS,
      eventHub: 'killed',
      clock,
      windowMs: 10_000,
    });
    clock.t = sec(400);
    for (const s of [3, 4, 5]) await third.add(event('0', s));
    await third.stop();
    const duplicates: number[] = [];
    expect(await archived('killed', duplicates)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(duplicates).toEqual([3, 4]);
  });
});
