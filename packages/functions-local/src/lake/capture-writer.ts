/**
 * The local stand-in for Event Hubs Capture: per partition it buffers the hub's events and writes
 * one Avro file per capture window to the lake through the real Data Lake client, in Capture's
 * format and path layout, so the archive reader works locally exactly as it does in Azure.
 *
 * A window opens with its first event and closes when its time is up or when it holds the size
 * limit, whichever comes first; its start time names the file. A window with no events writes
 * nothing. Time comes from an injectable clock and closing by time happens on `tick()` (driven by
 * a timer after `start()`), so tests move time by hand instead of sleeping.
 *
 * Nothing is lost to a failing lake: a window's write (create, append, flush) is retried with
 * exponential backoff until the lake has it, and only then reported through `onFile`, which is
 * where the caller notes the window as written. Windows of a partition are written in order, so
 * a later one never lands (and is never noted) before an earlier one. Stopping while the lake
 * still fails abandons the unwritten windows of that partition, all of them and never noted, so a
 * restart captures them again; so does a kill at any point, between append and flush included
 * (unflushed data is not part of a file). Capture is at least once: readers drop the repeats by
 * partition and sequence number (functions/adapters/capture-archive.ts).
 *
 * Over 300 lines: windows, retries and in-order writes are one state machine per partition.
 */
import type { DataLakeFileClient, DataLakeFileSystemClient } from '@azure/storage-file-datalake';
import {
  capturePath,
  capturedRecordSize,
  encodeCaptureFile,
  formatEnqueuedTimeUtc,
  readCaptureHeader,
} from './capture-format';
import { systemClock } from '../clock';
import type { Clock as FullClock } from '../clock';
import type { CaptureCodec, CapturePropertyValue, CaptureValue, CapturedEvent } from './capture-format';

/** The writer only reads the time; ticks come from `start()`'s timer or the caller. */
export type Clock = Pick<FullClock, 'now'>;

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
  readonly firstSequenceNumber: number;
  readonly lastSequenceNumber: number;
  /** Attempts the write took (1 when the lake took it at once). */
  readonly attempts: number;
}

export interface CaptureRetryOptions {
  /** Delay before the second attempt; doubles per attempt. Default 500 ms. */
  readonly firstDelayMs?: number;
  /** Cap on the delay. Default 30 s. */
  readonly maxDelayMs?: number;
  /**
   * Waits between attempts; resolves false when `signal` aborts (stopping). Default: a real
   * timer. Tests pass one that returns at once.
   */
  readonly wait?: (ms: number, signal: AbortSignal) => Promise<boolean>;
}

/** A write that failed and will be tried again. */
export interface CaptureRetry {
  readonly path: string;
  readonly partitionId: string;
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: unknown;
}

const realWait = (ms: number, signal: AbortSignal): Promise<boolean> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** A window left unwritten because the writer stopped while the lake still failed. */
export class CaptureAbandonedError extends Error {
  constructor(
    readonly partitionId: string,
    readonly events: number,
    cause: unknown,
  ) {
    super(
      `capture of ${events > 0 ? `${events} event(s)` : 'events'} of partition ${partitionId} abandoned on stop; they are captured again after a restart`,
      { cause },
    );
    this.name = 'CaptureAbandonedError';
  }
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
  /** Called after each window is in the lake (never before): where the caller notes it as written. */
  readonly onFile?: (file: CapturedFile) => void;
  readonly retry?: CaptureRetryOptions;
  /** Called before each retry of a failed write, e.g. to log it. */
  readonly onRetry?: (retry: CaptureRetry) => void;
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
  /** A window of this partition was abandoned: later ones must not be noted past it. */
  abandoned?: unknown;
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
  /** Aborted on stop: pending retries get no more waits. */
  private readonly stopping = new AbortController();

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

  /**
   * Closes every open window now and waits for every write: the shutdown path. Rejects when a
   * window of some partition was abandoned (see stop()).
   */
  async flushAll(): Promise<void> {
    const writes: Promise<void>[] = [];
    for (const [partitionId, st] of this.partitions) {
      if (st.window) writes.push(this.close(partitionId, st, 'flush'));
      writes.push(st.writes);
    }
    await settleAll(writes);
    const abandoned = [...this.partitions].find(([, st]) => st.abandoned !== undefined);
    if (abandoned) throw new CaptureAbandonedError(abandoned[0], 0, abandoned[1].abandoned);
  }

  /** Ticks on a timer (unref'd, so it never keeps the process alive). */
  start(
    intervalMs = Math.min(1000, this.windowMs),
    onError: (e: unknown) => void = (e) => console.error('capture writer:', e),
  ): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.tick().catch(onError);
    }, intervalMs);
    this.timer.unref();
  }

  /**
   * Stops the timer and writes what is buffered: each pending window gets one more attempt at
   * once, and is abandoned (not noted, so captured again after a restart) if the lake still fails.
   */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopping.abort();
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
    const st = this.state(partitionId);
    if (st.abandoned !== undefined) throw new CaptureAbandonedError(partitionId, w.events.length, st.abandoned);
    const windowStart = new Date(w.start);
    const path = capturePath({
      namespace: this.opts.namespace,
      eventHub: this.opts.eventHub,
      partitionId,
      windowStart,
    });
    const first = this.opts.retry?.firstDelayMs ?? 500;
    const max = this.opts.retry?.maxDelayMs ?? 30_000;
    const wait = this.opts.retry?.wait ?? realWait;
    for (let attempt = 1; ; attempt++) {
      let bytes: number;
      try {
        bytes = await this.writeOnce(path, w.events);
      } catch (error) {
        const delayMs = Math.min(max, first * 2 ** (attempt - 1));
        if (!this.stopping.signal.aborted) this.opts.onRetry?.({ path, partitionId, attempt, delayMs, error });
        if (this.stopping.signal.aborted || !(await wait(delayMs, this.stopping.signal))) {
          st.abandoned = error;
          throw new CaptureAbandonedError(partitionId, w.events.length, error);
        }
        continue;
      }
      const firstEvent = w.events[0];
      const lastEvent = w.events[w.events.length - 1];
      this.opts.onFile?.({
        path,
        partitionId,
        windowStart,
        events: w.events.length,
        bytes,
        reason,
        firstSequenceNumber: firstEvent?.sequenceNumber ?? -1,
        lastSequenceNumber: lastEvent?.sequenceNumber ?? -1,
        attempts: attempt,
      });
      return;
    }
  }

  /**
   * One attempt. Safe to repeat after any failure: data appended and not flushed is not part of
   * the file, and a repeat appends at the flushed length again; a flush that landed though its
   * answer was lost makes the repeat add the window twice, which readers drop as duplicates.
   */
  private async writeOnce(path: string, events: readonly CapturedEvent[]): Promise<number> {
    const file = this.opts.fileSystem.getFileClient(path);
    const created = await file.createIfNotExists();
    if (created.succeeded) return writeAt(file, 0, await encodeCaptureFile(events, { codec: this.codec }));
    return this.appendToExisting(file, events);
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
        if (header.codec !== 'null' && header.codec !== 'deflate')
          throw new Error(`${file.name} uses codec ${header.codec}, which this writer cannot append to`);
        const blocks = await encodeCaptureFile(events, {
          codec: header.codec,
          syncMarker: header.syncMarker,
          header: false,
          ...(header.schema !== undefined ? { schema: header.schema } : {}),
        });
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
  const failures = results
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => r.reason as unknown);
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, `${failures.length} capture writes failed`);
}
