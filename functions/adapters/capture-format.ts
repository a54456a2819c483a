/**
 * The Event Hubs Capture file format: the published Avro schema (`Microsoft.ServiceBus.Messaging.
 * EventData`), Capture's path layout, and encoding/decoding of Avro object container files with
 * `avsc`. Shared by the archive reader (functions/) and the local Capture stand-in (tools/), so
 * what the stand-in writes is exactly what the reader expects from the real Capture.
 */
import { Readable } from 'node:stream';
import avro from 'avsc';

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

/** The schema as Microsoft's Capture documentation gives it: `Properties` values without `null`. */
export const CAPTURE_SCHEMA_DOCUMENTED = {
  ...CAPTURE_SCHEMA,
  fields: CAPTURE_SCHEMA.fields.map((f) =>
    f.name === 'Properties'
      ? { name: 'Properties', type: { type: 'map', values: ['long', 'double', 'string', 'bytes'] } }
      : f,
  ),
} as const;

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
export function capturePartitionPrefix(namespace: string, eventHub: string, partitionId?: string): string {
  return partitionId === undefined ? `${namespace}/${eventHub}` : `${namespace}/${eventHub}/${partitionId}`;
}

const PATH_PATTERN = /^(.+)\/([^/]+)\/([^/]+)\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\/(\d{2})\/(\d{2})\.avro$/;

/** The location a Capture path encodes, or undefined for anything that is not a Capture file. */
export function parseCapturePath(p: string): CaptureFileLocation | undefined {
  const m = PATH_PATTERN.exec(p);
  if (!m) return undefined;
  const [, namespace, eventHub, partitionId, y, mo, d, h, mi, s] = m;
  if (!namespace || !eventHub || !partitionId) return undefined;
  const windowStart = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
  // Reject impossible dates (month 13, 31 February) rather than letting Date roll them over.
  if (capturePath({ namespace, eventHub, partitionId, windowStart }) !== p) return undefined;
  return { namespace, eventHub, partitionId, windowStart };
}

// ---- times ----------------------------------------------------------------------------------

/** Formats an instant the way Capture writes `EnqueuedTimeUtc`, e.g. `12/2/2021 2:58:24 PM`. */
export function formatEnqueuedTimeUtc(t: Date): string {
  const h = t.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  return `${t.getUTCMonth() + 1}/${t.getUTCDate()}/${t.getUTCFullYear()} ${h12}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
}

const DOTNET_TIME = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2}):(\d{2}) (AM|PM)$/;

/**
 * The enqueued time of a captured event: `x-opt-enqueued-time` (milliseconds) when present,
 * else `EnqueuedTimeUtc` in Capture's format or ISO-8601; undefined when neither parses.
 */
export function capturedEnqueuedTime(e: Pick<CapturedEvent, 'enqueuedTimeUtc' | 'systemProperties'>): Date | undefined {
  const ms = e.systemProperties['x-opt-enqueued-time'];
  if (typeof ms === 'number' && Number.isFinite(ms)) return new Date(ms);
  const m = DOTNET_TIME.exec(e.enqueuedTimeUtc);
  if (m) {
    const [, mo, d, y, h, mi, s, ampm] = m;
    const hour = (Number(h) % 12) + (ampm === 'PM' ? 12 : 0);
    return new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), hour, Number(mi), Number(s)));
  }
  const iso = Date.parse(e.enqueuedTimeUtc);
  return Number.isNaN(iso) ? undefined : new Date(iso);
}

// ---- records --------------------------------------------------------------------------------

/**
 * Reads a union-valued map from a decoded record. Files from other writers use other union
 * shapes (real Capture adds `null` to `Properties`); any single-branch wrapper or bare value of
 * a known kind is accepted. A null is kept where `keepNulls` (application properties: the sender
 * set the key) and left out elsewhere.
 */
function unwrapMap(raw: unknown, keepNulls: true): Record<string, CapturePropertyValue>;
function unwrapMap(raw: unknown, keepNulls: false): Record<string, CaptureValue>;
function unwrapMap(raw: unknown, keepNulls: boolean): Record<string, CapturePropertyValue> {
  const out: Record<string, CapturePropertyValue> = {};
  if (!raw || typeof raw !== 'object') return out;
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    const value = isNullValue(v) ? null : unwrapValue(v);
    if (value === null ? keepNulls : value !== undefined) out[k] = value ?? null;
  }
  return out;
}

/** A null as avsc decodes it: bare, or (from other union settings) wrapped as `{ null: null }`. */
function isNullValue(v: unknown): boolean {
  if (v === null) return true;
  if (v && typeof v === 'object' && !Buffer.isBuffer(v)) {
    const entries = Object.entries(v as Record<string, unknown>);
    return entries.length === 1 && entries[0]?.[0] === 'null' && entries[0][1] === null;
  }
  return false;
}

function unwrapValue(v: unknown): CaptureValue | undefined {
  if (typeof v === 'string' || typeof v === 'number' || Buffer.isBuffer(v)) return v;
  if (v && typeof v === 'object') {
    const inner = Object.values(v as Record<string, unknown>)[0];
    if (typeof inner === 'string' || typeof inner === 'number' || Buffer.isBuffer(inner)) return inner;
  }
  return undefined;
}

function fromRecord(r: unknown): CapturedEvent {
  const rec = r as Record<string, unknown>;
  const body = rec.Body;
  const bodyValue = Buffer.isBuffer(body) ? body : body && typeof body === 'object' ? unwrapValue(body) : null;
  return {
    sequenceNumber: Number(rec.SequenceNumber),
    offset: String(rec.Offset),
    enqueuedTimeUtc: String(rec.EnqueuedTimeUtc),
    systemProperties: unwrapMap(rec.SystemProperties, false),
    properties: unwrapMap(rec.Properties, true),
    body: Buffer.isBuffer(bodyValue) ? bodyValue : typeof bodyValue === 'string' ? Buffer.from(bodyValue) : null,
  };
}

// ---- container files ------------------------------------------------------------------------

/**
 * Decodes a container file streamed from anywhere (a download, a file), one event at a time.
 * The file's own header schema is used, so files from any Capture-compatible writer decode.
 */
export async function* decodeCaptureStream(source: NodeJS.ReadableStream | Readable): AsyncGenerator<CapturedEvent> {
  const decoder = new avro.streams.BlockDecoder();
  const input = source instanceof Readable ? source : Readable.from(source as AsyncIterable<Buffer>);
  input.on('error', (e) => decoder.destroy(e));
  input.pipe(decoder);
  for await (const record of decoder as AsyncIterable<unknown>) yield fromRecord(record);
}

/** Decodes a whole container file held in memory. */
export async function decodeCaptureFile(file: Buffer): Promise<CapturedEvent[]> {
  const out: CapturedEvent[] = [];
  for await (const e of decodeCaptureStream(Readable.from([file]))) out.push(e);
  return out;
}
