/**
 * The in-process Durable Functions engine: runs the app's registered orchestrators (replaying
 * them through the real durable-functions SDK with histories it builds) and activities, owns
 * instance lifecycles (start, status, events, terminate, suspend, purge, queries), durable
 * timers on a Clock, retries as the Durable extension performs them, persistence through an
 * InstanceStore, recovery after a restart, bounded activity parallelism and per-instance
 * serialization of replays.
 *
 * Episodes: by default a replay plays everything queued since the last one, as the Durable
 * extension does ('batch'), or one completion at a time ('single'). The SDK numbers tasks while
 * it processes history, including the hidden retry steps of `callActivityWithRetry`, so an event
 * that makes it number retry tasks only ever opens a batch; that keeps the engine's numbering in
 * lockstep with the SDK's.
 *
 * Over 450 lines for now: instance operations, episodes, work, persistence and test controls are
 * still one class; issue #13 splits the engine by those duties.
 */
import { randomUUID } from 'node:crypto';
import { InvocationContext } from '@azure/functions';
import type { FunctionInput, FunctionOutput } from '@azure/functions';
import { currentRegistry } from '../functions-core';
import type { FunctionRegistry, RegisteredFunction } from '../functions-core';
import { actionSignature, retryDelayMs, takesTaskId } from './actions';
import type { OrchestratorAction } from './actions';
import { realClock, VirtualClock } from './clock';
import type { Clock } from './clock';
import { completedTaskId, EventType, parseJsonText, toFriendlyHistory, toJsonText } from './history';
import type { CompletionEvent, FailureDetailsPayload, FriendlyHistoryEvent, HistoryEvent } from './history';
import { Limiter } from './limiter';
import { orchestratorStarted, replay } from './replay';
import { isTerminal, MemoryInstanceStore } from './store';
import type { InstanceRecord, InstanceStore, ParentLink, PendingWork, RetryState, RuntimeStatus } from './store';

export type DurableEngineErrorCode = 'InstanceExists' | 'InstanceNotFound' | 'InstanceGone' | 'OrchestratorNotFound' | 'NotTerminal';

/** Expected refusals carry a stable code; the HTTP API maps them to status codes. */
export class DurableEngineError extends Error {
  readonly code: DurableEngineErrorCode;

  constructor(code: DurableEngineErrorCode, message: string) {
    super(message);
    this.name = 'DurableEngineError';
    this.code = code;
  }
}

export interface ActivityInvocation {
  readonly instanceId: string;
  readonly taskId: number;
  /** 1 for the first attempt of a retried call, then 2, 3, … */
  readonly attempt: number;
}

/**
 * Calls a registered activity's handler. The default builds a host-shaped InvocationContext;
 * a local runtime passes its own to carry out the activity's extra input/output bindings.
 */
export type ActivityInvoker = (fn: RegisteredFunction, input: unknown, invocation: ActivityInvocation) => Promise<unknown>;

export interface DurableEngineOptions {
  /** Defaults to the functions-core registry (everything registered in this process). */
  readonly registry?: FunctionRegistry;
  /** Defaults to an in-memory store. */
  readonly store?: InstanceStore;
  /** Defaults to the real clock. */
  readonly clock?: Clock;
  /** host.json `maxConcurrentActivityFunctions`; defaults to 10. */
  readonly maxConcurrentActivities?: number;
  readonly invokeActivity?: ActivityInvoker;
  readonly log?: (message: string) => void;
  /**
   * How queued events reach the orchestrator: 'batch' (default) hands it everything queued since
   * its last episode at once, as the Durable extension does; 'single' plays one per episode.
   */
  readonly eventDelivery?: EventDelivery;
  /** Test control: an activity's result may be lost after it ran; it then runs again. */
  readonly loseResult?: (invocation: ActivityRun) => boolean;
}

export type EventDelivery = 'batch' | 'single';

/** One run of an activity, as the test controls see it. */
export interface ActivityRun extends ActivityInvocation {
  readonly name: string;
}

/** Results of matching activities wait until `release()`; the activities themselves have run. */
export interface ResultHold {
  /** How many results are waiting. */
  readonly held: number;
  /** Lets every held result through (and any later one), in the order they were held. */
  release(): Promise<void>;
}

export interface StartOptions {
  readonly instanceId?: string;
  readonly input?: unknown;
}

export interface StatusOptions {
  readonly showHistory?: boolean;
  readonly showHistoryOutput?: boolean;
  /** Defaults to true, as in the Durable extension. */
  readonly showInput?: boolean;
}

export interface InstanceStatus {
  readonly name: string;
  readonly instanceId: string;
  readonly runtimeStatus: RuntimeStatus;
  readonly input: unknown;
  readonly output: unknown;
  readonly customStatus: unknown;
  readonly createdTime: string;
  readonly lastUpdatedTime: string;
  readonly history?: FriendlyHistoryEvent[];
}

export interface InstanceQuery {
  readonly runtimeStatus?: readonly RuntimeStatus[];
  readonly createdTimeFrom?: Date;
  readonly createdTimeTo?: Date;
  /** Only instances not updated since then (the supervisor's "stuck" question). */
  readonly lastUpdatedTimeTo?: Date;
  readonly instanceIdPrefix?: string;
  readonly showInput?: boolean;
}

export interface DeterminismReport {
  readonly instanceId: string;
  readonly deterministic: boolean;
  readonly recordedActions: string[];
  readonly replayedActions: string[];
  /** Index of the first differing action, when the action lists differ. */
  readonly mismatchAt?: number;
  readonly recordedOutput?: unknown;
  readonly replayedOutput?: unknown;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const ORCHESTRATION_TRIGGER = 'orchestrationTrigger';
const ACTIVITY_TRIGGER = 'activityTrigger';

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function workKey(instanceId: string, execution: number, taskId: number): string {
  return `${instanceId}\u0000${execution}\u0000${taskId}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * With an exception-properties provider registered, durable-functions' activity wrapper puts
 * the serialized failure details in the error message; the extension would send them as
 * `FailureDetails`, which the SDK turns into a TaskFailedError.
 */
function failureDetailsFrom(message: string): FailureDetailsPayload | undefined {
  if (!message.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(message) as unknown;
    if (!isRecord(parsed) || typeof parsed.errorType !== 'string' || typeof parsed.errorMessage !== 'string') return undefined;
    return {
      ErrorType: parsed.errorType,
      ErrorMessage: parsed.errorMessage,
      ...(typeof parsed.stackTrace === 'string' ? { StackTrace: parsed.stackTrace } : {}),
      IsNonRetriable: parsed.isNonRetriable === true,
      ...(isRecord(parsed.properties) ? { Properties: parsed.properties } : {}),
    };
  } catch {
    return undefined;
  }
}

/** Whether playing `event` makes the SDK take task ids for a retry (a timer, or the next attempt). */
function needsTaskIds(work: PendingWork, event: CompletionEvent): boolean {
  const retry = work.retry;
  if (!retry) return false;
  const failed = event.EventType === EventType.TaskFailed || event.EventType === EventType.SubOrchestrationInstanceFailed;
  if (failed && work.kind !== 'timer') return true;
  return event.EventType === EventType.TimerFired && work.kind === 'timer' && retry.attempt < retry.policy.maxNumberOfAttempts;
}

/** The binding view `context.options` gives handlers, from the captured metadata. */
function invocationOptions(fn: RegisteredFunction): { trigger: FunctionInput; extraInputs: FunctionInput[]; extraOutputs: FunctionOutput[] } {
  const extraInputs: FunctionInput[] = [];
  const extraOutputs: FunctionOutput[] = [];
  for (const [name, binding] of Object.entries(fn.metadata.bindings)) {
    if (name === fn.trigger.name || name === '$return') continue;
    const withName = { ...binding, name } as FunctionInput & FunctionOutput;
    if (binding.direction === 'in') extraInputs.push(withName);
    else if (binding.direction === 'out') extraOutputs.push(withName);
  }
  return { trigger: { ...fn.trigger } as FunctionInput, extraInputs, extraOutputs };
}

export class DurableEngine {
  readonly #registry: FunctionRegistry;
  readonly #store: InstanceStore;
  readonly #clock: Clock;
  readonly #limiter: Limiter;
  readonly #invoke: ActivityInvoker;
  readonly #log: (message: string) => void;
  readonly #delivery: EventDelivery;
  readonly #loseResult: ((invocation: ActivityRun) => boolean) | undefined;
  readonly #holds: { matches: (run: ActivityRun) => boolean; waiting: (() => void)[]; released: boolean }[] = [];

  readonly #records = new Map<string, InstanceRecord>();
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #writes = new Map<string, Promise<void>>();
  readonly #processing = new Map<string, { again: boolean }>();
  readonly #timers = new Map<string, () => void>();
  readonly #dispatched = new Set<string>();
  readonly #terminalWaiters = new Map<string, ((status: InstanceStatus) => void)[]>();
  #inflight = 0;
  #idleWaiters: (() => void)[] = [];
  #closed = false;

  private constructor(options: DurableEngineOptions) {
    this.#registry = options.registry ?? currentRegistry();
    this.#store = options.store ?? new MemoryInstanceStore();
    this.#clock = options.clock ?? realClock;
    this.#limiter = new Limiter(options.maxConcurrentActivities ?? 10);
    this.#log = options.log ?? (() => undefined);
    this.#invoke = options.invokeActivity ?? ((fn, input, invocation) => this.#defaultInvoke(fn, input, invocation));
    this.#delivery = options.eventDelivery ?? 'batch';
    this.#loseResult = options.loseResult;
  }

  // ---------------------------------------------------------------- test controls

  /**
   * Holds the results of the activities `matches` selects: they run, but what they return
   * reaches the orchestration only on `release()`, so a test can raise events meanwhile.
   */
  holdResults(matches: (run: ActivityRun) => boolean): ResultHold {
    const hold = { matches, waiting: [] as (() => void)[], released: false };
    this.#holds.push(hold);
    return {
      get held() {
        return hold.waiting.length;
      },
      release: async () => {
        hold.released = true;
        const i = this.#holds.indexOf(hold);
        if (i >= 0) this.#holds.splice(i, 1);
        for (const w of hold.waiting.splice(0)) w();
        await this.idle();
      },
    };
  }

  /** Whether a hold took the result; `deliver` runs on release. */
  #hold(run: ActivityRun, deliver: () => void): boolean {
    const hold = this.#holds.find((h) => !h.released && h.matches(run));
    if (!hold) return false;
    hold.waiting.push(deliver);
    return true;
  }

  /**
   * Builds an engine over a store and resumes whatever the store holds in flight: pending
   * activities run again (at-least-once), timers are re-armed, queued events are played.
   */
  static async create(options: DurableEngineOptions = {}): Promise<DurableEngine> {
    const engine = new DurableEngine(options);
    await engine.#recover();
    return engine;
  }

  get clock(): Clock {
    return this.#clock;
  }

  /** The most activities that ever ran at once. */
  get peakActivityConcurrency(): number {
    return this.#limiter.peak;
  }

  // ---------------------------------------------------------------- instance API

  /** Starts an orchestration. An id that exists and has not finished is refused (`InstanceExists`). */
  async startNew(name: string, options: StartOptions = {}): Promise<string> {
    this.#assertOpen();
    this.#orchestrator(name);
    const instanceId = options.instanceId ?? randomUUID().replace(/-/g, '');
    if (instanceId.trim() === '') throw new DurableEngineError('InstanceNotFound', 'An instance id must not be empty.');
    const inputJson = options.input === undefined ? undefined : toJsonText(options.input);
    await this.#withLock(instanceId, async () => {
      const existing = this.#records.get(instanceId);
      if (existing && !isTerminal(existing.status)) {
        throw new DurableEngineError('InstanceExists', `An instance with ID '${instanceId}' already exists and is ${existing.status}.`);
      }
      const record = this.#newRecord(name, instanceId, inputJson, undefined, (existing?.execution ?? 0) + 1);
      this.#records.set(instanceId, record);
      await this.#persist(record);
    });
    this.#kick(instanceId);
    return instanceId;
  }

  async getStatus(instanceId: string, options: StatusOptions = {}): Promise<InstanceStatus | undefined> {
    const record = this.#records.get(instanceId);
    return record ? this.#statusOf(record, options) : undefined;
  }

  /** The raw history of the current execution, as the SDK last replayed it. */
  getHistory(instanceId: string): HistoryEvent[] | undefined {
    const record = this.#records.get(instanceId);
    return record ? (JSON.parse(JSON.stringify(record.history)) as HistoryEvent[]) : undefined;
  }

  /** Matching instances by (created time, id); `page` selects a slice before statuses are built. */
  async listInstances(query: InstanceQuery = {}, page?: { readonly offset: number; readonly count: number }): Promise<InstanceStatus[]> {
    const from = query.createdTimeFrom?.getTime();
    const to = query.createdTimeTo?.getTime();
    const updatedTo = query.lastUpdatedTimeTo?.getTime();
    const statuses = query.runtimeStatus && query.runtimeStatus.length > 0 ? new Set(query.runtimeStatus) : undefined;
    const sorted = [...this.#records.values()]
      .filter((r) => !statuses || statuses.has(r.status))
      .filter((r) => from === undefined || Date.parse(r.createdTime) >= from)
      .filter((r) => to === undefined || Date.parse(r.createdTime) <= to)
      .filter((r) => updatedTo === undefined || Date.parse(r.lastUpdatedTime) <= updatedTo)
      .filter((r) => query.instanceIdPrefix === undefined || r.instanceId.startsWith(query.instanceIdPrefix))
      .sort((a, b) => a.createdTime.localeCompare(b.createdTime) || a.instanceId.localeCompare(b.instanceId));
    return (page ? sorted.slice(page.offset, page.offset + page.count) : sorted).map((r) => this.#statusOf(r, { showInput: query.showInput ?? true }));
  }

  /** Queues an external event; refused for unknown (`InstanceNotFound`) and finished (`InstanceGone`) instances. */
  async raiseEvent(instanceId: string, eventName: string, eventData?: unknown): Promise<void> {
    await this.raiseEventJson(instanceId, eventName, eventData === undefined ? undefined : toJsonText(eventData));
  }

  /** As raiseEvent, with the payload already JSON text (the HTTP API's body). */
  async raiseEventJson(instanceId: string, eventName: string, inputJson: string | undefined): Promise<void> {
    this.#assertOpen();
    const record = this.#existing(instanceId);
    if (isTerminal(record.status)) throw new DurableEngineError('InstanceGone', `Instance '${instanceId}' is ${record.status}.`);
    const event: CompletionEvent = {
      EventType: EventType.EventRaised,
      EventId: -1,
      IsPlayed: false,
      Timestamp: iso(this.#clock.now()),
      Name: eventName,
      ...(inputJson !== undefined && inputJson !== '' ? { Input: inputJson } : {}),
    };
    await this.#enqueue(instanceId, record.execution, event);
  }

  async terminate(instanceId: string, reason = ''): Promise<void> {
    this.#assertOpen();
    const record = await this.#withLock(instanceId, async () => {
      const r = this.#existing(instanceId);
      if (isTerminal(r.status)) throw new DurableEngineError('InstanceGone', `Instance '${instanceId}' is already ${r.status}.`);
      const now = iso(this.#clock.now());
      r.history.push({ EventType: EventType.ExecutionTerminated, EventId: -1, IsPlayed: true, Timestamp: now, Input: toJsonText(reason) });
      r.status = 'Terminated';
      r.outputJson = toJsonText(reason);
      r.pending = [];
      r.inbox = [];
      r.lastUpdatedTime = now;
      await this.#persist(r);
      return r;
    });
    this.#afterTerminal(record);
  }

  /** Stops playing events for a running instance; they stay queued until `resume`. */
  async suspend(instanceId: string, _reason = ''): Promise<void> {
    this.#assertOpen();
    await this.#withLock(instanceId, async () => {
      const r = this.#existing(instanceId);
      if (isTerminal(r.status)) throw new DurableEngineError('InstanceGone', `Instance '${instanceId}' is ${r.status}.`);
      if (r.status === 'Suspended') return;
      r.status = 'Suspended';
      r.lastUpdatedTime = iso(this.#clock.now());
      await this.#persist(r);
    });
  }

  async resume(instanceId: string, _reason = ''): Promise<void> {
    this.#assertOpen();
    await this.#withLock(instanceId, async () => {
      const r = this.#existing(instanceId);
      if (isTerminal(r.status)) throw new DurableEngineError('InstanceGone', `Instance '${instanceId}' is ${r.status}.`);
      if (r.status !== 'Suspended') return;
      r.status = r.history.length === 0 ? 'Pending' : 'Running';
      r.lastUpdatedTime = iso(this.#clock.now());
      await this.#persist(r);
    });
    this.#kick(instanceId);
  }

  /** Deletes a finished instance; false when there is none. Refuses running ones (`NotTerminal`). */
  async purge(instanceId: string): Promise<boolean> {
    return this.#withLock(instanceId, async () => {
      const r = this.#records.get(instanceId);
      if (!r) return false;
      if (!isTerminal(r.status)) throw new DurableEngineError('NotTerminal', `Instance '${instanceId}' is ${r.status}; only finished instances are purged.`);
      this.#records.delete(instanceId);
      await this.#chainWrite(instanceId, async () => {
        await this.#store.delete(instanceId);
      });
      return true;
    });
  }

  /** Purges every finished instance the query selects; returns how many. */
  async purgeWhere(query: InstanceQuery): Promise<number> {
    const candidates = await this.listInstances(query);
    let deleted = 0;
    for (const c of candidates) {
      if (!isTerminal(c.runtimeStatus)) continue;
      if (await this.purge(c.instanceId)) deleted++;
    }
    return deleted;
  }

  /** Resolves once the instance has finished (Completed, Failed or Terminated). */
  whenTerminal(instanceId: string): Promise<InstanceStatus> {
    const r = this.#existing(instanceId);
    if (isTerminal(r.status)) return Promise.resolve(this.#statusOf(r, {}));
    return new Promise((resolve) => {
      const list = this.#terminalWaiters.get(instanceId) ?? [];
      list.push(resolve);
      this.#terminalWaiters.set(instanceId, list);
    });
  }

  /**
   * Replays the instance's whole recorded history in one pass and compares what the
   * orchestrator decides with what it decided episode by episode.
   */
  async verifyDeterminism(instanceId: string): Promise<DeterminismReport> {
    const r = this.#existing(instanceId);
    const outcome = await replay({
      orchestrator: this.#orchestrator(r.name),
      instanceId: r.instanceId,
      ...(r.parent ? { parentInstanceId: r.parent.instanceId } : {}),
      input: parseJsonText(r.inputJson),
      played: r.history,
      fresh: [],
    });
    const recordedActions = r.actionLog.map((a) => a.signature);
    const replayedActions = outcome.actions.map(actionSignature);
    let mismatchAt: number | undefined;
    const length = Math.max(recordedActions.length, replayedActions.length);
    for (let i = 0; i < length; i++) {
      if (recordedActions[i] !== replayedActions[i]) {
        mismatchAt = i;
        break;
      }
    }
    const report: Mutable<DeterminismReport> = { instanceId, deterministic: mismatchAt === undefined, recordedActions, replayedActions };
    if (mismatchAt !== undefined) report.mismatchAt = mismatchAt;
    if (r.status === 'Completed') {
      report.recordedOutput = parseJsonText(r.outputJson);
      report.replayedOutput = outcome.kind === 'failed' ? outcome.message : (JSON.parse(toJsonText(outcome.output)) as unknown);
      if (outcome.kind !== 'completed' || toJsonText(report.replayedOutput) !== toJsonText(report.recordedOutput)) report.deterministic = false;
    } else if (r.status === 'Failed' && outcome.kind !== 'failed') {
      report.deterministic = false;
    }
    return report;
  }

  // ---------------------------------------------------------------- time and quiescence

  /** Resolves when no replay, activity, child start or write is under way. Armed timers do not count. */
  async idle(): Promise<void> {
    while (this.#inflight > 0 && !this.#closed) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * With a VirtualClock: moves time forward by `ms`, firing durable timers in order and letting
   * each one's consequences settle before the next.
   */
  async advance(ms: number): Promise<void> {
    await this.#virtualClock().advance(ms, () => this.idle());
  }

  /**
   * With a VirtualClock: keeps firing the next timer (and settling) until none is armed or the
   * next lies beyond `maxMs` from now. Returns the virtual time that passed.
   */
  async runTimers(maxMs = 365 * 24 * 3600 * 1000): Promise<number> {
    const clock = this.#virtualClock();
    const start = clock.now();
    const limit = start + maxMs;
    await this.idle();
    while (clock.fireNextDue(limit)) await this.idle();
    return clock.now() - start;
  }

  /**
   * Test control: the process dies now. Nothing more is played, started or written (writes
   * already queued are dropped too); activities already running finish unheard.
   */
  crash(): void {
    this.#closed = true;
    for (const cancel of this.#timers.values()) cancel();
    this.#timers.clear();
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Stops the engine: timers are disarmed, nothing more is started or written; queued writes finish. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const cancel of this.#timers.values()) cancel();
    this.#timers.clear();
    await Promise.allSettled([...this.#writes.values()]);
  }

  // ---------------------------------------------------------------- internals: records

  #virtualClock(): VirtualClock {
    if (!(this.#clock instanceof VirtualClock)) throw new Error('advance/runTimers need the engine to run on a VirtualClock.');
    return this.#clock;
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('The orchestration engine is closed.');
  }

  #orchestrator(name: string): RegisteredFunction {
    const fn = this.#registry.functions.get(name);
    if (!fn || fn.trigger.type !== ORCHESTRATION_TRIGGER) {
      throw new DurableEngineError('OrchestratorNotFound', `No orchestrator function named '${name}' is registered.`);
    }
    return fn;
  }

  #existing(instanceId: string): InstanceRecord {
    const r = this.#records.get(instanceId);
    if (!r) throw new DurableEngineError('InstanceNotFound', `No instance with ID '${instanceId}' found.`);
    return r;
  }

  #newRecord(name: string, instanceId: string, inputJson: string | undefined, parent: ParentLink | undefined, execution: number): InstanceRecord {
    const now = iso(this.#clock.now());
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

  #statusOf(r: InstanceRecord, options: StatusOptions): InstanceStatus {
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

  // ---------------------------------------------------------------- internals: concurrency

  #track<T>(work: Promise<T>): Promise<T> {
    this.#inflight++;
    const done = (): void => {
      this.#inflight--;
      if (this.#inflight === 0) {
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const w of waiters) w();
      }
    };
    work.then(done, done);
    return work;
  }

  /** One control operation or replay of an instance at a time. */
  #withLock<T>(instanceId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(instanceId) ?? Promise.resolve();
    const next = previous.then(fn);
    const settled = next.catch(() => undefined);
    this.#locks.set(instanceId, settled);
    void settled.then(() => {
      if (this.#locks.get(instanceId) === settled) this.#locks.delete(instanceId);
    });
    return next;
  }

  /** Writes of one instance happen in call order; each writes the record as it is when its turn comes. */
  #chainWrite(instanceId: string, write: () => Promise<void>): Promise<void> {
    const previous = this.#writes.get(instanceId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(write);
    this.#writes.set(instanceId, next);
    void next
      .catch(() => undefined)
      .then(() => {
        if (this.#writes.get(instanceId) === next) this.#writes.delete(instanceId);
      });
    return this.#track(next);
  }

  #persist(record: InstanceRecord): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return this.#chainWrite(record.instanceId, async () => {
      if (this.#closed) return;
      if (this.#records.get(record.instanceId) !== record) return;
      await this.#store.save(record);
    });
  }

  /** Appends a completion or raised event to the instance's inbox, durably, and wakes it. */
  async #enqueue(instanceId: string, execution: number, event: CompletionEvent): Promise<void> {
    if (this.#closed) return;
    const r = this.#records.get(instanceId);
    if (!r || isTerminal(r.status) || r.execution !== execution) return;
    const taskId = completedTaskId(event);
    if (taskId !== undefined) {
      // Results are at-least-once (re-run activities, re-delivered child results): the first wins.
      if (!r.pending.some((p) => p.taskId === taskId)) return;
      if (r.inbox.some((e) => completedTaskId(e) === taskId)) return;
    }
    r.inbox.push(event);
    await this.#persist(r);
    this.#kick(instanceId);
  }

  #kick(instanceId: string): void {
    if (this.#closed) return;
    const state = this.#processing.get(instanceId);
    if (state) {
      state.again = true;
      return;
    }
    const fresh = { again: true };
    this.#processing.set(instanceId, fresh);
    void this.#track(
      (async () => {
        try {
          while (fresh.again && !this.#closed) {
            fresh.again = false;
            while (!this.#closed && (await this.#withLock(instanceId, () => this.#episode(instanceId)))) {
              // One completion per episode; loop until the inbox is drained.
            }
          }
        } catch (err) {
          this.#log(`orchestration '${instanceId}' stalled: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        } finally {
          this.#processing.delete(instanceId);
        }
      })(),
    );
  }

  // ---------------------------------------------------------------- internals: episodes

  /**
   * Plays the next thing that happened to the instance (its start, or the first inbox event
   * that still answers something) and acts on what the orchestrator decides. Returns whether an
   * episode ran (so the caller looks for another).
   */
  async #episode(instanceId: string): Promise<boolean> {
    const r = this.#records.get(instanceId);
    if (!r || isTerminal(r.status) || r.status === 'Suspended') return false;
    const nowMs = this.#clock.now();
    const now = iso(nowMs);
    const execution = r.execution;
    const starting = r.status === 'Pending' || r.status === 'ContinuedAsNew';
    const fresh: HistoryEvent[] = [orchestratorStarted(now)];
    const pending: PendingWork[] = [...r.pending];
    let nextTaskId = r.nextTaskId;
    let consumed = 0;

    if (starting) {
      fresh.push({
        EventType: EventType.ExecutionStarted,
        EventId: -1,
        IsPlayed: false,
        Timestamp: now,
        Name: r.name,
        ...(r.inputJson !== undefined ? { Input: r.inputJson } : {}),
        ...(r.parent ? { ParentInstanceId: r.parent.instanceId } : {}),
      });
    } else {
      // One event per episode ('single'), or everything queued since the last episode ('batch',
      // as the extension does), except that an event which makes the SDK number new tasks (a
      // retried call's failure, or the retry timer that schedules the next attempt) may only
      // open a batch: the SDK numbers those as it reads them, before tasks later events start.
      let found = false;
      const batch = this.#delivery === 'batch';
      while (consumed < r.inbox.length) {
        const event = r.inbox[consumed];
        if (!event) break;
        const taskId = completedTaskId(event);
        if (taskId === undefined) {
          fresh.push(event);
          consumed++;
          found = true;
          if (!batch) break;
          continue;
        }
        const at = pending.findIndex((p) => p.taskId === taskId);
        const work = pending[at];
        if (!work) {
          consumed++; // stale: answered already, canceled, or from an abandoned attempt
          continue;
        }
        if (found && needsTaskIds(work, event)) break;
        consumed++;
        pending.splice(at, 1);
        fresh.push(event);
        found = true;
        nextTaskId = this.#retryFollowUp(r, work, event, fresh, pending, nextTaskId, nowMs);
        if (!batch) break;
      }
      if (!found) {
        if (consumed > 0) {
          r.inbox.splice(0, consumed);
          await this.#persist(r);
        }
        return false;
      }
    }

    const orchestrator = this.#registry.functions.get(r.name);
    const outcome =
      orchestrator && orchestrator.trigger.type === ORCHESTRATION_TRIGGER
        ? await replay({
            orchestrator,
            instanceId,
            ...(r.parent ? { parentInstanceId: r.parent.instanceId } : {}),
            input: parseJsonText(r.inputJson),
            played: r.history,
            fresh,
            log: (m) => this.#log(`[${r.name}/${instanceId}] ${m}`),
          })
        : ({ kind: 'failed', actions: [], message: `No orchestrator function named '${r.name}' is registered.`, customStatus: undefined } as const);

    // A terminate (or restart) that won the lock race before us has already decided the instance.
    if (this.#records.get(instanceId) !== r || r.execution !== execution || isTerminal(r.status)) return false;

    const actionLog = [...r.actionLog];
    let failure: string | undefined = outcome.kind === 'failed' ? `Orchestrator function '${r.name}' failed: ${outcome.message}` : undefined;
    let continueAsNew: OrchestratorAction | undefined;

    if (outcome.kind !== 'failed') {
      failure = this.#checkDeterminism(actionLog, outcome.actions);
    }
    if (failure === undefined && outcome.kind !== 'failed') {
      // Timers the orchestrator canceled since they were scheduled will never be awaited.
      outcome.actions.slice(0, actionLog.length).forEach((action, i) => {
        const taskId = actionLog[i]?.taskId;
        if (action.kind === 'timer' && action.canceled && taskId !== undefined) {
          const at = pending.findIndex((p) => p.kind === 'timer' && p.taskId === taskId);
          if (at >= 0) pending.splice(at, 1);
        }
      });
      for (const action of outcome.actions.slice(actionLog.length)) {
        if (action.kind === 'unsupported') {
          failure = `Orchestrator function '${r.name}' failed: ${action.description} is not supported by the local orchestration engine.`;
          break;
        }
        if (action.kind === 'reraced') {
          failure = `Orchestrator function '${r.name}' failed: ${action.description}.`;
          break;
        }
        if (action.kind === 'continueAsNew') continueAsNew = action;
        const taskId = takesTaskId(action) ? nextTaskId++ : undefined;
        actionLog.push({ signature: actionSignature(action), ...(taskId !== undefined ? { taskId } : {}) });
        if (taskId !== undefined && outcome.kind === 'running') this.#schedule(r, action, taskId, fresh, pending, now);
      }
    }

    fresh.push({ EventType: EventType.OrchestratorCompleted, EventId: -1, IsPlayed: false, Timestamp: now });
    for (const e of fresh) e.IsPlayed = true;
    r.history = [...r.history, ...fresh];
    r.inbox.splice(0, consumed);
    r.lastUpdatedTime = now;
    if (outcome.customStatus !== undefined && outcome.customStatus !== null) r.customStatusJson = toJsonText(outcome.customStatus);

    if (failure !== undefined) {
      this.#finish(r, 'Failed', toJsonText(failure), now);
    } else if (continueAsNew && continueAsNew.kind === 'continueAsNew') {
      this.#forgetWork(r);
      r.execution++;
      if (continueAsNew.inputJson !== undefined) r.inputJson = continueAsNew.inputJson;
      else delete r.inputJson;
      delete r.outputJson;
      r.status = 'ContinuedAsNew';
      r.history = [];
      r.actionLog = [];
      r.nextTaskId = 0;
      r.pending = [];
      // Raised events not yet played belong to the next execution; results of this one do not.
      r.inbox = r.inbox.filter((e) => e.EventType === EventType.EventRaised);
    } else if (outcome.kind === 'completed') {
      r.actionLog = actionLog;
      r.nextTaskId = nextTaskId;
      this.#finish(r, 'Completed', toJsonText(outcome.output), now);
    } else {
      r.status = 'Running';
      r.pending = pending;
      r.nextTaskId = nextTaskId;
      r.actionLog = actionLog;
    }

    await this.#persist(r);
    if (isTerminal(r.status)) this.#afterTerminal(r);
    else this.#dispatch(r);
    return true;
  }

  /** A replay must repeat, in order, every action it decided before. */
  #checkDeterminism(actionLog: readonly { signature: string }[], actions: readonly OrchestratorAction[]): string | undefined {
    for (let i = 0; i < actionLog.length; i++) {
      const recorded = actionLog[i]?.signature;
      const action = actions[i];
      const replayed = action ? actionSignature(action) : undefined;
      if (recorded !== replayed) {
        return (
          `Non-deterministic workflow detected: action ${i} was ${recorded ?? 'nothing'} when first run ` +
          `and ${replayed ?? 'nothing'} on replay.`
        );
      }
    }
    return undefined;
  }

  #finish(r: InstanceRecord, status: 'Completed' | 'Failed', outputJson: string, now: string): void {
    r.history.push({ EventType: EventType.ExecutionCompleted, EventId: -1, IsPlayed: true, Timestamp: now, OrchestrationStatus: status, Result: outputJson });
    r.status = status;
    r.outputJson = outputJson;
    r.pending = [];
  }

  /**
   * The Durable extension performs retries itself, and the SDK's RetryableTask numbers each
   * step: after every failed attempt (the last one included) it waits on a timer, and when that
   * timer fires it either expects the next attempt or gives up. The history follows suit.
   */
  #retryFollowUp(
    r: InstanceRecord,
    work: PendingWork,
    event: CompletionEvent,
    fresh: HistoryEvent[],
    pending: PendingWork[],
    nextTaskId: number,
    nowMs: number,
  ): number {
    const retry = work.retry;
    if (!retry) return nextTaskId;
    const failed = event.EventType === EventType.TaskFailed || event.EventType === EventType.SubOrchestrationInstanceFailed;
    if (failed && work.kind !== 'timer') {
      const timerId = nextTaskId++;
      const last = retry.attempt >= retry.policy.maxNumberOfAttempts;
      // After the last attempt nothing is left to wait for; the timer only lets the SDK give up.
      const fireAt = iso(nowMs + (last ? 0 : retryDelayMs(retry.policy, retry.attempt)));
      fresh.push({ EventType: EventType.TimerCreated, EventId: timerId, IsPlayed: false, Timestamp: iso(nowMs), FireAt: fireAt });
      pending.push({ kind: 'timer', taskId: timerId, fireAt, retry });
      return nextTaskId;
    }
    if (event.EventType === EventType.TimerFired && work.kind === 'timer' && retry.attempt < retry.policy.maxNumberOfAttempts) {
      const taskId = nextTaskId++;
      const next: RetryState = { ...retry, attempt: retry.attempt + 1 };
      const target = retry.target;
      const action: OrchestratorAction =
        target.kind === 'activity'
          ? { kind: 'activity', name: target.name, ...(target.inputJson !== undefined ? { inputJson: target.inputJson } : {}) }
          : {
              kind: 'subOrchestration',
              name: target.name,
              ...(target.instanceId !== undefined ? { instanceId: target.instanceId } : {}),
              ...(target.inputJson !== undefined ? { inputJson: target.inputJson } : {}),
            };
      this.#schedule(r, action, taskId, fresh, pending, iso(nowMs), next);
    }
    return nextTaskId;
  }

  /** Records a newly decided task in the episode and in the instance's pending work. */
  #schedule(
    r: InstanceRecord,
    action: OrchestratorAction,
    taskId: number,
    fresh: HistoryEvent[],
    pending: PendingWork[],
    now: string,
    retryOverride?: RetryState,
  ): void {
    switch (action.kind) {
      case 'activity': {
        const retry: RetryState | undefined =
          retryOverride ??
          (action.retry
            ? { policy: action.retry, attempt: 1, target: { kind: 'activity', name: action.name, ...(action.inputJson !== undefined ? { inputJson: action.inputJson } : {}) } }
            : undefined);
        fresh.push({
          EventType: EventType.TaskScheduled,
          EventId: taskId,
          IsPlayed: false,
          Timestamp: now,
          Name: action.name,
          ...(action.inputJson !== undefined ? { Input: action.inputJson } : {}),
        });
        pending.push({
          kind: 'activity',
          taskId,
          name: action.name,
          ...(action.inputJson !== undefined ? { inputJson: action.inputJson } : {}),
          ...(retry ? { retry } : {}),
        });
        return;
      }
      case 'subOrchestration': {
        const retry: RetryState | undefined =
          retryOverride ??
          (action.retry
            ? {
                policy: action.retry,
                attempt: 1,
                target: {
                  kind: 'subOrchestration',
                  name: action.name,
                  ...(action.instanceId !== undefined ? { instanceId: action.instanceId } : {}),
                  ...(action.inputJson !== undefined ? { inputJson: action.inputJson } : {}),
                },
              }
            : undefined);
        // Without an explicit id, each attempt gets its own deterministic child id.
        const childId = action.instanceId ?? `${r.instanceId}:${r.execution}:${taskId}`;
        fresh.push({
          EventType: EventType.SubOrchestrationInstanceCreated,
          EventId: taskId,
          IsPlayed: false,
          Timestamp: now,
          Name: action.name,
          InstanceId: childId,
          ...(action.inputJson !== undefined ? { Input: action.inputJson } : {}),
        });
        pending.push({
          kind: 'subOrchestration',
          taskId,
          name: action.name,
          instanceId: childId,
          ...(action.inputJson !== undefined ? { inputJson: action.inputJson } : {}),
          ...(retry ? { retry } : {}),
        });
        return;
      }
      case 'timer':
        fresh.push({ EventType: EventType.TimerCreated, EventId: taskId, IsPlayed: false, Timestamp: now, FireAt: action.fireAt });
        if (!action.canceled) pending.push({ kind: 'timer', taskId, fireAt: action.fireAt });
        return;
      case 'externalEvent':
      case 'continueAsNew':
      case 'unsupported':
      case 'reraced':
        return;
      default: {
        const _exhaustive: never = action;
        return _exhaustive;
      }
    }
  }

  // ---------------------------------------------------------------- internals: carrying out work

  /** Makes sure every pending item runs: activities started, timers armed, children started. Idempotent. */
  #dispatch(r: InstanceRecord): void {
    if (this.#closed) return;
    const live = new Set<string>();
    const answered = new Set(r.inbox.map(completedTaskId));
    for (const work of r.pending) {
      const key = workKey(r.instanceId, r.execution, work.taskId);
      live.add(key);
      // Already answered, waiting to be played: running it again would only add a duplicate.
      if (answered.has(work.taskId)) continue;
      switch (work.kind) {
        case 'activity':
          this.#runActivity(r, work, key);
          break;
        case 'timer':
          this.#armTimer(r, work, key);
          break;
        case 'subOrchestration':
          this.#startChild(r, work, key);
          break;
        default: {
          const _exhaustive: never = work;
          void _exhaustive;
        }
      }
    }
    // Timers dropped from pending (canceled by the orchestrator) are disarmed.
    const prefix = `${r.instanceId}\u0000`;
    for (const [key, cancel] of this.#timers) {
      if (key.startsWith(prefix) && !live.has(key)) {
        cancel();
        this.#timers.delete(key);
      }
    }
  }

  #runActivity(r: InstanceRecord, work: Extract<PendingWork, { kind: 'activity' }>, key: string): void {
    if (this.#dispatched.has(key)) return;
    this.#dispatched.add(key);
    const { instanceId, execution } = r;
    void this.#track(
      this.#limiter
        .run(async () => {
          if (this.#closed) return undefined;
          const fn = this.#registry.functions.get(work.name);
          const now = (): string => iso(this.#clock.now());
          if (!fn || fn.trigger.type !== ACTIVITY_TRIGGER) {
            const message = `The function '${work.name}' doesn't exist, is disabled, or is not an activity function.`;
            return this.#failedEvent(work.taskId, work.name, message, message, now());
          }
          const input = parseJsonText(work.inputJson);
          try {
            const result = await this.#invoke(fn, input, { instanceId, taskId: work.taskId, attempt: work.retry?.attempt ?? 1 });
            const completed: CompletionEvent = {
              EventType: EventType.TaskCompleted,
              EventId: -1,
              IsPlayed: false,
              Timestamp: now(),
              TaskScheduledId: work.taskId,
              Result: toJsonText(result),
            };
            return completed;
          } catch (err) {
            const message = err instanceof Error ? err.message : String(err);
            const details = err instanceof Error ? (err.stack ?? err.message) : String(err);
            return this.#failedEvent(work.taskId, work.name, message, details, now());
          }
        })
        .then(async (event) => {
          if (!event) return;
          const run: ActivityRun = { name: work.name, instanceId, taskId: work.taskId, attempt: work.retry?.attempt ?? 1 };
          if (this.#loseResult?.(run)) {
            // As when a worker dies after the activity ran: the work item is handed out again.
            this.#dispatched.delete(key);
            const current = this.#records.get(instanceId);
            if (current && current.execution === execution && !this.#closed) this.#dispatch(current);
            return;
          }
          // The key stays dispatched until the work leaves pending, so a dispatch between this
          // result and its episode does not run the activity again.
          // Held by a test: not tracked while it waits, so that `idle()` does not wait for it.
          const held = this.#hold(run, () => void this.#track(this.#enqueue(instanceId, execution, event)));
          if (!held) await this.#enqueue(instanceId, execution, event);
        }),
    );
  }

  #failedEvent(taskId: number, name: string, message: string, details: string, now: string): CompletionEvent {
    const failureDetails = failureDetailsFrom(message);
    return {
      EventType: EventType.TaskFailed,
      EventId: -1,
      IsPlayed: false,
      Timestamp: now,
      TaskScheduledId: taskId,
      Reason: `Activity function '${name}' failed: ${failureDetails?.ErrorMessage ?? message}`,
      Details: details,
      ...(failureDetails ? { FailureDetails: failureDetails } : {}),
    };
  }

  #armTimer(r: InstanceRecord, work: Extract<PendingWork, { kind: 'timer' }>, key: string): void {
    if (this.#timers.has(key)) return;
    const { instanceId, execution } = r;
    const fire = (): void => {
      this.#timers.delete(key);
      const event: CompletionEvent = {
        EventType: EventType.TimerFired,
        EventId: -1,
        IsPlayed: false,
        Timestamp: iso(Math.max(this.#clock.now(), Date.parse(work.fireAt))),
        TimerId: work.taskId,
        FireAt: work.fireAt,
      };
      void this.#track(this.#enqueue(instanceId, execution, event));
    };
    const delay = Date.parse(work.fireAt) - this.#clock.now();
    if (delay <= 0) {
      // Due already (a zero-delay retry timer, or one that came due while the process was down).
      this.#timers.set(key, () => undefined);
      void this.#track(Promise.resolve().then(fire));
      return;
    }
    this.#timers.set(key, this.#clock.setTimer(delay, fire));
  }

  /** Disarms the instance's timers and forgets what was dispatched for it (its execution is over). */
  #forgetWork(r: InstanceRecord): void {
    const prefix = `${r.instanceId}\u0000`;
    for (const [key, cancel] of this.#timers) {
      if (key.startsWith(prefix)) {
        cancel();
        this.#timers.delete(key);
      }
    }
    for (const key of this.#dispatched) if (key.startsWith(prefix)) this.#dispatched.delete(key);
  }

  #startChild(parent: InstanceRecord, work: Extract<PendingWork, { kind: 'subOrchestration' }>, key: string): void {
    if (this.#dispatched.has(key)) return;
    this.#dispatched.add(key);
    const link: ParentLink = { instanceId: parent.instanceId, taskId: work.taskId, execution: parent.execution };
    void this.#track(
      (async () => {
        const child = this.#records.get(work.instanceId);
        const ours = child?.parent && child.parent.instanceId === link.instanceId && child.parent.taskId === link.taskId && child.parent.execution === link.execution;
        if (child && ours) {
          // Recovery: the child exists already; if it finished before its result reached us, deliver it now.
          if (isTerminal(child.status)) await this.#notifyParent(child);
          return;
        }
        const fn = this.#registry.functions.get(work.name);
        const refusal =
          !fn || fn.trigger.type !== ORCHESTRATION_TRIGGER
            ? `No orchestrator function named '${work.name}' is registered.`
            : child && !isTerminal(child.status)
              ? `An instance with ID '${work.instanceId}' already exists and is ${child.status}.`
              : undefined;
        if (refusal !== undefined) {
          await this.#enqueue(link.instanceId, link.execution, {
            EventType: EventType.SubOrchestrationInstanceFailed,
            EventId: -1,
            IsPlayed: false,
            Timestamp: iso(this.#clock.now()),
            TaskScheduledId: link.taskId,
            Reason: refusal,
            Details: '',
          });
          return;
        }
        await this.#withLock(work.instanceId, async () => {
          const record = this.#newRecord(work.name, work.instanceId, work.inputJson, link, (child?.execution ?? 0) + 1);
          this.#records.set(work.instanceId, record);
          await this.#persist(record);
        });
        this.#kick(work.instanceId);
      })(),
    );
  }

  /** Hands a finished sub-orchestration's result to the parent task waiting for it. */
  async #notifyParent(child: InstanceRecord): Promise<void> {
    const link = child.parent;
    if (!link) return;
    const now = iso(this.#clock.now());
    const event: CompletionEvent =
      child.status === 'Completed'
        ? {
            EventType: EventType.SubOrchestrationInstanceCompleted,
            EventId: -1,
            IsPlayed: false,
            Timestamp: now,
            TaskScheduledId: link.taskId,
            Result: child.outputJson ?? 'null',
          }
        : {
            EventType: EventType.SubOrchestrationInstanceFailed,
            EventId: -1,
            IsPlayed: false,
            Timestamp: now,
            TaskScheduledId: link.taskId,
            Reason:
              child.status === 'Terminated'
                ? `Sub-orchestration '${child.instanceId}' was terminated: ${String(parseJsonText(child.outputJson) ?? '')}`
                : String(parseJsonText(child.outputJson) ?? `Sub-orchestration '${child.instanceId}' failed.`),
            Details: '',
          };
    await this.#enqueue(link.instanceId, link.execution, event);
  }

  #afterTerminal(r: InstanceRecord): void {
    this.#forgetWork(r);
    const waiters = this.#terminalWaiters.get(r.instanceId) ?? [];
    this.#terminalWaiters.delete(r.instanceId);
    const status = this.#statusOf(r, {});
    for (const w of waiters) w(status);
    if (r.parent) void this.#track(this.#notifyParent(r));
  }

  async #defaultInvoke(fn: RegisteredFunction, input: unknown, invocation: ActivityInvocation): Promise<unknown> {
    const context = new InvocationContext({
      functionName: fn.name,
      invocationId: randomUUID(),
      triggerMetadata: { instanceId: invocation.instanceId },
      options: invocationOptions(fn),
      logHandler: (level, ...args) => this.#log(`[${fn.name}] [${level}] ${args.map(String).join(' ')}`),
    });
    return fn.handler(input, context);
  }

  // ---------------------------------------------------------------- internals: recovery

  async #recover(): Promise<void> {
    const records = await this.#store.loadAll();
    for (const r of records) this.#records.set(r.instanceId, r);
    for (const r of records) {
      if (isTerminal(r.status)) continue;
      this.#dispatch(r);
      this.#kick(r.instanceId);
    }
  }
}
