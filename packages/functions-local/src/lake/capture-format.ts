/**
 * Event Hubs Capture's file format, writer side: the Avro schema real Capture files carry
 * (`Microsoft.ServiceBus.Messaging.EventData`), Capture's path layout, and encoding of Avro object
 * container files with `avsc`. The emulator owns this because it emulates Azure's Capture; an app
 * reads the files with its own reader, written against Azure's documentation, and the tests that
 * read what this writer wrote are what keep the two in step.
 */
import avro from 'avsc';
import type { Type } from 'avsc';

/**
 * The schema real Capture files carry in their header. It differs from the one the Event Hubs
 * Capture overview publishes (CAPTURE_SCHEMA_DOCUMENTED) in one place: application `Properties`
 * map values may also be `null`. Body is a `["null","bytes"]` union (an event may have no body).
 * The local Capture stand-in writes this one, so local files look like Azure's; files are always
 * read with the writer schema their header carries, so either variant reads.
 */
export const CAPTURE_SCHEMA = {
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
} as const;

export const captureType: Type = avro.Type.forSchema(CAPTURE_SCHEMA as unknown as avro.Schema);

/** A property value as the schema can carry it: integers go out as `long`, other numbers as `double`. */
export type CaptureValue = number | string | Buffer;

/** An application property's value: real Capture files may also hold `null`. */
export type CapturePropertyValue = CaptureValue | null;

export interface CapturedEvent {
  readonly sequenceNumber: number;
  /** The event's offset in its partition, as Capture writes it (a decimal string). */
  readonly offset: string;
  /** As Capture writes it: .NET's invariant `M/d/yyyy h:mm:ss tt` in UTC, whole seconds. */
  readonly enqueuedTimeUtc: string;
  /** Capture puts `x-opt-enqueued-time` (epoch ms, long) and `x-opt-partition-key` here. */
  readonly systemProperties: Readonly<Record<string, CaptureValue>>;
  readonly properties: Readonly<Record<string, CapturePropertyValue>>;
  readonly body: Buffer | null;
}

export type CaptureCodec = 'null' | 'deflate';

// ---- paths ----------------------------------------------------------------------------------

export interface CaptureFileLocation {
  readonly namespace: string;
  readonly eventHub: string;
  readonly partitionId: string;
  /** Start of the capture window; the path carries it to the second, in UTC. */
  readonly windowStart: Date;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `{Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}.avro`, zero-padded UTC. */
export function capturePath(loc: CaptureFileLocation): string {
  const t = loc.windowStart;
  return [
    loc.namespace,
    loc.eventHub,
    loc.partitionId,
    pad(t.getUTCFullYear(), 4),
    pad(t.getUTCMonth() + 1),
    pad(t.getUTCDate()),
    pad(t.getUTCHours()),
    pad(t.getUTCMinutes()),
    `${pad(t.getUTCSeconds())}.avro`,
  ].join('/');
}

/** The prefix under which one partition's files live: `{Namespace}/{EventHub}/{PartitionId}`. */
// ---- times ----------------------------------------------------------------------------------

/** Formats an instant the way Capture writes `EnqueuedTimeUtc`, e.g. `12/2/2021 2:58:24 PM`. */
export function formatEnqueuedTimeUtc(t: Date): string {
  const h = t.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  return `${t.getUTCMonth() + 1}/${t.getUTCDate()}/${t.getUTCFullYear()} ${h12}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
}

// ---- records --------------------------------------------------------------------------------

type WrappedValue = { long: number } | { double: number } | { string: string } | { bytes: Buffer } | null;

function wrap(v: CapturePropertyValue): WrappedValue {
  // avsc writes a union's null branch as a bare null, wrapped or not.
  if (v === null) return null;
  if (typeof v === 'string') return { string: v };
  if (Buffer.isBuffer(v)) return { bytes: v };
  return Number.isSafeInteger(v) ? { long: v } : { double: v };
}

/** `withNulls` false: a schema without a null branch (the documented one) cannot carry them, so they are left out. */
function wrapMap(m: Readonly<Record<string, CapturePropertyValue>>, withNulls: boolean): Record<string, WrappedValue> {
  const out: Record<string, WrappedValue> = {};
  for (const [k, v] of Object.entries(m)) if (v !== null || withNulls) out[k] = wrap(v);
  return out;
}

function toRecord(e: CapturedEvent, propertyNulls = true): Record<string, unknown> {
  return {
    SequenceNumber: e.sequenceNumber,
    Offset: e.offset,
    EnqueuedTimeUtc: e.enqueuedTimeUtc,
    SystemProperties: wrapMap(e.systemProperties, false),
    Properties: wrapMap(e.properties, propertyNulls),
    Body: e.body,
  };
}

/** Whether a writer schema's `Properties` map admits null values (real Capture's does, the documented one does not). */
export function propertiesAllowNull(schema: unknown): boolean {
  const fields = (schema as { fields?: unknown } | null)?.fields;
  if (!Array.isArray(fields)) return false;
  const props = fields.find(
    (f): f is { name: string; type: { values?: unknown } } => (f as { name?: unknown } | null)?.name === 'Properties',
  );
  const values = props?.type?.values;
  return Array.isArray(values) && values.includes('null');
}

/** Encoded size of one event's record: what it adds to a file's data blocks before compression. */
export function capturedRecordSize(e: CapturedEvent): number {
  return captureType.toBuffer(toRecord(e)).length;
}

// ---- container files ------------------------------------------------------------------------

export interface EncodeOptions {
  readonly codec?: CaptureCodec;
  /**
   * The file's 16-byte sync marker. Blocks appended to an existing file must reuse its marker;
   * otherwise a random one is chosen.
   */
  readonly syncMarker?: Buffer;
  /** False: blocks only, to append to a file that already has its header. Default true. */
  readonly header?: boolean;
  /**
   * The writer schema: default CAPTURE_SCHEMA. Blocks appended to an existing file must use the
   * schema in its header (a file from before this writer used the null variant, say).
   */
  readonly schema?: unknown;
}

/** Encodes events into an Avro object container file (or, with `header: false`, blocks for one). */
export async function encodeCaptureFile(events: readonly CapturedEvent[], opts: EncodeOptions = {}): Promise<Buffer> {
  const header = opts.header ?? true;
  const schema = opts.schema ?? CAPTURE_SCHEMA;
  const withNulls = propertiesAllowNull(schema);
  const encoder = new avro.streams.BlockEncoder(schema as avro.Schema, {
    codec: opts.codec ?? 'null',
    // 'always' writes the header even for an empty file, which is still a valid container file.
    writeHeader: header ? 'always' : 'never',
    ...(opts.syncMarker ? { syncMarker: opts.syncMarker } : {}),
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    encoder.on('data', (c: Buffer) => chunks.push(c));
    encoder.on('error', reject);
    encoder.on('end', () => resolve(Buffer.concat(chunks)));
  });
  for (const e of events) encoder.write(toRecord(e, withNulls));
  encoder.end();
  return done;
}

export interface CaptureFileHeader {
  readonly codec: string;
  readonly syncMarker: Buffer;
  /** The writer's schema as stored in the header. */
  readonly schema: unknown;
  /** Bytes the header takes at the start of the file. */
  readonly length: number;
}

const HEADER_TYPE = avro.Type.forSchema({
  type: 'record',
  name: 'Header',
  fields: [
    { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
    { name: 'meta', type: { type: 'map', values: 'bytes' } },
    { name: 'sync', type: { type: 'fixed', name: 'Sync', size: 16 } },
  ],
});
const MAGIC = Buffer.from('Obj\x01', 'latin1');

/**
 * Reads a container file's header from its first bytes. Undefined when `buf` is too short to
 * hold the whole header (read more and try again); throws when it is not an Avro file.
 */
export function readCaptureHeader(buf: Buffer): CaptureFileHeader | undefined {
  if (buf.length < MAGIC.length) return undefined;
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC))
    throw new Error('not an Avro object container file (bad magic bytes)');
  let decoded: { value: unknown; offset: number };
  try {
    decoded = HEADER_TYPE.decode(buf, 0);
  } catch {
    return undefined; // truncated inside the metadata map
  }
  if (decoded.offset < 0) return undefined;
  const header = decoded.value as { meta: Record<string, Buffer>; sync: Buffer };
  const schemaText = header.meta['avro.schema']?.toString('utf8');
  return {
    codec: header.meta['avro.codec']?.toString('utf8') ?? 'null',
    syncMarker: Buffer.from(header.sync),
    schema: schemaText ? (JSON.parse(schemaText) as unknown) : undefined,
    length: decoded.offset,
  };
}
