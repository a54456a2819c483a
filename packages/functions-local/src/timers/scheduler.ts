/**
 * Runs `timerTrigger` functions on their NCRONTAB schedules (ncrontab.ts) the way the host's
 * timer extension does: the handler gets the host's timer object
 * `{ schedule: { adjustForDST }, scheduleStatus: { last, next, lastUpdated }, isPastDue }`,
 * `runOnStartup` fires once when the scheduler starts, and the schedule status is kept under the
 * data directory so that a scheduled time missed while the process was down fires once, with
 * `isPastDue: true`, on the next start. One invocation of a function runs at a time; the next
 * occurrence is computed after it finishes, as in the host.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Timer } from '@azure/functions';
import type { RegisteredFunction } from '../core/functions-core';
import type { Clock } from '../clock';
import { systemClock } from '../clock';
import { consoleLogger, createInvocationContext, describeError, runWithRetries } from '../host/invocation';
import type { AfterInvocation, LocalLogger } from '../host/invocation';
import { nextOccurrence, parseNcrontab } from './ncrontab';
import type { CronSchedule } from './ncrontab';
import { resolveSettingRefs } from '../host/settings';
import type { Settings } from '../host/settings';

export { CronExpressionError, nextOccurrence, nextOccurrences, parseNcrontab } from './ncrontab';
export type { CronSchedule } from './ncrontab';

export type ScheduleStatus = Timer['scheduleStatus'];

/** The host's "never ran" value for `last` (DateTime.MinValue). */
const NEVER = '0001-01-01T00:00:00.000Z';

export interface TimerSchedulerOptions {
  /** Registered functions; only `timerTrigger` ones are scheduled. */
  readonly functions: readonly RegisteredFunction[];
  /** Keeps each function's schedule status here (`timers/<function>.json`); in memory without it. */
  readonly dataDir?: string;
  readonly settings?: Settings;
  readonly clock?: Clock;
  readonly logger?: LocalLogger;
  readonly afterInvocation?: AfterInvocation;
}

interface TimerState {
  readonly fn: RegisteredFunction;
  readonly schedule: CronSchedule;
  status: ScheduleStatus | undefined;
  cancel?: () => void;
  running?: Promise<void>;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export class TimerScheduler {
  readonly #options: TimerSchedulerOptions;
  readonly #clock: Clock;
  readonly #logger: LocalLogger;
  readonly #timers = new Map<string, TimerState>();
  readonly #abort = new AbortController();
  #stopped = false;

  /** Parses every schedule up front, so a bad expression or a missing %setting% fails startup. */
  constructor(options: TimerSchedulerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? consoleLogger;
    for (const fn of options.functions) {
      if (fn.trigger.type.toLowerCase() !== 'timertrigger') continue;
      const raw = typeof fn.trigger.schedule === 'string' ? fn.trigger.schedule : '';
      const expression = resolveSettingRefs(raw, options.settings ?? {}, `function "${fn.name}" (schedule)`);
      let schedule: CronSchedule;
      try {
        schedule = parseNcrontab(expression);
      } catch (e) {
        throw new Error(`Function "${fn.name}": ${describeError(e)}`);
      }
      this.#timers.set(fn.name, { fn, schedule, status: this.#load(fn.name) });
    }
  }

  /** Fires past-due and run-on-startup invocations, then arms every timer. */
  start(): this {
    const now = this.#clock.now();
    for (const t of this.#timers.values()) {
      const recordedNext = t.status ? this.#recordedNext(t, t.status) : undefined;
      const pastDue = recordedNext !== undefined && recordedNext <= now;
      if (pastDue || t.fn.trigger.runOnStartup === true) {
        this.#fire(t, now, pastDue);
      } else {
        if (!t.status) {
          const next = nextOccurrence(t.schedule, now);
          t.status = { last: NEVER, next: next === undefined ? NEVER : iso(next), lastUpdated: iso(now) };
          this.#save(t);
        }
        this.#arm(t);
      }
    }
    return this;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    for (const t of this.#timers.values()) t.cancel?.();
    await this.whenIdle();
  }

  /** Resolves when no timer function is running. */
  async whenIdle(): Promise<void> {
    for (;;) {
      const running = [...this.#timers.values()]
        .map((t) => t.running)
        .filter((r): r is Promise<void> => r !== undefined);
      if (running.length === 0) return;
      await Promise.allSettled(running);
    }
  }

  status(functionName: string): ScheduleStatus | undefined {
    return this.#timers.get(functionName)?.status;
  }

  /**
   * The next occurrence the status promises. If the schedule changed since it was written, the
   * host recomputes it from `lastUpdated` under the new schedule; so do we.
   */
  #recordedNext(t: TimerState, status: ScheduleStatus): number | undefined {
    const expected = nextOccurrence(t.schedule, Date.parse(status.lastUpdated));
    const recorded = Date.parse(status.next);
    return expected !== undefined && expected !== recorded ? expected : recorded;
  }

  #arm(t: TimerState): void {
    if (this.#stopped || !t.status) return;
    const due = Date.parse(t.status.next);
    if (Number.isNaN(due) || t.status.next === NEVER) {
      this.#logger(
        'warning',
        `Timer.${t.fn.name}`,
        `Schedule "${t.schedule.expression}" has no next occurrence; the function will not run.`,
      );
      return;
    }
    t.cancel = this.#clock.setTimer(Math.max(0, due - this.#clock.now()), () => {
      t.cancel = undefined;
      this.#fire(t, due, false);
    });
  }

  #fire(t: TimerState, occurrence: number, isPastDue: boolean): void {
    if (this.#stopped || t.running) return;
    t.running = this.#run(t, occurrence, isPastDue).finally(() => {
      t.running = undefined;
      this.#arm(t);
    });
  }

  async #run(t: TimerState, occurrence: number, isPastDue: boolean): Promise<void> {
    const now = this.#clock.now();
    const next = nextOccurrence(t.schedule, Math.max(occurrence, now));
    // The handler sees the status as it will be recorded: `last` is this run, `next` the one after.
    const status: ScheduleStatus = {
      last: iso(occurrence),
      next: next === undefined ? NEVER : iso(next),
      lastUpdated: iso(now),
    };
    const timer: Timer = { schedule: { adjustForDST: false }, scheduleStatus: status, isPastDue };
    const outcome = await runWithRetries(
      t.fn.metadata.retryOptions,
      {
        clock: this.#clock,
        signal: this.#abort.signal,
        onRetry: (retry, delay, e) =>
          this.#logger('warning', `Timer.${t.fn.name}`, `Failed (${describeError(e)}); retry ${retry} in ${delay} ms.`),
      },
      async (retryContext) => {
        const context = createInvocationContext(t.fn, {
          logger: this.#logger,
          ...(retryContext ? { retryContext } : {}),
        });
        const result = await t.fn.handler({ ...timer, scheduleStatus: { ...status } }, context);
        await this.#options.afterInvocation?.(t.fn, context, result);
      },
    );
    if (!outcome.ok) {
      if (outcome.aborted) return; // stopping mid-retry: the occurrence stays due and runs past due next start
      this.#logger(
        'error',
        `Timer.${t.fn.name}`,
        `Invocation for ${iso(occurrence)} failed: ${describeError(outcome.error)}`,
      );
    }
    // Recorded after the run, so a run cut short by a crash is past due on the next start.
    t.status = { ...status, lastUpdated: iso(this.#clock.now()) };
    this.#save(t);
  }

  #file(name: string): string | undefined {
    return this.#options.dataDir ? path.join(this.#options.dataDir, 'timers', `${name}.json`) : undefined;
  }

  #load(name: string): ScheduleStatus | undefined {
    const file = this.#file(name);
    if (!file || !fs.existsSync(file)) return undefined;
    const s = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<ScheduleStatus>;
    if (typeof s.last !== 'string' || typeof s.next !== 'string' || typeof s.lastUpdated !== 'string') return undefined;
    return { last: s.last, next: s.next, lastUpdated: s.lastUpdated };
  }

  #save(t: TimerState): void {
    const file = this.#file(t.fn.name);
    if (!file || !t.status) return;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(t.status));
    fs.renameSync(tmp, file);
  }
}

export function startTimers(options: TimerSchedulerOptions): TimerScheduler {
  return new TimerScheduler(options).start();
}
