/**
 * The local stand-in for Event Hubs Capture: per partition it buffers the hub's events and writes
 * one Avro file per capture window to the lake through the real Data Lake client, in Capture's
 * format and path layout, so the archive reader works locally exactly as it does in Azure.
 *
 * A window opens with its first event and closes when its time is up or when it holds the size
 * limit, whichever comes first; its start time names the file. A window with no events writes
 * nothing. Time comes from an injectable clock and closing by time happens on `tick()` (driven by
 * a timer after `start()`), so tests move time by hand instead of sleeping.
 */
import type { DataLakeFileClient, DataLakeFileSystemClient } from '@azure/storage-file-datalake';
import { capturePath, capturedRecordSize, encodeCaptureFile, formatEnqueuedTimeUtc, readCaptureHeader } from '../../functions/adapters/capture-format';
import type { CaptureCodec, CapturePropertyValue, CaptureValue, CapturedEvent } from '../../functions/adapters/capture-format';

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** One event as the hub stand-in hands it over, after it assigned the partition's sequence number and offset. */
export interface CaptureInput {
  readonly partitionId: string;
  readonly sequenceNumber: number;
  readonly offset: string;
  readonly enqueuedTime: Date;
  readonly body: Buffer | null;
  readonly partitionKey?: string;
  readonly properties?: Readonly<Record<string, CapturePropertyValue>>;
}

export interface CapturedFile {
  readonly path: string;
  readonly partitionId: string;
  readonly windowStart: Date;
  readonly events: number;
  readonly bytes: number;
  /** Why the window closed. */
  readonly reason: 'time' | 'size' | 'flush';
}

export interface CaptureWriterOptions {
  readonly fileSystem: DataLakeFileSystemClient;
  readonly namespace: string;
  readonly eventHub: string;
  /** Capture's time window. Default 60 s. */
  readonly windowMs?: number;
  /** Capture's size window, in encoded record bytes. Default 10 MiB. */
  readonly maxBytes?: number;
  /** Capture writes deflate; `null` keeps files readable byte by byte. Default deflate. */
  readonly codec?: CaptureCodec;
  readonly clock?: Clock;
  /** Called after each file is written, e.g. to log it. */
  readonly onFile?: (file: CapturedFile) => void;
}

interface Window {
  readonly start: number;
  readonly events: CapturedEvent[];
  bytes: number;
}

interface PartitionState {
  window?: Window;
  /** Writes of one partition run in order, so a later window never lands before an earlier one. */
  writes: Promise<void>;
}

/** How much of an existing file to read first when looking for its header (it is rarely more than 1 KiB). */
const HEADER_PROBE_BYTES = 4096;

export class CaptureWriter {
  private readonly partitions = new Map<string, PartitionState>();
  private readonly windowMs: number;
  private readonly maxBytes: number;
  private readonly codec: CaptureCodec;
  private readonly clock: Clock;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: CaptureWriterOptions) {
    this.windowMs = opts.windowMs ?? 60_000;
    this.maxBytes = opts.maxBytes ?? 10 * 1024 * 1024;
    this.codec = opts.codec ?? 'deflate';
    this.clock = opts.clock ?? systemClock;
    if (!(this.windowMs > 0) || !(this.maxBytes > 0)) throw new RangeError('windowMs and maxBytes must be positive');
  }

  /**
   * Buffers one event. Resolves once any window this event closed is in the lake, so a caller
   * that awaits gets back-pressure from slow writes.
   */
  async add(input: CaptureInput): Promise<void> {
    const now = this.clock.now();
    const st = this.state(input.partitionId);
    const event = capturedFromInput(input);
    const size = capturedRecordSize(event);
    const writes: Promise<void>[] = [];
    if (st.window && now >= st.window.start + this.windowMs) writes.push(this.close(input.partitionId, st, 'time'));
    // Close before the limit would be crossed; a single event over the limit gets a file of its own.
    if (st.window && st.window.bytes + size > this.maxBytes) writes.push(this.close(input.partitionId, st, 'size'));
    const w = (st.window ??= { start: now, events: [], bytes: 0 });
    w.events.push(event);
    w.bytes += size;
    if (w.bytes >= this.maxBytes) writes.push(this.close(input.partitionId, st, 'size'));
    await Promise.all(writes);
  }

  /** Closes every window whose time is up. */
  async tick(): Promise<void> {
    const now = this.clock.now();
    const writes: Promise<void>[] = [];
    for (const [partitionId, st] of this.partitions) {
      if (st.window && now >= st.window.start + this.windowMs) writes.push(this.close(partitionId, st, 'time'));
    }
    await settleAll(writes);
  }

  /** Closes every open window now and waits for every write: the shutdown path. */
  async flushAll(): Promise<void> {
    const writes: Promise<void>[] = [];
    for (const [partitionId, st] of this.partitions) {
      if (st.window) writes.push(this.close(partitionId, st, 'flush'));
      writes.push(st.writes);
    }
    await settleAll(writes);
  }

  /** Ticks on a timer (unref'd, so it never keeps the process alive). */
  start(intervalMs = Math.min(1000, this.windowMs), onError: (e: unknown) => void = (e) => console.error('capture writer:', e)): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.tick().catch(onError);
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and writes what is buffered. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flushAll();
  }

  private state(partitionId: string): PartitionState {
    let st = this.partitions.get(partitionId);
    if (!st) {
      st = { writes: Promise.resolve() };
      this.partitions.set(partitionId, st);
    }
    return st;
  }

  private close(partitionId: string, st: PartitionState, reason: CapturedFile['reason']): Promise<void> {
    const w = st.window;
    st.window = undefined;
    if (!w || w.events.length === 0) return st.writes;
    const write = st.writes.catch(() => undefined).then(() => this.write(partitionId, w, reason));
    // The chain keeps order; the failure is the caller's to see, not the next window's.
    st.writes = write.catch(() => undefined);
    return write;
  }

  private async write(partitionId: string, w: Window, reason: CapturedFile['reason']): Promise<void> {
    const windowStart = new Date(w.start);
    const path = capturePath({ namespace: this.opts.namespace, eventHub: this.opts.eventHub, partitionId, windowStart });
    const file = this.opts.fileSystem.getFileClient(path);
    const created = await file.createIfNotExists();
    let bytes: number;
    if (created.succeeded) {
      bytes = await writeAt(file, 0, await encodeCaptureFile(w.events, { codec: this.codec }));
    } else {
      bytes = await this.appendToExisting(file, w.events);
    }
    this.opts.onFile?.({ path, partitionId, windowStart, events: w.events.length, bytes, reason });
  }

  /**
   * Two windows of one partition can start in the same second (a size close followed by more
   * events); both belong in that second's file. An Avro file takes more blocks as long as they
   * carry its sync marker and codec, so the new blocks are appended to it.
   */
  private async appendToExisting(file: DataLakeFileClient, events: readonly CapturedEvent[]): Promise<number> {
    const length = (await file.getProperties()).contentLength ?? 0;
    // An empty file is a write that died between create and flush: start it over.
    if (length === 0) return writeAt(file, 0, await encodeCaptureFile(events, { codec: this.codec }));
    let probe = Math.min(length, HEADER_PROBE_BYTES);
    for (;;) {
      const header = readCaptureHeader(await file.readToBuffer(0, probe));
      if (header) {
        if (header.codec !== 'null' && header.codec !== 'deflate') throw new Error(`${file.name} uses codec ${header.codec}, which this writer cannot append to`);
        const blocks = await encodeCaptureFile(events, { codec: header.codec, syncMarker: header.syncMarker, header: false, ...(header.schema !== undefined ? { schema: header.schema } : {}) });
        return writeAt(file, length, blocks);
      }
      if (probe >= length) throw new Error(`${file.name} is not an Avro container file`);
      probe = Math.min(length, probe * 4);
    }
  }
}

async function writeAt(file: DataLakeFileClient, position: number, data: Buffer): Promise<number> {
  await file.append(data, position, data.length);
  await file.flush(position + data.length);
  return data.length;
}

/** The record Capture writes for one event: enqueued time and partition key go into the system properties. */
export function capturedFromInput(e: CaptureInput): CapturedEvent {
  const systemProperties: Record<string, CaptureValue> = { 'x-opt-enqueued-time': e.enqueuedTime.getTime() };
  if (e.partitionKey !== undefined) systemProperties['x-opt-partition-key'] = e.partitionKey;
  return {
    sequenceNumber: e.sequenceNumber,
    offset: e.offset,
    enqueuedTimeUtc: formatEnqueuedTimeUtc(e.enqueuedTime),
    systemProperties,
    properties: e.properties ?? {},
    body: e.body,
  };
}

/** Waits for all, then fails with the first failure (the others are in `errors` of an AggregateError). */
async function settleAll(ps: readonly Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(ps);
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, `${failures.length} capture writes failed`);
}
