/**
 * The one interpreter of the delivery workflow (domain/delivery/saga-workflow.ts) inside
 * Durable Functions: it carries out the workflow's commands as activities and timers, turns
 * whatever completes into the workflow's messages, and keeps the workflow's progress as custom
 * status. It decides nothing.
 *
 * How it waits is the point of this module; two durable-functions behaviours shape it:
 * - A task that completes while the orchestrator awaits something else never resolves a later
 *   `Task.any` that contains it (azure-functions-durable-js #558, #577). So every wait first
 *   takes what is already complete, and only yields when nothing is.
 * - A task already scheduled that is put into a *new* `Task.any` is scheduled again by the
 *   Durable extension, which cannot tell it from a new one (azure-functions-durable-js #574).
 *   So a task is raced at most once: an agent call in flight that was raced before is awaited
 *   alone (re-yielding one task is safe), an idle wait races a fresh timer for the earliest
 *   deadline with fresh external-event waiters, and older waiters stay on as receivers.
 * Completions are taken in the order the history gave them, as far as the SDK lets one tell:
 * first what completed outside the race (it came earlier), then the race's winner, then what
 * else in the race completed after it.
 */
import type { OrchestrationContext, Task, TimerTask } from 'durable-functions';
import { listensTo, progressOf, react } from '../../domain/delivery/saga-workflow';
import type {
  AgentCall,
  ExternalSignal,
  SagaCommand,
  SagaMessage,
  SagaState,
  SagaTimer,
} from '../../domain/delivery/saga-workflow';
import type {
  Compensation,
  CompleteDeliveryResult,
  CompensationResult,
  ForwardStep,
  SagaResult,
} from '../../domain/delivery/saga';
import type { MilestoneName } from '../../domain/telemetry/milestones';
import { assertNever } from '../../domain/shared/errors';
import { ACTIVITIES, SAGA_EVENTS } from '../names';
import { durableRetryOptions } from '../resilience/durable-retry';
import { withTraceparent } from '../tracing/activity-trace';

const AGENT_ACTIVITY: Record<AgentCall, string> = {
  CreatePackage: ACTIVITIES.createPackage,
  AssignDrone: ACTIVITIES.assignDrone,
  ScheduleDelivery: ACTIVITIES.scheduleDelivery,
  CompleteDelivery: ACTIVITIES.completeDelivery,
  CloseIntake: ACTIVITIES.closeIntake,
};

const COMPENSATION_ACTIVITY: Record<Compensation, string> = {
  CancelPackage: ACTIVITIES.cancelPackage,
  ReleaseDrone: ACTIVITIES.releaseDrone,
  CancelDeliverySchedule: ACTIVITIES.cancelDeliverySchedule,
};

/** External event names as raised on the instance, per workflow signal. */
const SIGNAL_EVENT: Record<ExternalSignal, string> = {
  PackagePickedUp: 'PackagePickedUp',
  DeliveryInTransit: 'DeliveryInTransit',
  DeliveryCompleted: 'DeliveryCompleted',
  CancelRequested: SAGA_EVENTS.cancelRequested,
  CompensationRequested: SAGA_EVENTS.supervisorCompensate,
};

interface Waiting {
  readonly task: Task;
  readonly kind: 'work' | 'signal';
  readonly signal?: ExternalSignal;
  /** Whether it has been part of a yield already (then it must not join a new Task.any). */
  raced: boolean;
  readonly toMessage: (task: Task, at: string) => SagaMessage;
}

const FORWARD: ReadonlySet<string> = new Set<ForwardStep>(['CreatePackage', 'AssignDrone', 'ScheduleDelivery']);

/**
 * Runs the workflow from `state`, starting with `first`, to its Complete command. `traceparent`
 * (the intake's trace context) is added to every activity input; the interpreter opens no span.
 */
export function* runSaga(
  context: OrchestrationContext,
  initial: SagaState,
  first: (at: string) => SagaMessage,
  traceparent?: string,
): Generator<Task, SagaResult, unknown> {
  // The orchestration's time as text, worked out once per time (it moves at each episode's start
  // in the history), not once per message.
  let clockMs = Number.NaN;
  let clockText = '';
  const now = (): string => {
    const ms = context.df.currentUtcDateTime.getTime();
    if (ms !== clockMs) {
      clockMs = ms;
      clockText = new Date(ms).toISOString();
    }
    return clockText;
  };
  let state = initial;
  const waiting: Waiting[] = [];
  const ready: Waiting[] = [];
  let alarm: { task: TimerTask; fireAt: string; raced: boolean } | undefined;
  let firedUpTo = Number.NEGATIVE_INFINITY;

  const retry = durableRetryOptions(initial.retry);
  const call = (
    activity: string,
    input: unknown,
    done: (result: unknown, at: string) => SagaMessage,
    failed: (error: string, at: string) => SagaMessage,
  ): void => {
    const task = context.df.callActivityWithRetry(activity, retry, withTraceparent(input, traceparent));
    waiting.push({
      task,
      kind: 'work',
      raced: false,
      toMessage: (t, at) => (t.isFaulted ? failed(messageOf(t.result), at) : done(t.result, at)),
    });
  };

  const carryOut = (c: SagaCommand): SagaResult | undefined => {
    switch (c.type) {
      case 'CallAgent': {
        const agent = c.agent;
        if (FORWARD.has(agent)) {
          const step = agent as ForwardStep;
          call(
            AGENT_ACTIVITY[agent],
            c.input,
            (result, at) => ({ type: 'StepSucceeded', step, result, at }) as SagaMessage,
            (error, at) => ({ type: 'StepFailed', step, error, at }),
          );
        } else {
          const closing = agent as Exclude<AgentCall, ForwardStep>;
          call(
            AGENT_ACTIVITY[agent],
            c.input,
            (result, at) => ({
              type: 'ClosingCallSucceeded',
              call: closing,
              result: (result ?? {}) as CompleteDeliveryResult,
              at,
            }),
            (error, at) => ({ type: 'ClosingCallFailed', call: closing, error, at }),
          );
        }
        return undefined;
      }
      case 'EmitEvent': {
        const sequence = c.event.sequence;
        call(
          ACTIVITIES.emitDeliveryEvent,
          c.event,
          (_r, at) => ({ type: 'EventSent', sequence, at }),
          (error, at) => ({ type: 'EventSendFailed', sequence, error, at }),
        );
        return undefined;
      }
      case 'Compensate': {
        const compensation = c.compensation;
        call(
          COMPENSATION_ACTIVITY[compensation],
          c.input,
          (result, at) => ({ type: 'Compensated', compensation, result: (result ?? {}) as CompensationResult, at }),
          (error, at) => ({ type: 'CompensationFailed', compensation, error, at }),
        );
        return undefined;
      }
      case 'ArmTimer':
      case 'CancelTimer':
        // Logical timers live in the workflow's state; the interpreter arms one durable timer for
        // the earliest of them when it next waits idle.
        return undefined;
      case 'Complete':
        return c.result;
      case 'Log':
        if (!context.df.isReplaying) {
          const line = JSON.stringify({ event: c.event, deliveryId: state.deliveryId, detail: c.detail });
          if (c.level === 'error') context.error(line);
          else if (c.level === 'warn') context.warn(line);
          else context.info(line);
        }
        return undefined;
      default:
        return assertNever(c, 'saga command');
    }
  };

  const waiterFor = (signal: ExternalSignal): Waiting => {
    const task = context.df.waitForExternalEvent(SIGNAL_EVENT[signal]);
    return { task, kind: 'signal', signal, raced: false, toMessage: (t, at) => signalMessage(signal, t.result, at) };
  };

  /** A logical timer whose time the last fired alarm reached. */
  const dueTimer = (): SagaTimer | undefined => {
    if (firedUpTo === Number.NEGATIVE_INFINITY) return undefined; // no alarm has fired yet
    const due = (Object.entries(state.timers) as [SagaTimer, string | undefined][]).filter(
      (e): e is [SagaTimer, string] => e[1] !== undefined && Date.parse(e[1]) <= firedUpTo,
    );
    due.sort((a, b) => a[1].localeCompare(b[1]) || a[0].localeCompare(b[0]));
    return due[0]?.[0];
  };

  const earliestDeadline = (): string | undefined => {
    const times = Object.values(state.timers).filter((t): t is string => t !== undefined);
    return times.length > 0 ? times.reduce((a, b) => (a <= b ? a : b)) : undefined;
  };

  /** The next message: something already complete, or (only if nothing is) the next to complete. */
  function* nextMessage(): Generator<Task, SagaMessage, unknown> {
    for (;;) {
      const queued = ready.shift();
      if (queued) return queued.toMessage(queued.task, now());
      const complete = waiting.filter((w) => w.task.isCompleted || w.task.isFaulted);
      if (complete.length > 0) {
        take(complete);
        continue;
      }
      if (alarm && (alarm.task.isCompleted || alarm.task.isFaulted)) {
        firedUpTo = Math.max(firedUpTo, Date.parse(alarm.fireAt));
        alarm = undefined;
      }
      const timer = dueTimer();
      if (timer) return { type: 'TimerFired', timer, at: now() };

      const listened = listensTo(state);
      const work = waiting.find((w) => w.kind === 'work');
      if (work?.raced) {
        yield* awaitOne(work.task);
        settle(work.task);
        continue;
      }
      // Signals with no live waiter get one; an idle wait needs a fresh one for each signal,
      // since only the newest waiter of a name is handed the next event.
      const fresh = (work ? listened.filter((s) => !waiting.some((w) => w.signal === s)) : listened).map(waiterFor);
      waiting.push(...fresh);
      const race: Task[] = [];
      if (work) race.push(work.task);
      else {
        const deadline = earliestDeadline();
        if (deadline !== undefined && (!alarm || alarm.fireAt !== deadline || (alarm.raced && fresh.length > 0))) {
          if (alarm && !alarm.task.isCompleted) alarm.task.cancel();
          alarm = { task: context.df.createTimer(new Date(deadline)), fireAt: deadline, raced: false };
        }
        if (alarm) race.push(alarm.task);
        if (deadline === undefined && fresh.length === 0)
          throw new Error(`saga ${state.deliveryId} has nothing to wait for`);
      }
      race.push(...fresh.map((w) => w.task));
      for (const w of waiting) if (race.includes(w.task)) w.raced = true;
      if (alarm && race.includes(alarm.task)) alarm.raced = true;
      if (race.length === 1 && race[0]) {
        yield* awaitOne(race[0]);
        settle(race[0]);
      } else {
        const winner = (yield context.df.Task.any(race)) as Task;
        settle(winner, race);
      }
    }
  }

  /**
   * Queues what completed, outside the race first (signals by the time their raiser stamped on
   * them, when they carry one), then the winner, then the rest of the race.
   */
  function settle(winner: Task, race: readonly Task[] = [winner]): void {
    const complete = waiting.filter((w) => w.task.isCompleted || w.task.isFaulted);
    const outside = complete
      .filter((w) => !race.includes(w.task))
      .map((w, i) => ({ w, i, t: w.kind === 'signal' ? stampOf(w.task.result) : Number.POSITIVE_INFINITY }))
      .sort((a, b) => a.t - b.t || a.i - b.i)
      .map((x) => x.w);
    const won = complete.filter((w) => w.task === winner);
    const after = complete.filter((w) => race.includes(w.task) && w.task !== winner);
    take([...outside, ...won, ...after]);
  }

  function take(list: readonly Waiting[]): void {
    for (const w of list) {
      const at = waiting.indexOf(w);
      if (at >= 0) waiting.splice(at, 1);
      ready.push(w);
    }
  }

  let message = first(now());
  for (;;) {
    const reaction = react(state, message);
    state = reaction.state;
    let result: SagaResult | undefined;
    for (const c of reaction.commands) result = carryOut(c) ?? result;
    context.df.setCustomStatus(progressOf(state));
    if (result) return result;
    message = yield* nextMessage();
  }
}

/** When a raised event says it happened (`at`, or a telemetry report's `occurredAt`), in ms. */
function stampOf(raised: unknown): number {
  if (!raised || typeof raised !== 'object') return Number.POSITIVE_INFINITY;
  const r = raised as { at?: unknown; occurredAt?: unknown };
  const text = typeof r.at === 'string' ? r.at : typeof r.occurredAt === 'string' ? r.occurredAt : undefined;
  const ms = text === undefined ? Number.NaN : Date.parse(text);
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
}

/** Awaits one task; a failed one is a completion like any other (its message says it failed). */
function* awaitOne(task: Task): Generator<Task, void, unknown> {
  try {
    yield task;
  } catch {
    // The task is faulted; its waiting entry turns that into the workflow's failure message.
  }
}

function signalMessage(signal: ExternalSignal, raised: unknown, at: string): SagaMessage {
  const data = (raised && typeof raised === 'object' ? raised : {}) as Record<string, unknown>;
  const text = (key: string): string | undefined => (typeof data[key] === 'string' ? data[key] : undefined);
  switch (signal) {
    case 'CancelRequested': {
      const by = text('requestedBy');
      return { type: 'CancelRequested', at, ...(by !== undefined ? { requestedBy: by } : {}) };
    }
    case 'CompensationRequested':
      return { type: 'CompensationRequested', at, reason: text('reason') ?? 'stopped by the supervisor' };
    case 'PackagePickedUp':
    case 'DeliveryInTransit':
    case 'DeliveryCompleted': {
      const milestone: MilestoneName = signal;
      const droneId = text('droneId');
      const reportedAt = text('occurredAt');
      const position =
        data.position && typeof data.position === 'object'
          ? (data.position as { lat: number; lon: number; altitudeM: number })
          : undefined;
      return {
        type: 'MilestoneReported',
        at,
        milestone,
        ...(droneId !== undefined ? { droneId } : {}),
        ...(reportedAt !== undefined ? { reportedAt } : {}),
        ...(position ? { position } : {}),
      };
    }
    default:
      return assertNever(signal, 'saga signal');
  }
}

function messageOf(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.length > 300 ? `${m.slice(0, 300)}…` : m;
}
