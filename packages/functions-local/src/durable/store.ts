/**
 * Where orchestration instances live between episodes: the record shape (history, work still
 * owed to the instance, events waiting to be played) and the store port with two adapters, an
 * in-memory one for tests and a file-backed one (one JSON file per instance, replaced atomically
 * through a temp file and rename) so a restarted process resumes what was in flight.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { DurableRetryOptions } from './actions';
import type { CompletionEvent, HistoryEvent } from './history';

export type RuntimeStatus =
  'Pending' | 'Running' | 'Completed' | 'ContinuedAsNew' | 'Failed' | 'Terminated' | 'Suspended';

export const TERMINAL_STATUSES: readonly RuntimeStatus[] = ['Completed', 'Failed', 'Terminated'];

export function isTerminal(status: RuntimeStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** A retried call as the SDK's RetryableTask sees it: the attempt under way and the policy. */
export interface RetryState {
  readonly policy: DurableRetryOptions;
  /** 1-based number of the attempt the owning work item runs (or, for a timer, just failed). */
  readonly attempt: number;
  /** What to run again: the work item of the first attempt, without its task id. */
  readonly target:
    | { readonly kind: 'activity'; readonly name: string; readonly inputJson?: string }
    | {
        readonly kind: 'subOrchestration';
        readonly name: string;
        readonly instanceId?: string;
        readonly inputJson?: string;
      };
}

/** Work scheduled by the orchestrator (or by a retry) whose completion has not been played yet. */
export type PendingWork =
  | {
      readonly kind: 'activity';
      readonly taskId: number;
      readonly name: string;
      readonly inputJson?: string;
      readonly retry?: RetryState;
    }
  | { readonly kind: 'timer'; readonly taskId: number; readonly fireAt: string; readonly retry?: RetryState }
  | {
      readonly kind: 'subOrchestration';
      readonly taskId: number;
      readonly name: string;
      readonly instanceId: string;
      readonly inputJson?: string;
      readonly retry?: RetryState;
    };

/** Links a sub-orchestration to the parent task waiting for it. */
export interface ParentLink {
  readonly instanceId: string;
  readonly taskId: number;
  /** The parent's execution (continueAsNew starts a new one); results for older ones are dropped. */
  readonly execution: number;
}

export interface InstanceRecord {
  readonly instanceId: string;
  name: string;
  /** Increases with every continueAsNew and with every restart of a finished id. */
  execution: number;
  status: RuntimeStatus;
  inputJson?: string;
  outputJson?: string;
  customStatusJson?: string;
  createdTime: string;
  lastUpdatedTime: string;
  parent?: ParentLink;
  /** The current execution's history, episode by episode. */
  history: HistoryEvent[];
  /** The SDK's next task id: every id-taking action and retry step takes the next one. */
  nextTaskId: number;
  /** Signatures of the actions already turned into history, in order (replays must repeat them). */
  actionLog: { readonly signature: string; readonly taskId?: number }[];
  pending: PendingWork[];
  /** Completions and raised events not yet played, in arrival order. */
  inbox: CompletionEvent[];
}

export interface InstanceStore {
  load(instanceId: string): Promise<InstanceRecord | undefined>;
  /** Replaces the stored record as a whole. */
  save(record: InstanceRecord): Promise<void>;
  delete(instanceId: string): Promise<boolean>;
  loadAll(): Promise<InstanceRecord[]>;
}

/**
 * Keeps each record as its JSON text, never the engine's live objects, so it behaves like a real
 * store: what is saved is serialized once, and every load parses a fresh copy.
 */
export class MemoryInstanceStore implements InstanceStore {
  readonly #records = new Map<string, string>();

  async load(instanceId: string): Promise<InstanceRecord | undefined> {
    const r = this.#records.get(instanceId);
    return r === undefined ? undefined : (JSON.parse(r) as InstanceRecord);
  }

  async save(record: InstanceRecord): Promise<void> {
    this.#records.set(record.instanceId, JSON.stringify(record));
  }

  async delete(instanceId: string): Promise<boolean> {
    return this.#records.delete(instanceId);
  }

  async loadAll(): Promise<InstanceRecord[]> {
    return [...this.#records.values()].map((r) => JSON.parse(r) as InstanceRecord);
  }
}

const SUFFIX = '.instance.json';

/**
 * One `<encoded id>.instance.json` per instance. A save writes a temp file and renames it over
 * the old one, so a crash leaves either the old or the new record, never half of one.
 */
export class FileInstanceStore implements InstanceStore {
  readonly #dir: string;
  #ready: Promise<void> | undefined;

  constructor(directory: string) {
    this.#dir = directory;
  }

  get directory(): string {
    return this.#dir;
  }

  #file(instanceId: string): string {
    return path.join(this.#dir, `${encodeURIComponent(instanceId)}${SUFFIX}`);
  }

  #ensureDir(): Promise<void> {
    this.#ready ??= fs.mkdir(this.#dir, { recursive: true }).then(() => undefined);
    return this.#ready;
  }

  async load(instanceId: string): Promise<InstanceRecord | undefined> {
    try {
      return JSON.parse(await fs.readFile(this.#file(instanceId), 'utf8')) as InstanceRecord;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async save(record: InstanceRecord): Promise<void> {
    await this.#ensureDir();
    const target = this.#file(record.instanceId);
    const temp = `${target}.${randomUUID()}.tmp`;
    await fs.writeFile(temp, JSON.stringify(record), 'utf8');
    await fs.rename(temp, target);
  }

  async delete(instanceId: string): Promise<boolean> {
    try {
      await fs.unlink(this.#file(instanceId));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  async loadAll(): Promise<InstanceRecord[]> {
    await this.#ensureDir();
    const names = (await fs.readdir(this.#dir)).filter((n) => n.endsWith(SUFFIX));
    const records: InstanceRecord[] = [];
    for (const name of names) {
      const id = decodeURIComponent(name.slice(0, -SUFFIX.length));
      const r = await this.load(id);
      if (r) records.push(r);
    }
    return records;
  }
}
