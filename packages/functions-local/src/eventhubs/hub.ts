/**
 * The in-process Event Hubs namespace: the hubs the app declares (functions/resources.ts), each
 * with its partitions, consumer groups and checkpoints. Publishing assigns partitions the way the
 * service does (partition key → stable hash, no key → round robin), stamps sequence numbers,
 * offsets and enqueued times, and wakes the dispatchers of the partitions it wrote to.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Clock } from '../clock';
import { systemClock } from '../clock';
import { partitionForKey } from './partition-key';
import { FileCheckpointStore, MemoryCheckpointStore, filePartitionLog, memoryPartitionLog } from './store';
import type { CheckpointStore, PartitionLog, StoredEvent } from './store';

/** A hub the app declares: its name and the consumer groups its triggers read with. */
export interface EventHubDecl {
  readonly name: string;
  readonly consumerGroups: readonly { readonly name: string }[];
}

export const DEFAULT_CONSUMER_GROUP = '$Default';
export const DEFAULT_PARTITION_COUNT = 4;
export const LOCAL_NAMESPACE = 'local.servicebus.windows.net';

export interface EventToPublish {
  /** Buffers are sent as raw bytes; anything else as its JSON text (as the Event Hubs SDK does). */
  readonly body: unknown;
  readonly partitionKey?: string;
  /** Pins the partition; exclusive with `partitionKey`. */
  readonly partitionId?: string;
  readonly properties?: Readonly<Record<string, unknown>>;
}

export interface PublishedEvent {
  readonly partitionId: string;
  readonly sequenceNumber: number;
  readonly offset: string;
}

export interface EventHubNamespaceOptions {
  readonly hubs: readonly EventHubDecl[];
  /** Persist hubs and checkpoints here; without it everything lives in memory. */
  readonly dataDir?: string;
  /** Partitions per new hub (a hub that already exists on disk keeps its count). */
  readonly partitionCount?: number;
  readonly fullyQualifiedNamespace?: string;
  readonly clock?: Clock;
}

function encodeBody(body: unknown): { bytes: Buffer; json?: string } {
  if (Buffer.isBuffer(body)) return { bytes: body };
  if (body instanceof Uint8Array) return { bytes: Buffer.from(body) };
  if (body === undefined) throw new Error('An event needs a body.');
  const json = JSON.stringify(body);
  return { bytes: Buffer.from(json, 'utf8'), json };
}

export class EventHub {
  readonly partitionIds: readonly string[];
  readonly consumerGroups: ReadonlySet<string>;
  readonly #logs: readonly PartitionLog[];
  readonly #listeners = new Set<(partitionId: string) => void>();
  readonly #clock: Clock;
  #roundRobin = 0;

  constructor(
    readonly name: string,
    readonly namespace: EventHubNamespace,
    logs: readonly PartitionLog[],
    consumerGroups: readonly string[],
    clock: Clock,
  ) {
    this.#logs = logs;
    this.partitionIds = logs.map((_, i) => String(i));
    this.consumerGroups = new Set([DEFAULT_CONSUMER_GROUP, ...consumerGroups]);
    this.#clock = clock;
  }

  /** Appends events (all accepted or, on a write error, none of a partition's) and returns where each went. */
  publish(events: readonly EventToPublish[]): PublishedEvent[] {
    const byPartition = new Map<
      number,
      { index: number; event: EventToPublish; body: { bytes: Buffer; json?: string } }[]
    >();
    events.forEach((event, index) => {
      const p = this.#partitionOf(event);
      const list = byPartition.get(p) ?? [];
      list.push({ index, event, body: encodeBody(event.body) });
      byPartition.set(p, list);
    });
    const results: PublishedEvent[] = new Array<PublishedEvent>(events.length);
    for (const [p, list] of byPartition) {
      const log = this.#log(p);
      const last = log.events[log.events.length - 1];
      // Enqueued times never go backwards within a partition, even if the wall clock does.
      const now = Math.max(this.#clock.now(), last?.enqueuedTimeMs ?? 0);
      const stored = log.append(
        list.map(({ event, body }) => ({
          enqueuedTimeMs: now,
          ...(event.partitionKey !== undefined ? { partitionKey: event.partitionKey } : {}),
          properties: event.properties ?? {},
          body: body.bytes,
          ...(body.json !== undefined ? { json: body.json } : {}),
        })),
      );
      stored.forEach((s, i) => {
        const at = list[i]?.index ?? 0;
        results[at] = { partitionId: String(p), sequenceNumber: s.sequenceNumber, offset: s.offset };
      });
    }
    for (const p of byPartition.keys()) for (const listener of this.#listeners) listener(String(p));
    return results;
  }

  /** Up to `maxCount` events of a partition from `fromSequence` on. */
  read(partitionId: string, fromSequence: number, maxCount = Number.MAX_SAFE_INTEGER): readonly StoredEvent[] {
    const events = this.#log(Number(partitionId)).events;
    return events.slice(Math.max(0, fromSequence), Math.max(0, fromSequence) + maxCount);
  }

  /** The last sequence number in a partition; -1 when it is empty. */
  lastSequenceNumber(partitionId: string): number {
    return this.#log(Number(partitionId)).events.length - 1;
  }

  /** Calls `listener(partitionId)` after each publish that wrote to that partition. */
  onAppend(listener: (partitionId: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  partitionFor(partitionKey: string): string {
    return String(partitionForKey(partitionKey, this.#logs.length));
  }

  #partitionOf(event: EventToPublish): number {
    if (event.partitionId !== undefined) {
      if (event.partitionKey !== undefined)
        throw new Error('An event may name a partitionKey or a partitionId, not both.');
      const p = Number(event.partitionId);
      if (!Number.isInteger(p) || p < 0 || p >= this.#logs.length) {
        throw new Error(`Hub "${this.name}" has no partition "${event.partitionId}".`);
      }
      return p;
    }
    if (event.partitionKey !== undefined) return partitionForKey(event.partitionKey, this.#logs.length);
    const p = this.#roundRobin;
    this.#roundRobin = (this.#roundRobin + 1) % this.#logs.length;
    return p;
  }

  #log(p: number): PartitionLog {
    const log = this.#logs[p];
    if (!log) throw new Error(`Hub "${this.name}" has no partition "${p}".`);
    return log;
  }

  close(): void {
    for (const log of this.#logs) log.close();
    this.#listeners.clear();
  }
}

export class EventHubNamespace {
  readonly fullyQualifiedNamespace: string;
  readonly checkpoints: CheckpointStore;
  readonly #hubs = new Map<string, EventHub>();

  private constructor(options: EventHubNamespaceOptions) {
    this.fullyQualifiedNamespace = options.fullyQualifiedNamespace ?? LOCAL_NAMESPACE;
    const clock = options.clock ?? systemClock;
    const wanted = options.partitionCount ?? DEFAULT_PARTITION_COUNT;
    if (!Number.isInteger(wanted) || wanted < 1 || wanted > 1024)
      throw new Error(`partitionCount must be 1-1024, got ${wanted}.`);
    const root = options.dataDir ? path.join(options.dataDir, 'eventhubs') : undefined;
    this.checkpoints = root
      ? new FileCheckpointStore(path.join(root, 'checkpoints.json'))
      : new MemoryCheckpointStore();
    for (const decl of options.hubs) {
      const groups = decl.consumerGroups.map((g) => g.name);
      let logs: PartitionLog[];
      if (root) {
        const dir = path.join(root, decl.name);
        const count = EventHubNamespace.#partitionCountOnDisk(dir, wanted);
        logs = Array.from({ length: count }, (_, i) => filePartitionLog(path.join(dir, `partition-${i}.log`)));
      } else {
        logs = Array.from({ length: wanted }, () => memoryPartitionLog());
      }
      this.#hubs.set(decl.name, new EventHub(decl.name, this, logs, groups, clock));
    }
  }

  static open(options: EventHubNamespaceOptions): EventHubNamespace {
    return new EventHubNamespace(options);
  }

  /** A hub keeps the partition count it was created with, as in the service (it cannot shrink). */
  static #partitionCountOnDisk(dir: string, wanted: number): number {
    const meta = path.join(dir, 'hub.json');
    fs.mkdirSync(dir, { recursive: true });
    if (fs.existsSync(meta)) {
      const saved = (JSON.parse(fs.readFileSync(meta, 'utf8')) as { partitionCount?: unknown }).partitionCount;
      if (typeof saved === 'number' && Number.isInteger(saved) && saved > 0) return saved;
    }
    fs.writeFileSync(meta, JSON.stringify({ partitionCount: wanted }));
    return wanted;
  }

  has(name: string): boolean {
    return this.#hubs.has(name);
  }

  hub(name: string): EventHub {
    const hub = this.#hubs.get(name);
    if (!hub) throw new Error(`No event hub named "${name}" is declared (functions/resources.ts EVENT_HUBS).`);
    return hub;
  }

  get hubs(): readonly EventHub[] {
    return [...this.#hubs.values()];
  }

  close(): void {
    for (const hub of this.#hubs.values()) hub.close();
  }
}
