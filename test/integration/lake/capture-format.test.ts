/**
 * Capture's file format: what we encode decodes to the same events, plain `avsc` reads it with
 * Capture's published schema, and paths and times look like the ones Capture writes.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CAPTURE_SCHEMA,
  CAPTURE_SCHEMA_DOCUMENTED,
  capturePath,
  capturedEnqueuedTime,
  decodeCaptureFile,
  formatEnqueuedTimeUtc,
  parseCapturePath,
} from '../../../functions/adapters/capture-format';
import type { CapturedEvent } from '../../../functions/adapters/capture-format';
// The emulator's writer: the app only reads Capture files, the emulator writes them.
import {
  encodeCaptureFile,
  propertiesAllowNull,
  readCaptureHeader,
} from '../../../packages/functions-local/src/lake/capture-format';

const at = Date.UTC(2026, 10, 22, 14, 58, 24, 816);

function event(seq: number, body: Buffer | null, properties: CapturedEvent['properties'] = {}): CapturedEvent {
  return {
    sequenceNumber: seq,
    offset: String(seq * 512),
    enqueuedTimeUtc: formatEnqueuedTimeUtc(new Date(at + seq * 1000)),
    systemProperties: { 'x-opt-enqueued-time': at + seq * 1000, 'x-opt-partition-key': `delivery-${seq}` },
    properties,
    body,
  };
}

const events: CapturedEvent[] = [
  event(0, Buffer.from(JSON.stringify({ eventId: 'e0', type: 'DeliveryRequested', sequence: 1 })), {
    schemaVersion: 1,
    ratio: 0.5,
    source: 'saga',
    raw: Buffer.from([1, 2, 3]),
  }),
  event(1, Buffer.from([0xff, 0x00, 0x10])),
  event(2, null),
  event(3_000_000_000, Buffer.from('{"big":true}'), { negative: -42, huge: 2 ** 40 }),
];

describe('Capture Avro format', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'capture-format-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it.each(['null', 'deflate'] as const)('decodes what it encodes, unchanged (codec %s)', async (codec) => {
    const file = await encodeCaptureFile(events, { codec });
    expect(file.subarray(0, 4).toString('latin1')).toBe('Obj\x01');
    expect(await decodeCaptureFile(file)).toEqual(events);
  });

  it("writes Capture's published schema and codec into the header", async () => {
    const file = await encodeCaptureFile(events, { codec: 'deflate' });
    const header = readCaptureHeader(file);
    expect(header?.codec).toBe('deflate');
    expect(header?.schema).toEqual(CAPTURE_SCHEMA);
    expect(header?.syncMarker).toHaveLength(16);
    expect(readCaptureHeader(file.subarray(0, 20))).toBeUndefined();
    expect(() => readCaptureHeader(Buffer.from('PAR1 not avro'))).toThrow(/magic/);
  });

  async function readWithAvsc(
    file: string,
    readerSchema?: unknown,
  ): Promise<{ records: Record<string, unknown>[]; writerSchema: unknown }> {
    const records: Record<string, unknown>[] = [];
    let writerSchema: unknown;
    await new Promise<void>((resolve, reject) => {
      avro
        .createFileDecoder(file, readerSchema ? { readerSchema: readerSchema as avro.Schema } : {})
        .on('metadata', (_type: unknown, _codec: unknown, header: { meta: Record<string, Buffer> }) => {
          writerSchema = JSON.parse(header.meta['avro.schema']?.toString() ?? 'null');
        })
        .on('data', (r: Record<string, unknown>) => records.push(r))
        .on('error', reject)
        .on('end', resolve);
    });
    return { records, writerSchema };
  }

  it("is readable by plain avsc, with Capture's published schema as the writer schema and as a reader schema", async () => {
    const file = path.join(dir, '00.avro');
    await fs.writeFile(file, await encodeCaptureFile(events, { codec: 'deflate' }));

    const { records, writerSchema } = await readWithAvsc(file);
    expect(writerSchema).toEqual(CAPTURE_SCHEMA);
    expect(records.map((r) => r.SequenceNumber)).toEqual([0, 1, 2, 3_000_000_000]);
    expect(records[0]?.Offset).toBe('0');
    expect(records[0]?.EnqueuedTimeUtc).toBe('11/22/2026 2:58:24 PM');
    // The map values are a union of long/double/string/bytes, wrapped by branch.
    expect(records[0]?.Properties).toEqual({
      schemaVersion: { long: 1 },
      ratio: { double: 0.5 },
      source: { string: 'saga' },
      raw: { bytes: Buffer.from([1, 2, 3]) },
    });
    expect(records[0]?.SystemProperties).toEqual({
      'x-opt-enqueued-time': { long: at },
      'x-opt-partition-key': { string: 'delivery-0' },
    });
    expect(JSON.parse(String(records[0]?.Body))).toMatchObject({ type: 'DeliveryRequested' });
    expect(records[1]?.Body).toEqual(Buffer.from([0xff, 0x00, 0x10]));
    expect(records[2]?.Body).toBeNull();

    // Resolved against the published schema as reader schema. (avsc's resolver reads a written
    // `bytes` branch into the first compatible reader branch, `string`, so that value is not compared.)
    const resolved = await readWithAvsc(file, CAPTURE_SCHEMA);
    expect(resolved.records).toHaveLength(4);
    expect(resolved.records.map((r) => r.Offset)).toEqual(['0', '512', '1024', '1536000000000']);
    expect(resolved.records[3]?.Properties).toEqual({ negative: { long: -42 }, huge: { long: 2 ** 40 } });
    expect(resolved.records[1]?.Body).toEqual(Buffer.from([0xff, 0x00, 0x10]));
  });

  it('reads files avsc wrote itself from the documented schema (Properties values without null)', async () => {
    const file = path.join(dir, 'by-avsc.avro');
    await new Promise<void>((resolve, reject) => {
      const enc = avro.createFileEncoder(file, CAPTURE_SCHEMA_DOCUMENTED as unknown as avro.Schema, {
        codec: 'deflate',
      });
      enc.on('error', reject);
      enc.on('finish', () => setTimeout(resolve, 20));
      enc.write({
        SequenceNumber: 7,
        Offset: '70',
        EnqueuedTimeUtc: '1/2/2026 12:00:01 AM',
        SystemProperties: {},
        Properties: { n: { long: 3 } },
        Body: Buffer.from('x'),
      });
      enc.end();
    });
    const [decoded] = await decodeCaptureFile(await fs.readFile(file));
    expect(decoded).toEqual({
      sequenceNumber: 7,
      offset: '70',
      enqueuedTimeUtc: '1/2/2026 12:00:01 AM',
      systemProperties: {},
      properties: { n: 3 },
      body: Buffer.from('x'),
    });
    expect(capturedEnqueuedTime(decoded as CapturedEvent)?.toISOString()).toBe('2026-01-02T00:00:01.000Z');
  });

  /** The writer schema as a real Capture file's header carries it, written out here rather than imported. */
  const REAL_CAPTURE_SCHEMA = {
    type: 'record',
    name: 'EventData',
    namespace: 'Microsoft.ServiceBus.Messaging',
    fields: [
      { name: 'SequenceNumber', type: 'long' },
      { name: 'Offset', type: 'string' },
      { name: 'EnqueuedTimeUtc', type: 'string' },
      { name: 'SystemProperties', type: { type: 'map', values: ['long', 'double', 'string', 'bytes'] } },
      { name: 'Properties', type: { type: 'map', values: ['long', 'double', 'string', 'bytes', 'null'] } },
      { name: 'Body', type: ['null', 'bytes'] },
    ],
  };

  it('reads a file avsc wrote with the real Capture schema, Properties values including null, null values kept', async () => {
    const file = path.join(dir, 'real-capture.avro');
    await new Promise<void>((resolve, reject) => {
      const enc = avro.createFileEncoder(file, REAL_CAPTURE_SCHEMA as unknown as avro.Schema, { codec: 'deflate' });
      enc.on('error', reject);
      enc.on('finish', () => setTimeout(resolve, 20));
      enc.write({
        SequenceNumber: 41,
        Offset: '4100',
        EnqueuedTimeUtc: '11/22/2026 2:58:24 PM',
        SystemProperties: { 'x-opt-enqueued-time': { long: at }, 'x-opt-partition-key': { string: 'd-41' } },
        Properties: { correlationId: null, retries: { long: 2 }, source: { string: 'saga' } },
        Body: Buffer.from('{"eventId":"d-41:1"}'),
      });
      enc.write({
        SequenceNumber: 42,
        Offset: '4200',
        EnqueuedTimeUtc: '11/22/2026 2:58:25 PM',
        SystemProperties: {},
        Properties: { onlyNull: null },
        Body: null,
      });
      enc.end();
    });
    const bytes = await fs.readFile(file);
    expect(propertiesAllowNull(readCaptureHeader(bytes)?.schema)).toBe(true);
    expect(await decodeCaptureFile(bytes)).toEqual([
      {
        sequenceNumber: 41,
        offset: '4100',
        enqueuedTimeUtc: '11/22/2026 2:58:24 PM',
        systemProperties: { 'x-opt-enqueued-time': at, 'x-opt-partition-key': 'd-41' },
        properties: { correlationId: null, retries: 2, source: 'saga' },
        body: Buffer.from('{"eventId":"d-41:1"}'),
      },
      {
        sequenceNumber: 42,
        offset: '4200',
        enqueuedTimeUtc: '11/22/2026 2:58:25 PM',
        systemProperties: {},
        properties: { onlyNull: null },
        body: null,
      },
    ]);
  });

  it('writes the real variant itself, null property values included, and leaves nulls out of blocks for a documented-schema file', async () => {
    expect(propertiesAllowNull(CAPTURE_SCHEMA)).toBe(true);
    expect(propertiesAllowNull(CAPTURE_SCHEMA_DOCUMENTED)).toBe(false);
    const withNull = event(5, Buffer.from('{}'), { tag: null, n: 1 });
    expect(await decodeCaptureFile(await encodeCaptureFile([withNull]))).toEqual([withNull]);
    // Appending to a file an older writer made with the documented schema: its header's schema rules.
    const old = await encodeCaptureFile([event(4, null)], { schema: CAPTURE_SCHEMA_DOCUMENTED });
    const header = readCaptureHeader(old);
    if (!header) throw new Error('no header');
    expect(header.schema).toEqual(CAPTURE_SCHEMA_DOCUMENTED);
    const more = await encodeCaptureFile([withNull], {
      header: false,
      syncMarker: header.syncMarker,
      schema: header.schema,
    });
    expect((await decodeCaptureFile(Buffer.concat([old, more]))).map((e) => e.properties)).toEqual([{}, { n: 1 }]);
  });

  it("takes more blocks appended with the file's own sync marker", async () => {
    const first = await encodeCaptureFile(events.slice(0, 2), { codec: 'deflate' });
    const header = readCaptureHeader(first);
    if (!header) throw new Error('no header');
    const more = await encodeCaptureFile(events.slice(2), {
      codec: 'deflate',
      syncMarker: header.syncMarker,
      header: false,
    });
    expect(more.subarray(0, 4).toString('latin1')).not.toBe('Obj\x01');
    expect(await decodeCaptureFile(Buffer.concat([first, more]))).toEqual(events);
  });

  it('writes an empty but valid file for no events', async () => {
    const file = await encodeCaptureFile([]);
    expect(readCaptureHeader(file)?.length).toBe(file.length);
    expect(await decodeCaptureFile(file)).toEqual([]);
  });

  it('lays paths out as {Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}.avro, zero-padded UTC', () => {
    const loc = {
      namespace: 'fabrikam-ns',
      eventHub: 'delivery-events',
      partitionId: '3',
      windowStart: new Date(Date.UTC(2026, 0, 5, 7, 8, 9, 999)),
    };
    const p = capturePath(loc);
    expect(p).toBe('fabrikam-ns/delivery-events/3/2026/01/05/07/08/09.avro');
    expect(parseCapturePath(p)).toEqual({ ...loc, windowStart: new Date(Date.UTC(2026, 0, 5, 7, 8, 9)) });
    expect(parseCapturePath('fabrikam-ns/delivery-events/3/2026/02/30/07/08/09.avro')).toBeUndefined();
    expect(parseCapturePath('fabrikam-ns/delivery-events/3/2026/01/05/07/08/09.json')).toBeUndefined();
    expect(parseCapturePath('fabrikam-ns/delivery-events/3/2026/01/05/07/08')).toBeUndefined();
  });

  it('formats EnqueuedTimeUtc as Capture does (M/d/yyyy h:mm:ss tt, UTC) and reads it back', () => {
    expect(formatEnqueuedTimeUtc(new Date('2021-12-02T14:58:24.816Z'))).toBe('12/2/2021 2:58:24 PM');
    expect(formatEnqueuedTimeUtc(new Date('2026-01-09T00:05:00Z'))).toBe('1/9/2026 12:05:00 AM');
    expect(formatEnqueuedTimeUtc(new Date('2026-01-09T12:00:00Z'))).toBe('1/9/2026 12:00:00 PM');
    expect(capturedEnqueuedTime({ enqueuedTimeUtc: '12/2/2021 2:58:24 PM', systemProperties: {} })?.toISOString()).toBe(
      '2021-12-02T14:58:24.000Z',
    );
    expect(capturedEnqueuedTime({ enqueuedTimeUtc: '1/9/2026 12:05:00 AM', systemProperties: {} })?.toISOString()).toBe(
      '2026-01-09T00:05:00.000Z',
    );
    // The millisecond system property wins over the string, which only has whole seconds.
    expect(
      capturedEnqueuedTime({
        enqueuedTimeUtc: '12/2/2021 2:58:24 PM',
        systemProperties: { 'x-opt-enqueued-time': 1638457104816 },
      })?.toISOString(),
    ).toBe('2021-12-02T14:58:24.816Z');
    expect(capturedEnqueuedTime({ enqueuedTimeUtc: 'garbage', systemProperties: {} })).toBeUndefined();
  });
});
