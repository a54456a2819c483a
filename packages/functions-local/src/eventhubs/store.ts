/**
 * Storage of the in-process Event Hubs: one append-only log per partition and the consumers'
 * checkpoints, either in memory (tests) or under a data directory (the local runtime).
 *
 * Durability model: an event is written to its partition file with a synchronous write before
 * `publish` returns, so once a publisher has its answer the event survives `kill -9` (the bytes
 * are in the kernel; we do not fsync, so a power cut may lose the tail). A line cut short by a
 * crash mid-write was never acknowledged and is dropped on the next open. Checkpoints are
 * replaced atomically (write to a temporary file, then rename).
 */
import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import path from 'node:path';

export interface StoredEvent {
  readonly sequenceNumber: number;
  /** Byte position of the event in its partition log, as a string like the service's offsets. */
  readonly offset: string;
  readonly enqueuedTimeMs: number;
  readonly partitionKey?: string;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly body: Buffer;
}

export interface NewEvent {
  readonly enqueuedTimeMs: number;
  readonly partitionKey?: string;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly body: Buffer;
  /** The body as the JSON text it was encoded from, when it was: logged as JSON, not as an escaped string. */
  readonly json?: string;
}

export interface PartitionLog {
  /** Events by sequence number: sequence numbers start at 0 and have no gaps. */
  readonly events: readonly StoredEvent[];
  append(batch: readonly NewEvent[]): StoredEvent[];
  close(): void;
}

/**
 * One line of a partition file. Bodies published as JSON values are kept as that JSON (`j`),
 * other bodies that are valid UTF-8 as text (`u`), the rest as base64 (`b`).
 */
interface LogLine {
  s: number;
  t: number;
  k?: string;
  p?: Record<string, unknown>;
  j?: unknown;
  u?: string;
  b?: string;
}

/** One event's line as text; a batch's lines are encoded to bytes together (see `prepare`). */
function encodeLine(event: StoredEvent, json: string | undefined): string {
  const line: LogLine = { s: event.sequenceNumber, t: event.enqueuedTimeMs };
  if (event.partitionKey !== undefined) line.k = event.partitionKey;
  if (Object.keys(event.properties).length > 0) line.p = { ...event.properties };
  // JSON text produced by JSON.stringify comes back byte for byte from JSON.stringify(JSON.parse(…)),
  // so it goes in as it is: no escaping of every quote, which dominated publishing.
  if (json !== undefined) return `${JSON.stringify(line).slice(0, -1)},"j":${json}}\n`;
  if (isUtf8(event.body)) line.u = event.body.toString('utf8');
  else line.b = event.body.toString('base64');
  return `${JSON.stringify(line)}\n`;
}

function decodeLine(text: string, offset: number): StoredEvent {
  const line = JSON.parse(text) as LogLine;
  if (typeof line.s !== 'number' || typeof line.t !== 'number') throw new Error('missing sequence number or time');
  return {
    sequenceNumber: line.s,
    offset: String(offset),
    enqueuedTimeMs: line.t,
    ...(line.k !== undefined ? { partitionKey: line.k } : {}),
    properties: line.p ?? {},
    body:
      line.j !== undefined
        ? Buffer.from(JSON.stringify(line.j), 'utf8')
        : line.b !== undefined
          ? Buffer.from(line.b, 'base64')
          : Buffer.from(line.u ?? '', 'utf8'),
  };
}

class MemoryPartitionLog implements PartitionLog {
  readonly events: StoredEvent[] = [];
  protected nextOffset = 0;

  append(batch: readonly NewEvent[]): StoredEvent[] {
    const { stored, bytes } = this.prepare(batch);
    this.write(bytes);
    this.commit(stored, bytes);
    return stored;
  }

  protected prepare(batch: readonly NewEvent[]): { stored: StoredEvent[]; bytes: Buffer } {
    const stored: StoredEvent[] = [];
    let text = '';
    let offset = this.nextOffset;
    let seq = this.events.length;
    for (const e of batch) {
      const event: StoredEvent = {
        sequenceNumber: seq++,
        offset: String(offset),
        enqueuedTimeMs: e.enqueuedTimeMs,
        ...(e.partitionKey !== undefined ? { partitionKey: e.partitionKey } : {}),
        properties: e.properties,
        body: e.body,
      };
      const line = encodeLine(event, e.json);
      offset += Buffer.byteLength(line, 'utf8');
      stored.push(event);
      text += line;
    }
    // One buffer, hence one write, for the whole batch of a partition.
    return { stored, bytes: Buffer.from(text, 'utf8') };
  }

  protected write(_bytes: Buffer): void {
    // Memory only: nothing to write.
  }

  protected commit(stored: StoredEvent[], bytes: Buffer): void {
    for (const e of stored) this.events.push(e);
    this.nextOffset += bytes.length;
  }

  close(): void {
    // Nothing held.
  }
}

class FilePartitionLog extends MemoryPartitionLog {
  #fd: number | undefined;

  constructor(readonly file: string) {
    super();
    this.load();
    this.#fd = fs.openSync(file, 'a');
  }

  private load(): void {
    if (!fs.existsSync(this.file)) return;
    const data = fs.readFileSync(this.file);
    let start = 0;
    while (start < data.length) {
      const end = data.indexOf(0x0a, start);
      if (end === -1) break; // torn tail: never acknowledged
      const text = data.subarray(start, end).toString('utf8');
      let event: StoredEvent;
      try {
        event = decodeLine(text, start);
      } catch (e) {
        throw new Error(`${this.file}: unreadable event at byte ${start}: ${(e as Error).message}`);
      }
      if (event.sequenceNumber !== this.events.length) {
        throw new Error(
          `${this.file}: expected sequence number ${this.events.length} at byte ${start}, found ${event.sequenceNumber}.`,
        );
      }
      this.events.push(event);
      start = end + 1;
    }
    if (start < data.length) fs.truncateSync(this.file, start);
    this.nextOffset = start;
  }

  protected override write(bytes: Buffer): void {
    if (this.#fd === undefined) throw new Error(`${this.file} is closed.`);
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(this.#fd, bytes, written, bytes.length - written);
  }

  override close(): void {
    if (this.#fd !== undefined) fs.closeSync(this.#fd);
    this.#fd = undefined;
  }
}

export function memoryPartitionLog(): PartitionLog {
  return new MemoryPartitionLog();
}

export function filePartitionLog(file: string): PartitionLog {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return new FilePartitionLog(file);
}

/** Identifies one consumer's position in one partition. */
export interface CheckpointKey {
  readonly hub: string;
  readonly consumerGroup: string;
  /** The consuming function: each function keeps its own position (see the dispatcher's header). */
  readonly owner: string;
  readonly partitionId: string;
}

export interface Checkpoint {
  /** The last sequence number the consumer finished with; it resumes at the next one. */
  readonly sequenceNumber: number;
  readonly offset: string;
  readonly updatedAt: string;
}

export interface CheckpointStore {
  get(key: CheckpointKey): Checkpoint | undefined;
  set(key: CheckpointKey, checkpoint: Checkpoint): void;
}

function keyOf(k: CheckpointKey): string {
  return `${k.hub}/${k.consumerGroup}/${k.owner}/${k.partitionId}`;
}

export class MemoryCheckpointStore implements CheckpointStore {
  protected readonly entries = new Map<string, Checkpoint>();

  get(key: CheckpointKey): Checkpoint | undefined {
    return this.entries.get(keyOf(key));
  }

  set(key: CheckpointKey, checkpoint: Checkpoint): void {
    this.entries.set(keyOf(key), checkpoint);
  }
}

export class FileCheckpointStore extends MemoryCheckpointStore {
  constructor(readonly file: string) {
    super();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (fs.existsSync(file)) {
      const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, Checkpoint>;
      for (const [k, v] of Object.entries(saved)) this.entries.set(k, v);
    }
  }

  override set(key: CheckpointKey, checkpoint: Checkpoint): void {
    super.set(key, checkpoint);
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.entries), null, 1));
    fs.renameSync(tmp, this.file);
  }
}
