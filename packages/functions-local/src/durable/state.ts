/**
 * The engine's state and its persistence: the instance records, per-instance locks and write
 * chains to the InstanceStore, the count of work in flight (what `idle()` waits for), and the
 * inbox every completion and raised event goes through. Every duty module (episode.ts, work.ts,
 * test-controls.ts) works on one EngineState; `wake` is how they ask for the next episode.
 */
import { currentRegistry } from '../core/functions-core';
import type { FunctionRegistry, RegisteredFunction } from '../core/functions-core';
import { realClock, VirtualClock } from '../clock';
import type { Clock } from '../clock';
import { DurableEngineError, iso, ORCHESTRATION_TRIGGER } from './engine-types';
import type {
  ActivityInvoker,
  ActivityRun,
  DurableEngineOptions,
  EventDelivery,
  InstanceStatus,
  Mutable,
  StatusOptions,
} from './engine-types';
import { completedTaskId, parseJsonText, toFriendlyHistory } from './history';
import type { CompletionEvent } from './history';
import { Limiter } from './limiter';
import { isTerminal, MemoryInstanceStore } from './store';
import type { InstanceRecord, InstanceStore, ParentLink } from './store';

export interface HeldResults {
  readonly matches: (run: ActivityRun) => boolean;
  readonly waiting: (() => void)[];
  released: boolean;
}

export class EngineState {
  readonly registry: FunctionRegistry;
  readonly store: InstanceStore;
  readonly clock: Clock;
  readonly limiter: Limiter;
  readonly invoke: ActivityInvoker;
  readonly log: (message: string) => void;
  readonly delivery: EventDelivery;
  readonly loseResult: ((invocation: ActivityRun) => boolean) | undefined;
  readonly holds: HeldResults[] = [];

  readonly records = new Map<string, InstanceRecord>();
  readonly locks = new Map<string, Promise<unknown>>();
  readonly writes = new Map<string, Promise<void>>();
  readonly processing = new Map<string, { again: boolean }>();
  readonly timers = new Map<string, () => void>();
  readonly dispatched = new Set<string>();
  readonly terminalWaiters = new Map<string, ((status: InstanceStatus) => void)[]>();
  inflight = 0;
  idleWaiters: (() => void)[] = [];
  closed = false;
  /** Plays the instance's next episode(s); set by the engine (episode.ts `kick`). */
  wake: (instanceId: string) => void = () => undefined;

  constructor(options: DurableEngineOptions, defaultInvoke: (s: EngineState) => ActivityInvoker) {
    this.registry = options.registry ?? currentRegistry();
    this.store = options.store ?? new MemoryInstanceStore();
    this.clock = options.clock ?? realClock;
    this.limiter = new Limiter(options.maxConcurrentActivities ?? 10);
    this.log = options.log ?? (() => undefined);
    this.invoke = options.invokeActivity ?? defaultInvoke(this);
    this.delivery = options.eventDelivery ?? 'batch';
    this.loseResult = options.loseResult;
  }

  // ---------------------------------------------------------------- records

  virtualClock(): VirtualClock {
    if (!(this.clock instanceof VirtualClock))
      throw new Error('advance/runTimers need the engine to run on a VirtualClock.');
    return this.clock;
  }

  assertOpen(): void {
    if (this.closed) throw new Error('The orchestration engine is closed.');
  }

  orchestrator(name: string): RegisteredFunction {
    const fn = this.registry.functions.get(name);
    if (!fn || fn.trigger.type !== ORCHESTRATION_TRIGGER) {
      throw new DurableEngineError('OrchestratorNotFound', `No orchestrator function named '${name}' is registered.`);
    }
    return fn;
  }

  existing(instanceId: string): InstanceRecord {
    const r = this.records.get(instanceId);
    if (!r) throw new DurableEngineError('InstanceNotFound', `No instance with ID '${instanceId}' found.`);
    return r;
  }

  newRecord(
    name: string,
    instanceId: string,
    inputJson: string | undefined,
    parent: ParentLink | undefined,
    execution: number,
  ): InstanceRecord {
    const now = iso(this.clock.now());
    const record: InstanceRecord = {
      instanceId,
      name,
      execution,
      status: 'Pending',
      createdTime: now,
      lastUpdatedTime: now,
      history: [],
      nextTaskId: 0,
      actionLog: [],
      pending: [],
      inbox: [],
    };
    if (inputJson !== undefined) record.inputJson = inputJson;
    if (parent) record.parent = parent;
    return record;
  }

  statusOf(r: InstanceRecord, options: StatusOptions): InstanceStatus {
    const status: Mutable<InstanceStatus> = {
      name: r.name,
      instanceId: r.instanceId,
      runtimeStatus: r.status,
      input: options.showInput === false ? null : (parseJsonText(r.inputJson) ?? null),
      output: parseJsonText(r.outputJson) ?? null,
      customStatus: parseJsonText(r.customStatusJson) ?? null,
      createdTime: r.createdTime,
      lastUpdatedTime: r.lastUpdatedTime,
    };
    if (options.showHistory) status.history = toFriendlyHistory(r.history, options.showHistoryOutput ?? false);
    return status;
  }

  // ---------------------------------------------------------------- concurrency and persistence

  track<T>(work: Promise<T>): Promise<T> {
    this.inflight++;
    const done = (): void => {
      this.inflight--;
      if (this.inflight === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    };
    work.then(done, done);
    return work;
  }

  /** One control operation or replay of an instance at a time. */
  withLock<T>(instanceId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(instanceId) ?? Promise.resolve();
    const next = previous.then(fn);
    const settled = next.catch(() => undefined);
    this.locks.set(instanceId, settled);
    void settled.then(() => {
      if (this.locks.get(instanceId) === settled) this.locks.delete(instanceId);
    });
    return next;
  }

  /** Writes of one instance happen in call order; each writes the record as it is when its turn comes. */
  chainWrite(instanceId: string, write: () => Promise<void>): Promise<void> {
    const previous = this.writes.get(instanceId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(write);
    this.writes.set(instanceId, next);
    void next
      .catch(() => undefined)
      .then(() => {
        if (this.writes.get(instanceId) === next) this.writes.delete(instanceId);
      });
    return this.track(next);
  }

  persist(record: InstanceRecord): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.chainWrite(record.instanceId, async () => {
      if (this.closed) return;
      if (this.records.get(record.instanceId) !== record) return;
      await this.store.save(record);
    });
  }

  /** Appends a completion or raised event to the instance's inbox, durably, and wakes it. */
  async enqueue(instanceId: string, execution: number, event: CompletionEvent): Promise<void> {
    if (this.closed) return;
    const r = this.records.get(instanceId);
    if (!r || isTerminal(r.status) || r.execution !== execution) return;
    const taskId = completedTaskId(event);
    if (taskId !== undefined) {
      // Results are at-least-once (re-run activities, re-delivered child results): the first wins.
      if (!r.pending.some((p) => p.taskId === taskId)) return;
      if (r.inbox.some((e) => completedTaskId(e) === taskId)) return;
    }
    r.inbox.push(event);
    await this.persist(r);
    this.wake(instanceId);
  }

  /** Idle: no replay, activity, child start or write is under way. Armed timers do not count. */
  async idle(): Promise<void> {
    while (this.inflight > 0 && !this.closed) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Disarms every durable timer (close and crash). */
  stopTimers(): void {
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
  }
}
