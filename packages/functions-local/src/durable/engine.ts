/**
 * The in-process Durable Functions engine: runs the app's registered orchestrators (replaying
 * them through the real durable-functions SDK with histories it builds) and activities. This
 * class is its face: the instance operations (start, status, events, terminate, suspend, purge,
 * queries), time and quiescence for tests, and close. The duties live beside it, each on one
 * EngineState (state.ts, which also owns persistence through the InstanceStore): the episode,
 * replay and determinism check (episode.ts, scheduling.ts), the work it decides (work.ts:
 * activities, timers, child orchestrations; retries as the Durable extension performs them),
 * recovery after a restart (recovery.ts) and the test controls (test-controls.ts).
 *
 * Episodes: by default a replay plays everything queued since the last one, as the Durable
 * extension does ('batch'), or one completion at a time ('single'). The SDK numbers tasks while
 * it processes history, including the hidden retry steps of `callActivityWithRetry`, so an event
 * that makes it number retry tasks only ever opens a batch; that keeps the engine's numbering in
 * lockstep with the SDK's.
 *
 * A little over 300 lines once formatted at 120 columns: the public surface of the engine, one
 * method per instance operation; the work behind each is in the files it names.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock';
import { DurableEngineError, iso } from './engine-types';
import type {
  ActivityRun,
  DeterminismReport,
  DurableEngineOptions,
  InstanceQuery,
  InstanceStatus,
  ResultHold,
  StartOptions,
  StatusOptions,
} from './engine-types';
import { kick, verifyDeterminism } from './episode';
import { EventType, toJsonText } from './history';
import type { CompletionEvent, HistoryEvent } from './history';
import { recover } from './recovery';
import { EngineState } from './state';
import { isTerminal } from './store';
import type { InstanceRecord } from './store';
import { holdResults } from './test-controls';
import { afterTerminal, defaultInvoker } from './work';

export { DurableEngineError } from './engine-types';
export type {
  ActivityInvocation,
  ActivityInvoker,
  ActivityRun,
  DeterminismReport,
  DurableEngineErrorCode,
  DurableEngineOptions,
  EventDelivery,
  InstanceQuery,
  InstanceStatus,
  ResultHold,
  StartOptions,
  StatusOptions,
} from './engine-types';

export class DurableEngine {
  readonly #s: EngineState;

  private constructor(options: DurableEngineOptions) {
    this.#s = new EngineState(options, defaultInvoker);
    this.#s.wake = (instanceId) => kick(this.#s, instanceId);
  }

  // ---------------------------------------------------------------- test controls

  /**
   * Holds the results of the activities `matches` selects: they run, but what they return
   * reaches the orchestration only on `release()`, so a test can raise events meanwhile.
   */
  holdResults(matches: (run: ActivityRun) => boolean): ResultHold {
    return holdResults(this.#s, matches);
  }

  /**
   * Builds an engine over a store and resumes whatever the store holds in flight: pending
   * activities run again (at-least-once), timers are re-armed, queued events are played.
   */
  static async create(options: DurableEngineOptions = {}): Promise<DurableEngine> {
    const engine = new DurableEngine(options);
    await recover(engine.#s);
    return engine;
  }

  get clock(): Clock {
    return this.#s.clock;
  }

  /** The most activities that ever ran at once. */
  get peakActivityConcurrency(): number {
    return this.#s.limiter.peak;
  }

  // ---------------------------------------------------------------- instance API

  /** Starts an orchestration. An id that exists and has not finished is refused (`InstanceExists`). */
  async startNew(name: string, options: StartOptions = {}): Promise<string> {
    this.#s.assertOpen();
    this.#s.orchestrator(name);
    const instanceId = options.instanceId ?? randomUUID().replace(/-/g, '');
    if (instanceId.trim() === '') throw new DurableEngineError('InstanceNotFound', 'An instance id must not be empty.');
    const inputJson = options.input === undefined ? undefined : toJsonText(options.input);
    await this.#s.withLock(instanceId, async () => {
      const existing = this.#s.records.get(instanceId);
      if (existing && !isTerminal(existing.status)) {
        throw new DurableEngineError(
          'InstanceExists',
          `An instance with ID '${instanceId}' already exists and is ${existing.status}.`,
        );
      }
      const record = this.#s.newRecord(name, instanceId, inputJson, undefined, (existing?.execution ?? 0) + 1);
      this.#s.records.set(instanceId, record);
      await this.#s.persist(record);
    });
    kick(this.#s, instanceId);
    return instanceId;
  }

  async getStatus(instanceId: string, options: StatusOptions = {}): Promise<InstanceStatus | undefined> {
    const record = this.#s.records.get(instanceId);
    return record ? this.#s.statusOf(record, options) : undefined;
  }

  /** The raw history of the current execution, as the SDK last replayed it. */
  getHistory(instanceId: string): HistoryEvent[] | undefined {
    const record = this.#s.records.get(instanceId);
    return record ? (JSON.parse(JSON.stringify(record.history)) as HistoryEvent[]) : undefined;
  }

  /** Matching instances by (created time, id); `page` selects a slice before statuses are built. */
  async listInstances(
    query: InstanceQuery = {},
    page?: { readonly offset: number; readonly count: number },
  ): Promise<InstanceStatus[]> {
    // Times are stored as toISOString() text, whose order is the times' order: bounds are
    // compared as text, one pass over the instances, no date parsed per instance.
    const from = query.createdTimeFrom && isoBound(query.createdTimeFrom);
    const to = query.createdTimeTo && isoBound(query.createdTimeTo);
    const updatedTo = query.lastUpdatedTimeTo && isoBound(query.lastUpdatedTimeTo);
    const prefix = query.instanceIdPrefix;
    const statuses = query.runtimeStatus && query.runtimeStatus.length > 0 ? new Set(query.runtimeStatus) : undefined;
    const matching: InstanceRecord[] = [];
    for (const r of this.#s.records.values()) {
      if (statuses && !statuses.has(r.status)) continue;
      if (from !== undefined && r.createdTime < from) continue;
      if (to !== undefined && r.createdTime > to) continue;
      if (updatedTo !== undefined && r.lastUpdatedTime > updatedTo) continue;
      if (prefix !== undefined && !r.instanceId.startsWith(prefix)) continue;
      matching.push(r);
    }
    const text = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
    const sorted = matching.sort((a, b) => text(a.createdTime, b.createdTime) || text(a.instanceId, b.instanceId));
    return (page ? sorted.slice(page.offset, page.offset + page.count) : sorted).map((r) =>
      this.#s.statusOf(r, { showInput: query.showInput ?? true }),
    );
  }

  /** Queues an external event; refused for unknown (`InstanceNotFound`) and finished (`InstanceGone`) instances. */
  async raiseEvent(instanceId: string, eventName: string, eventData?: unknown): Promise<void> {
    await this.raiseEventJson(instanceId, eventName, eventData === undefined ? undefined : toJsonText(eventData));
  }

  /** As raiseEvent, with the payload already JSON text (the HTTP API's body). */
  async raiseEventJson(instanceId: string, eventName: string, inputJson: string | undefined): Promise<void> {
    this.#s.assertOpen();
    const record = this.#s.existing(instanceId);
    if (isTerminal(record.status))
      throw new DurableEngineError('InstanceGone', `Instance '${instanceId}' is ${record.status}.`);
    const event: CompletionEvent = {
      EventType: EventType.EventRaised,
      EventId: -1,
      IsPlayed: false,
      Timestamp: iso(this.#s.clock.now()),
      Name: eventName,
      ...(inputJson !== undefined && inputJson !== '' ? { Input: inputJson } : {}),
    };
    await this.#s.enqueue(instanceId, record.execution, event);
  }

  async terminate(instanceId: string, reason = ''): Promise<void> {
    this.#s.assertOpen();
    const record = await this.#s.withLock(instanceId, async () => {
      const r = this.#s.existing(instanceId);
      if (isTerminal(r.status))
        throw new DurableEngineError('InstanceGone', `Instance '${instanceId}' is already ${r.status}.`);
      const now = iso(this.#s.clock.now());
      r.history.push({
        EventType: EventType.ExecutionTerminated,
        EventId: -1,
        IsPlayed: true,
        Timestamp: now,
        Input: toJsonText(reason),
      });
      r.status = 'Terminated';
      r.outputJson = toJsonText(reason);
      r.pending = [];
      r.inbox = [];
      r.lastUpdatedTime = now;
      await this.#s.persist(r);
      return r;
    });
    afterTerminal(this.#s, record);
  }

  /** Stops playing events for a running instance; they stay queued until `resume`. */
  async suspend(instanceId: string, _reason = ''): Promise<void> {
    this.#s.assertOpen();
    await this.#s.withLock(instanceId, async () => {
      const r = this.#s.existing(instanceId);
      if (isTerminal(r.status))
        throw new DurableEngineError('InstanceGone', `Instance '${instanceId}' is ${r.status}.`);
      if (r.status === 'Suspended') return;
      r.status = 'Suspended';
      r.lastUpdatedTime = iso(this.#s.clock.now());
      await this.#s.persist(r);
    });
  }

  async resume(instanceId: string, _reason = ''): Promise<void> {
    this.#s.assertOpen();
    await this.#s.withLock(instanceId, async () => {
      const r = this.#s.existing(instanceId);
      if (isTerminal(r.status))
        throw new DurableEngineError('InstanceGone', `Instance '${instanceId}' is ${r.status}.`);
      if (r.status !== 'Suspended') return;
      r.status = r.history.length === 0 ? 'Pending' : 'Running';
      r.lastUpdatedTime = iso(this.#s.clock.now());
      await this.#s.persist(r);
    });
    kick(this.#s, instanceId);
  }

  /** Deletes a finished instance; false when there is none. Refuses running ones (`NotTerminal`). */
  async purge(instanceId: string): Promise<boolean> {
    return this.#s.withLock(instanceId, async () => {
      const r = this.#s.records.get(instanceId);
      if (!r) return false;
      if (!isTerminal(r.status))
        throw new DurableEngineError(
          'NotTerminal',
          `Instance '${instanceId}' is ${r.status}; only finished instances are purged.`,
        );
      this.#s.records.delete(instanceId);
      await this.#s.chainWrite(instanceId, async () => {
        await this.#s.store.delete(instanceId);
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
    const r = this.#s.existing(instanceId);
    if (isTerminal(r.status)) return Promise.resolve(this.#s.statusOf(r, {}));
    return new Promise((resolve) => {
      const list = this.#s.terminalWaiters.get(instanceId) ?? [];
      list.push(resolve);
      this.#s.terminalWaiters.set(instanceId, list);
    });
  }

  /**
   * Replays the instance's whole recorded history in one pass and compares what the
   * orchestrator decides with what it decided episode by episode.
   */
  verifyDeterminism(instanceId: string): Promise<DeterminismReport> {
    return verifyDeterminism(this.#s, instanceId);
  }

  // ---------------------------------------------------------------- time and quiescence

  /** Resolves when no replay, activity, child start or write is under way. Armed timers do not count. */
  async idle(): Promise<void> {
    await this.#s.idle();
  }

  /**
   * With a VirtualClock: moves time forward by `ms`, firing durable timers in order and letting
   * each one's consequences settle before the next.
   */
  async advance(ms: number): Promise<void> {
    await this.#s.virtualClock().advance(ms, () => this.idle());
  }

  /**
   * With a VirtualClock: keeps firing the next timer (and settling) until none is armed or the
   * next lies beyond `maxMs` from now. Returns the virtual time that passed.
   */
  async runTimers(maxMs = 365 * 24 * 3600 * 1000): Promise<number> {
    const clock = this.#s.virtualClock();
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
    this.#s.closed = true;
    this.#s.stopTimers();
    const waiters = this.#s.idleWaiters;
    this.#s.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Stops the engine: timers are disarmed, nothing more is started or written; queued writes finish. */
  async close(): Promise<void> {
    this.#s.closed = true;
    this.#s.stopTimers();
    await Promise.allSettled([...this.#s.writes.values()]);
  }
}

/** First and last instants toISOString() writes as YYYY-MM-DDTHH:mm:ss.sssZ (years 0000–9999). */
const ISO_MIN_MS = -62_167_219_200_000;
const ISO_MAX_MS = 253_402_300_799_999;

/**
 * A time bound as text that orders against stored ISO times as the instants do: a bound before
 * year 0 or after 9999 (where toISOString's format changes) becomes one below or above them all.
 */
function isoBound(d: Date): string {
  const t = d.getTime();
  if (Number.isNaN(t)) throw new RangeError('An instance query bound is not a valid date.');
  return t < ISO_MIN_MS ? '' : t > ISO_MAX_MS ? '\uffff' : d.toISOString();
}
