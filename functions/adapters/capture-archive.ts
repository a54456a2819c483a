/**
 * Reads the Event Hubs Capture archive in the lake (ADLS Gen2 through `@azure/storage-file-datalake`):
 * finds the Capture files of one hub whose window starts in a time range, and streams their
 * events back decoded. Works the same against Azure and the local lake stand-in.
 *
 * Files are found by walking Capture's date folders and pruning every folder whose time span
 * misses the range, so a query for an hour lists a handful of folders, not the whole archive.
 * A file is in range when the window start in its path is in [from, to): events are not
 * filtered by their own enqueued time, as a file is Capture's unit of delivery.
 *
 * Capture is at least once: a writer that dies after the lake took a window but before it noted
 * so captures those events again. `events()` therefore drops an event whose partition and
 * sequence number it has already yielded in the same read; files of either schema variant read
 * (each with the writer schema in its header), null property values included.
 */
import type { DataLakeFileSystemClient } from '@azure/storage-file-datalake';
import { capturedEnqueuedTime, capturePartitionPrefix, decodeCaptureStream, parseCapturePath } from './capture-format';
import type { CaptureFileLocation, CapturePropertyValue, CaptureValue, CapturedEvent } from './capture-format';

export interface CaptureRange {
  readonly namespace: string;
  readonly eventHub: string;
  /** Inclusive. */
  readonly from: Date;
  /** Exclusive. */
  readonly to: Date;
  /** Only these partitions; default: every partition found in the archive. */
  readonly partitionIds?: readonly string[];
}

export interface CaptureFileRef extends CaptureFileLocation {
  readonly path: string;
  readonly sizeBytes: number;
}

/** A body that parsed as JSON, one that did not (kept as bytes), or none at all. */
export type ArchivedBody =
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'raw'; readonly bytes: Buffer }
  | { readonly kind: 'none' };

export interface ArchivedEvent {
  readonly partitionId: string;
  /** The Capture file the event came from. */
  readonly file: string;
  readonly sequenceNumber: number;
  readonly offset: string;
  /** As written in the file. */
  readonly enqueuedTimeUtc: string;
  /** Parsed, to the millisecond when the file carries `x-opt-enqueued-time`. */
  readonly enqueuedTime: Date | undefined;
  readonly properties: Readonly<Record<string, CapturePropertyValue>>;
  readonly systemProperties: Readonly<Record<string, CaptureValue>>;
  readonly body: ArchivedBody;
}

/** Folder levels below a partition, with the width of their zero-padded names. */
const LEVELS = [4, 2, 2, 2] as const; // year, month, day, hour

export class CaptureArchive {
  constructor(private readonly fileSystem: DataLakeFileSystemClient) {}

  /**
   * The Capture files whose window starts in [from, to), partition by partition (in partition
   * order), each partition's files in time order.
   */
  async *listFiles(range: CaptureRange): AsyncGenerator<CaptureFileRef> {
    if (!(range.from.getTime() < range.to.getTime())) return;
    const partitions = range.partitionIds
      ? [...range.partitionIds].sort(comparePartitions)
      : await this.partitions(range.namespace, range.eventHub);
    for (const partitionId of partitions) {
      const base = capturePartitionPrefix(range.namespace, range.eventHub, partitionId);
      // Start at the deepest folder both ends of the range share, e.g. `.../2026/11/22/10` for a
      // range inside one hour.
      const first = timeParts(range.from);
      const last = timeParts(new Date(range.to.getTime() - 1));
      const shared: number[] = [];
      for (let i = 0; i < LEVELS.length && first[i] === last[i]; i++) shared.push(first[i] ?? 0);
      yield* this.walk(base, shared, range);
    }
  }

  /** One file's events in sequence-number order (Capture writes them so; sorting makes it a guarantee). */
  async readFile(path: string): Promise<CapturedEvent[]> {
    const res = await this.fileSystem.getFileClient(path).read();
    const body = res.readableStreamBody;
    if (!body) return [];
    const events: CapturedEvent[] = [];
    for await (const e of decodeCaptureStream(body)) events.push(e);
    return events.sort((a, b) => a.sequenceNumber - b.sequenceNumber);
  }

  /**
   * Every event of the files in range, file by file: per partition in sequence-number order,
   * each (partition, sequence number) once. One file is held in memory at a time, and the
   * sequence numbers seen of one partition (files come partition by partition).
   */
  async *events(
    range: CaptureRange,
    onDuplicate?: (e: { partitionId: string; sequenceNumber: number; file: string }) => void,
  ): AsyncGenerator<ArchivedEvent> {
    let partition: string | undefined;
    const seen = new Set<number>();
    for await (const file of this.listFiles(range)) {
      if (file.partitionId !== partition) {
        partition = file.partitionId;
        seen.clear();
      }
      // Created, never flushed: a writer died before the lake took the window (it is captured again).
      if (file.sizeBytes === 0) continue;
      for (const e of await this.readFile(file.path)) {
        if (seen.has(e.sequenceNumber)) {
          onDuplicate?.({ partitionId: file.partitionId, sequenceNumber: e.sequenceNumber, file: file.path });
          continue;
        }
        seen.add(e.sequenceNumber);
        yield {
          partitionId: file.partitionId,
          file: file.path,
          sequenceNumber: e.sequenceNumber,
          offset: e.offset,
          enqueuedTimeUtc: e.enqueuedTimeUtc,
          enqueuedTime: capturedEnqueuedTime(e),
          properties: e.properties,
          systemProperties: e.systemProperties,
          body: parseBody(e.body),
        };
      }
    }
  }

  private async partitions(namespace: string, eventHub: string): Promise<string[]> {
    const names = (await this.children(capturePartitionPrefix(namespace, eventHub), false))
      .filter((c) => c.isDirectory)
      .map((c) => lastSegment(c.name));
    return names.sort(comparePartitions);
  }

  private async *walk(base: string, parts: number[], range: CaptureRange): AsyncGenerator<CaptureFileRef> {
    const dir = [base, ...parts.map((p, i) => String(p).padStart(LEVELS[i] ?? 2, '0'))].join('/');
    if (parts.length === LEVELS.length) {
      // An hour holds at most 3600 files in 60 folders: one recursive listing fetches them all.
      const files: CaptureFileRef[] = [];
      for (const c of await this.children(dir, true)) {
        if (c.isDirectory) continue;
        const loc = parseCapturePath(c.name);
        const t = loc?.windowStart.getTime();
        if (loc && t !== undefined && t >= range.from.getTime() && t < range.to.getTime())
          files.push({ ...loc, path: c.name, sizeBytes: c.size });
      }
      files.sort((a, b) => a.windowStart.getTime() - b.windowStart.getTime() || compareText(a.path, b.path));
      yield* files;
      return;
    }
    const width = LEVELS[parts.length] ?? 2;
    const next = (await this.children(dir, false))
      .filter((c) => c.isDirectory)
      .map((c) => lastSegment(c.name))
      .filter((n) => n.length === width && /^\d+$/.test(n))
      .map(Number)
      .sort((a, b) => a - b);
    for (const n of next) {
      const span = spanOf([...parts, n]);
      if (span.start < range.to.getTime() && span.end > range.from.getTime())
        yield* this.walk(base, [...parts, n], range);
    }
  }

  /** A folder's entries; a folder that does not exist has none. */
  private async children(
    dir: string,
    recursive: boolean,
  ): Promise<{ name: string; isDirectory: boolean; size: number }[]> {
    const out: { name: string; isDirectory: boolean; size: number }[] = [];
    try {
      for await (const p of this.fileSystem.listPaths({ path: dir, recursive })) {
        if (p.name) out.push({ name: p.name, isDirectory: p.isDirectory === true, size: p.contentLength ?? 0 });
      }
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return [];
      throw e;
    }
    return out;
  }
}

/** JSON where the body is JSON (as every delivery event is), the bytes otherwise. */
function parseBody(body: Buffer | null): ArchivedBody {
  if (!body) return { kind: 'none' };
  try {
    return { kind: 'json', value: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)) as unknown };
  } catch {
    return { kind: 'raw', bytes: body };
  }
}

function timeParts(t: Date): number[] {
  return [t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate(), t.getUTCHours()];
}

/** The [start, end) milliseconds a year/month/day/hour folder covers. */
function spanOf(parts: readonly number[]): { start: number; end: number } {
  const [y = 1970, mo = 1, d = 1, h = 0] = parts;
  const start = Date.UTC(y, mo - 1, d, h);
  const end =
    parts.length === 1
      ? Date.UTC(y + 1, 0, 1)
      : parts.length === 2
        ? Date.UTC(y, mo, 1)
        : parts.length === 3
          ? Date.UTC(y, mo - 1, d + 1)
          : Date.UTC(y, mo - 1, d, h + 1);
  return { start, end };
}

function lastSegment(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** Numeric partition ids in numeric order ("2" before "10"), anything else after, by text. */
function comparePartitions(a: string, b: string): number {
  const na = /^\d+$/.test(a) ? Number(a) : NaN;
  const nb = /^\d+$/.test(b) ? Number(b) : NaN;
  if (!Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
  if (!Number.isNaN(na)) return -1;
  if (!Number.isNaN(nb)) return 1;
  return compareText(a, b);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
