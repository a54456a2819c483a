/**
 * Carrying out what orchestrators decided: activities (bounded by the limiter, results handed
 * back through the inbox, at least once), durable timers on the clock, sub-orchestrations and
 * the results they hand their parents, and what happens when an instance finishes.
 *
 * A little over 300 lines once formatted: the four kinds of work share the inbox hand-back and
 * the at-least-once rule, which read best side by side.
 */
import { randomUUID } from 'node:crypto';
import { InvocationContext } from '@azure/functions';
import type { FunctionInput, FunctionOutput } from '@azure/functions';
import type { RegisteredFunction } from '../core/functions-core';
import { ACTIVITY_TRIGGER, iso, ORCHESTRATION_TRIGGER } from './engine-types';
import type { ActivityInvocation, ActivityInvoker, ActivityRun } from './engine-types';
import { completedTaskId, EventType, parseJsonText, toJsonText } from './history';
import type { CompletionEvent, FailureDetailsPayload } from './history';
import type { EngineState } from './state';
import { isTerminal } from './store';
import type { InstanceRecord, ParentLink, PendingWork } from './store';
import { holdResult } from './test-controls';

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
    if (!isRecord(parsed) || typeof parsed.errorType !== 'string' || typeof parsed.errorMessage !== 'string')
      return undefined;
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

/** The binding view `context.options` gives handlers, from the captured metadata. */
function invocationOptions(fn: RegisteredFunction): {
  trigger: FunctionInput;
  extraInputs: FunctionInput[];
  extraOutputs: FunctionOutput[];
} {
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

/** Makes sure every pending item runs: activities started, timers armed, children started. Idempotent. */
export function dispatch(s: EngineState, r: InstanceRecord): void {
  if (s.closed) return;
  const live = new Set<string>();
  const answered = new Set(r.inbox.map(completedTaskId));
  for (const work of r.pending) {
    const key = workKey(r.instanceId, r.execution, work.taskId);
    live.add(key);
    // Already answered, waiting to be played: running it again would only add a duplicate.
    if (answered.has(work.taskId)) continue;
    switch (work.kind) {
      case 'activity':
        runActivity(s, r, work, key);
        break;
      case 'timer':
        armTimer(s, r, work, key);
        break;
      case 'subOrchestration':
        startChild(s, r, work, key);
        break;
      default: {
        const _exhaustive: never = work;
        void _exhaustive;
      }
    }
  }
  // Timers dropped from pending (canceled by the orchestrator) are disarmed.
  const prefix = `${r.instanceId}\u0000`;
  for (const [key, cancel] of s.timers) {
    if (key.startsWith(prefix) && !live.has(key)) {
      cancel();
      s.timers.delete(key);
    }
  }
}

function runActivity(
  s: EngineState,
  r: InstanceRecord,
  work: Extract<PendingWork, { kind: 'activity' }>,
  key: string,
): void {
  if (s.dispatched.has(key)) return;
  s.dispatched.add(key);
  const { instanceId, execution } = r;
  void s.track(
    s.limiter
      .run(async () => {
        if (s.closed) return undefined;
        const fn = s.registry.functions.get(work.name);
        const now = (): string => iso(s.clock.now());
        if (!fn || fn.trigger.type !== ACTIVITY_TRIGGER) {
          const message = `The function '${work.name}' doesn't exist, is disabled, or is not an activity function.`;
          return failedEvent(s, work.taskId, work.name, message, message, now());
        }
        const input = parseJsonText(work.inputJson);
        try {
          const result = await s.invoke(fn, input, {
            instanceId,
            taskId: work.taskId,
            attempt: work.retry?.attempt ?? 1,
          });
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
          return failedEvent(s, work.taskId, work.name, message, details, now());
        }
      })
      .then(async (event) => {
        if (!event) return;
        const run: ActivityRun = {
          name: work.name,
          instanceId,
          taskId: work.taskId,
          attempt: work.retry?.attempt ?? 1,
        };
        if (s.loseResult?.(run)) {
          // As when a worker dies after the activity ran: the work item is handed out again.
          s.dispatched.delete(key);
          const current = s.records.get(instanceId);
          if (current && current.execution === execution && !s.closed) dispatch(s, current);
          return;
        }
        // The key stays dispatched until the work leaves pending, so a dispatch between this
        // result and its episode does not run the activity again.
        // Held by a test: not tracked while it waits, so that `idle()` does not wait for it.
        const held = holdResult(s, run, () => void s.track(s.enqueue(instanceId, execution, event)));
        if (!held) await s.enqueue(instanceId, execution, event);
      }),
  );
}

function failedEvent(
  s: EngineState,
  taskId: number,
  name: string,
  message: string,
  details: string,
  now: string,
): CompletionEvent {
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

function armTimer(s: EngineState, r: InstanceRecord, work: Extract<PendingWork, { kind: 'timer' }>, key: string): void {
  if (s.timers.has(key)) return;
  const { instanceId, execution } = r;
  const fire = (): void => {
    s.timers.delete(key);
    const event: CompletionEvent = {
      EventType: EventType.TimerFired,
      EventId: -1,
      IsPlayed: false,
      Timestamp: iso(Math.max(s.clock.now(), Date.parse(work.fireAt))),
      TimerId: work.taskId,
      FireAt: work.fireAt,
    };
    void s.track(s.enqueue(instanceId, execution, event));
  };
  const delay = Date.parse(work.fireAt) - s.clock.now();
  if (delay <= 0) {
    // Due already (a zero-delay retry timer, or one that came due while the process was down).
    s.timers.set(key, () => undefined);
    void s.track(Promise.resolve().then(fire));
    return;
  }
  s.timers.set(key, s.clock.setTimer(delay, fire));
}

/** Disarms the instance's timers and forgets what was dispatched for it (its execution is over). */
export function forgetWork(s: EngineState, r: InstanceRecord): void {
  const prefix = `${r.instanceId}\u0000`;
  for (const [key, cancel] of s.timers) {
    if (key.startsWith(prefix)) {
      cancel();
      s.timers.delete(key);
    }
  }
  for (const key of s.dispatched) if (key.startsWith(prefix)) s.dispatched.delete(key);
}

function startChild(
  s: EngineState,
  parent: InstanceRecord,
  work: Extract<PendingWork, { kind: 'subOrchestration' }>,
  key: string,
): void {
  if (s.dispatched.has(key)) return;
  s.dispatched.add(key);
  const link: ParentLink = { instanceId: parent.instanceId, taskId: work.taskId, execution: parent.execution };
  void s.track(
    (async () => {
      const child = s.records.get(work.instanceId);
      const ours =
        child?.parent &&
        child.parent.instanceId === link.instanceId &&
        child.parent.taskId === link.taskId &&
        child.parent.execution === link.execution;
      if (child && ours) {
        // Recovery: the child exists already; if it finished before its result reached us, deliver it now.
        if (isTerminal(child.status)) await notifyParent(s, child);
        return;
      }
      const fn = s.registry.functions.get(work.name);
      const refusal =
        !fn || fn.trigger.type !== ORCHESTRATION_TRIGGER
          ? `No orchestrator function named '${work.name}' is registered.`
          : child && !isTerminal(child.status)
            ? `An instance with ID '${work.instanceId}' already exists and is ${child.status}.`
            : undefined;
      if (refusal !== undefined) {
        await s.enqueue(link.instanceId, link.execution, {
          EventType: EventType.SubOrchestrationInstanceFailed,
          EventId: -1,
          IsPlayed: false,
          Timestamp: iso(s.clock.now()),
          TaskScheduledId: link.taskId,
          Reason: refusal,
          Details: '',
        });
        return;
      }
      await s.withLock(work.instanceId, async () => {
        const record = s.newRecord(work.name, work.instanceId, work.inputJson, link, (child?.execution ?? 0) + 1);
        s.records.set(work.instanceId, record);
        await s.persist(record);
      });
      s.wake(work.instanceId);
    })(),
  );
}

/** Hands a finished sub-orchestration's result to the parent task waiting for it. */
async function notifyParent(s: EngineState, child: InstanceRecord): Promise<void> {
  const link = child.parent;
  if (!link) return;
  const now = iso(s.clock.now());
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
  await s.enqueue(link.instanceId, link.execution, event);
}

export function afterTerminal(s: EngineState, r: InstanceRecord): void {
  forgetWork(s, r);
  const waiters = s.terminalWaiters.get(r.instanceId) ?? [];
  s.terminalWaiters.delete(r.instanceId);
  const status = s.statusOf(r, {});
  for (const w of waiters) w(status);
  if (r.parent) void s.track(notifyParent(s, r));
}

/** The invoker an engine without `invokeActivity` uses: a host-shaped InvocationContext, logs to the engine log. */
export function defaultInvoker(s: EngineState): ActivityInvoker {
  return async (fn: RegisteredFunction, input: unknown, invocation: ActivityInvocation): Promise<unknown> => {
    const context = new InvocationContext({
      functionName: fn.name,
      invocationId: randomUUID(),
      triggerMetadata: { instanceId: invocation.instanceId },
      options: invocationOptions(fn),
      logHandler: (level, ...args) => s.log(`[${fn.name}] [${level}] ${args.map(String).join(' ')}`),
    });
    return fn.handler(input, context);
  };
}
