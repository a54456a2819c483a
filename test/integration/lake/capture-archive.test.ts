/**
 * The local Capture stand-in writing to the lake stand-in through the real Data Lake client, and
 * the archive reader finding and replaying what it wrote. Time is a hand-moved clock: no sleeps.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DataLakeFileSystemClient } from '@azure/storage-file-datalake';
import { CaptureArchive } from '../../../functions/adapters/capture-archive';
import type { ArchivedEvent } from '../../../functions/adapters/capture-archive';
import { decodeCaptureFile, formatEnqueuedTimeUtc } from '../../../functions/adapters/capture-format';
import { capturedRecordSize } from '../../../packages/functions-local/src/lake/capture-format';
import { CaptureWriter, capturedFromInput } from '../../../packages/functions-local/src/lake/capture-writer';
import type { CaptureInput, CapturedFile, Clock } from '../../../packages/functions-local/src/lake/capture-writer';
import { startTempLake } from './lake-fixture';
import type { TempLake } from './lake-fixture';

const NS = 'fabrikam-ns';
const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const sec = (s: number): number => T0 + s * 1000;

class ManualClock implements Clock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
}

function deliveryEvent(partitionId: string, seq: number, at: number, deliveryId = `d-${partitionId}`): CaptureInput {
  const envelope = {
    eventId: `${deliveryId}-${seq}`,
    type: 'DeliveryRequested',
    deliveryId,
    sequence: seq + 1,
    occurredAt: new Date(at).toISOString(),
    schemaVersion: 1,
    correlationId: 'c',
    data: {},
  };
  // Fixed-width offsets keep every record of a test the same size, so size limits land predictably.
  return {
    partitionId,
    sequenceNumber: seq,
    offset: String(seq * 1000).padStart(9, '0'),
    enqueuedTime: new Date(at),
    body: Buffer.from(JSON.stringify(envelope)),
    partitionKey: deliveryId,
    properties: { type: 'DeliveryRequested' },
  };
}

async function filesUnder(fs: DataLakeFileSystemClient, prefix: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const p of fs.listPaths({ path: prefix, recursive: true }))
      if (!p.isDirectory && p.name) out.push(p.name);
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return [];
    throw e;
  }
  return out;
}

describe('Capture stand-in writer and archive reader on the lake stand-in', () => {
  let lake: TempLake;
  let fs: DataLakeFileSystemClient;

  beforeAll(async () => {
    lake = await startTempLake('capture');
    fs = lake.service.getFileSystemClient('capture');
    await fs.create();
  });

  afterAll(async () => {
    await lake?.dispose();
  });

  function writer(
    hub: string,
    clock: Clock,
    opts: { windowMs?: number; maxBytes?: number; files?: CapturedFile[] } = {},
  ): CaptureWriter {
    return new CaptureWriter({
      fileSystem: fs,
      namespace: NS,
      eventHub: hub,
      clock,
      windowMs: opts.windowMs ?? 60_000,
      maxBytes: opts.maxBytes ?? 1024 * 1024,
      onFile: (f) => opts.files?.push(f),
    });
  }

  it('closes a window when its time is up, naming the file for the window start', async () => {
    const clock = new ManualClock(sec(5));
    const files: CapturedFile[] = [];
    const w = writer('time-hub', clock, { files });
    await w.add(deliveryEvent('0', 0, sec(5)));
    clock.t = sec(30);
    await w.add(deliveryEvent('0', 1, sec(30)));
    clock.t = sec(64.999);
    await w.tick();
    expect(await filesUnder(fs, `${NS}/time-hub`)).toEqual([]);
    clock.t = sec(65);
    await w.tick();
    expect(files).toEqual([
      expect.objectContaining({ path: `${NS}/time-hub/0/2026/11/22/10/00/05.avro`, events: 2, reason: 'time' }),
    ]);
    expect(await filesUnder(fs, `${NS}/time-hub`)).toEqual([`${NS}/time-hub/0/2026/11/22/10/00/05.avro`]);

    // An event after the window's end starts the next window instead of joining the closed one.
    clock.t = sec(200);
    await w.add(deliveryEvent('0', 2, sec(200)));
    await w.stop();
    const decoded = await decodeCaptureFile(
      await fs.getFileClient(`${NS}/time-hub/0/2026/11/22/10/00/05.avro`).readToBuffer(),
    );
    expect(decoded.map((e) => e.sequenceNumber)).toEqual([0, 1]);
    expect(decoded[1]?.enqueuedTimeUtc).toBe(formatEnqueuedTimeUtc(new Date(sec(30))));
    expect(decoded[1]?.systemProperties).toEqual({ 'x-opt-enqueued-time': sec(30), 'x-opt-partition-key': 'd-0' });
    expect(files.map((f) => [f.path, f.reason])).toEqual([
      [`${NS}/time-hub/0/2026/11/22/10/00/05.avro`, 'time'],
      [`${NS}/time-hub/0/2026/11/22/10/03/20.avro`, 'flush'],
    ]);
  });

  it('closes a window when it reaches the size limit, before the time limit', async () => {
    const clock = new ManualClock(sec(0));
    const files: CapturedFile[] = [];
    const one = capturedRecordSize(capturedFromInput(deliveryEvent('0', 0, sec(0))));
    expect(capturedRecordSize(capturedFromInput(deliveryEvent('0', 6, sec(6))))).toBe(one);
    const w = writer('size-hub', clock, { files, maxBytes: one * 3 });
    for (let i = 0; i < 7; i++) {
      clock.t = sec(i);
      await w.add(deliveryEvent('0', i, sec(i)));
    }
    expect(files.map((f) => [f.path, f.events, f.reason])).toEqual([
      [`${NS}/size-hub/0/2026/11/22/10/00/00.avro`, 3, 'size'],
      [`${NS}/size-hub/0/2026/11/22/10/00/03.avro`, 3, 'size'],
    ]);
    await w.stop();
    expect(files[2]).toMatchObject({ path: `${NS}/size-hub/0/2026/11/22/10/00/06.avro`, events: 1, reason: 'flush' });
  });

  it('keeps partitions apart and writes nothing for partitions without events', async () => {
    const clock = new ManualClock(sec(0));
    const files: CapturedFile[] = [];
    const w = writer('split-hub', clock, { files });
    await w.add(deliveryEvent('0', 0, sec(0)));
    await w.add(deliveryEvent('1', 0, sec(0)));
    clock.t = sec(1);
    await w.add(deliveryEvent('1', 1, sec(1)));
    await w.add(deliveryEvent('0', 1, sec(1)));
    await w.flushAll();
    await w.flushAll(); // nothing left: no second, empty file
    expect(files.map((f) => [f.partitionId, f.events])).toEqual([
      ['0', 2],
      ['1', 2],
    ]);
    expect((await filesUnder(fs, `${NS}/split-hub`)).sort()).toEqual([
      `${NS}/split-hub/0/2026/11/22/10/00/00.avro`,
      `${NS}/split-hub/1/2026/11/22/10/00/00.avro`,
    ]);
    for (const p of ['0', '1']) {
      const decoded = await decodeCaptureFile(
        await fs.getFileClient(`${NS}/split-hub/${p}/2026/11/22/10/00/00.avro`).readToBuffer(),
      );
      expect(decoded.map((e) => e.systemProperties['x-opt-partition-key'])).toEqual([`d-${p}`, `d-${p}`]);
    }
  });

  it('puts two windows that start in the same second into one valid file', async () => {
    const clock = new ManualClock(sec(0));
    const files: CapturedFile[] = [];
    const one = capturedRecordSize(capturedFromInput(deliveryEvent('0', 0, sec(0))));
    expect(capturedRecordSize(capturedFromInput(deliveryEvent('0', 6, sec(6))))).toBe(one);
    const w = writer('same-second-hub', clock, { files, maxBytes: one * 2 });
    for (let i = 0; i < 5; i++) await w.add(deliveryEvent('0', i, sec(0)));
    await w.stop();
    expect(files.map((f) => f.events)).toEqual([2, 2, 1]);
    expect(new Set(files.map((f) => f.path)).size).toBe(1);
    const decoded = await decodeCaptureFile(await fs.getFileClient(files[0]?.path ?? '').readToBuffer());
    expect(decoded.map((e) => e.sequenceNumber)).toEqual([0, 1, 2, 3, 4]);

    // A new writer (after a restart) appends to that file too, rather than overwriting it.
    const again = writer('same-second-hub', clock);
    await again.add(deliveryEvent('0', 5, sec(0)));
    await again.stop();
    const after = await decodeCaptureFile(await fs.getFileClient(files[0]?.path ?? '').readToBuffer());
    expect(after.map((e) => e.sequenceNumber)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  describe('archive reader', () => {
    // Windows (seconds after 10:00:00) per partition; a minute each.
    const windows: Record<string, number[]> = {
      '0': [0, 60, 3570, 3630, 86_400],
      '1': [30, 3599],
      '10': [120],
      '2': [3600],
    };
    const seqs = new Map<string, number>();

    beforeAll(async () => {
      const clock = new ManualClock(sec(0));
      const w = writer('delivery-events', clock, { windowMs: 1000 });
      const all = Object.entries(windows).flatMap(([p, ws]) => ws.map((s) => ({ p, s })));
      all.sort((a, b) => a.s - b.s);
      for (const { p, s } of all) {
        clock.t = sec(s);
        await w.tick();
        for (let k = 0; k < 2; k++) {
          const seq = seqs.get(p) ?? 0;
          seqs.set(p, seq + 1);
          await w.add(deliveryEvent(p, seq, sec(s), `d-${p}-${seq}`));
        }
      }
      await w.stop();
      // A stray non-Capture file in the tree is ignored.
      await fs
        .getFileClient(`${NS}/delivery-events/0/2026/11/22/10/readme.txt`)
        .upload(Buffer.from('not a capture file'));
    });

    async function collect(from: number, to: number, partitionIds?: string[]): Promise<ArchivedEvent[]> {
      const archive = new CaptureArchive(fs);
      const out: ArchivedEvent[] = [];
      for await (const e of archive.events({
        namespace: NS,
        eventHub: 'delivery-events',
        from: new Date(from),
        to: new Date(to),
        ...(partitionIds ? { partitionIds } : {}),
      }))
        out.push(e);
      return out;
    }

    it('lists exactly the files whose window starts in [from, to), partitions in numeric order', async () => {
      const archive = new CaptureArchive(fs);
      const paths: string[] = [];
      for await (const f of archive.listFiles({
        namespace: NS,
        eventHub: 'delivery-events',
        from: new Date(sec(60)),
        to: new Date(sec(3600)),
      }))
        paths.push(f.path);
      expect(paths).toEqual([
        `${NS}/delivery-events/0/2026/11/22/10/01/00.avro`,
        `${NS}/delivery-events/0/2026/11/22/10/59/30.avro`,
        `${NS}/delivery-events/1/2026/11/22/10/59/59.avro`,
        `${NS}/delivery-events/10/2026/11/22/10/02/00.avro`,
      ]);
    });

    it('yields the events of the range in (partition, sequence number) order with JSON bodies parsed', async () => {
      const events = await collect(sec(0), sec(86_401));
      expect(events.map((e) => [e.partitionId, e.sequenceNumber])).toEqual([
        ['0', 0],
        ['0', 1],
        ['0', 2],
        ['0', 3],
        ['0', 4],
        ['0', 5],
        ['0', 6],
        ['0', 7],
        ['0', 8],
        ['0', 9],
        ['1', 0],
        ['1', 1],
        ['1', 2],
        ['1', 3],
        ['2', 0],
        ['2', 1],
        ['10', 0],
        ['10', 1],
      ]);
      const first = events[0];
      expect(first?.body).toEqual({
        kind: 'json',
        value: expect.objectContaining({ eventId: 'd-0-0-0', type: 'DeliveryRequested', deliveryId: 'd-0-0' }),
      });
      expect(first?.offset).toBe('000000000');
      expect(first?.enqueuedTime?.toISOString()).toBe(new Date(sec(0)).toISOString());
      expect(first?.enqueuedTimeUtc).toBe('11/22/2026 10:00:00 AM');
      expect(first?.properties).toEqual({ type: 'DeliveryRequested' });
      expect(first?.file).toBe(`${NS}/delivery-events/0/2026/11/22/10/00/00.avro`);
      // Next day's file is in range here and last for partition 0.
      expect(events[9]?.file).toBe(`${NS}/delivery-events/0/2026/11/23/10/00/00.avro`);
    });

    it('crosses an hour boundary and honours a partition filter', async () => {
      const events = await collect(sec(3599), sec(3631), ['2', '0', '1']);
      expect(events.map((e) => [e.partitionId, e.sequenceNumber])).toEqual([
        ['0', 6],
        ['0', 7],
        ['1', 2],
        ['1', 3],
        ['2', 0],
        ['2', 1],
      ]);
    });

    it('keeps a body that is not JSON as raw bytes', async () => {
      const clock = new ManualClock(sec(7200));
      const w = writer('raw-hub', clock);
      await w.add({
        partitionId: '0',
        sequenceNumber: 0,
        offset: '0',
        enqueuedTime: new Date(sec(7200)),
        body: Buffer.from([0xde, 0xad]),
      });
      await w.add({ partitionId: '0', sequenceNumber: 1, offset: '1', enqueuedTime: new Date(sec(7200)), body: null });
      await w.stop();
      const archive = new CaptureArchive(fs);
      const out: ArchivedEvent[] = [];
      for await (const e of archive.events({
        namespace: NS,
        eventHub: 'raw-hub',
        from: new Date(sec(7200)),
        to: new Date(sec(7201)),
      }))
        out.push(e);
      expect(out.map((e) => e.body)).toEqual([{ kind: 'raw', bytes: Buffer.from([0xde, 0xad]) }, { kind: 'none' }]);
    });

    it('finds nothing for an empty range, an unknown hub, or a time with no files', async () => {
      expect(await collect(sec(100), sec(100))).toEqual([]);
      expect(await collect(sec(7), sec(30))).toEqual([]);
      const archive = new CaptureArchive(fs);
      const none: unknown[] = [];
      for await (const f of archive.listFiles({
        namespace: NS,
        eventHub: 'no-such-hub',
        from: new Date(sec(0)),
        to: new Date(sec(10 ** 6)),
      }))
        none.push(f);
      expect(none).toEqual([]);
    });

    it('lists only the folders of the range: one hour needs one listing per partition', async () => {
      const spy = vi.spyOn(fs, 'listPaths');
      try {
        const archive = new CaptureArchive(fs);
        const paths: string[] = [];
        for await (const f of archive.listFiles({
          namespace: NS,
          eventHub: 'delivery-events',
          from: new Date(sec(0)),
          to: new Date(sec(3600)),
        }))
          paths.push(f.path);
        expect(paths).toHaveLength(6);
        const listed = spy.mock.calls.map(([o]) => `${o?.path ?? ''}${o?.recursive ? ' (recursive)' : ''}`);
        expect(listed).toEqual([
          `${NS}/delivery-events`,
          `${NS}/delivery-events/0/2026/11/22/10 (recursive)`,
          `${NS}/delivery-events/1/2026/11/22/10 (recursive)`,
          `${NS}/delivery-events/2/2026/11/22/10 (recursive)`,
          `${NS}/delivery-events/10/2026/11/22/10 (recursive)`,
        ]);
      } finally {
        spy.mockRestore();
      }
    });
  });
});
