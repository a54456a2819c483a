/**
 * Recording what an episode decided: each new task goes into the episode's history and the
 * instance's pending work, and the Durable extension's own retry steps (the timer after a
 * failed attempt, the next attempt when it fires) are added as the SDK expects to read them.
 */
import { retryDelayMs } from './actions';
import type { OrchestratorAction } from './actions';
import { iso } from './engine-types';
import { EventType } from './history';
import type { CompletionEvent, HistoryEvent } from './history';
import type { InstanceRecord, PendingWork, RetryState } from './store';

/** Whether playing `event` makes the SDK take task ids for a retry (a timer, or the next attempt). */
export function needsTaskIds(work: PendingWork, event: CompletionEvent): boolean {
  const retry = work.retry;
  if (!retry) return false;
  const failed =
    event.EventType === EventType.TaskFailed || event.EventType === EventType.SubOrchestrationInstanceFailed;
  if (failed && work.kind !== 'timer') return true;
  return (
    event.EventType === EventType.TimerFired &&
    work.kind === 'timer' &&
    retry.attempt < retry.policy.maxNumberOfAttempts
  );
}

/**
 * The Durable extension performs retries itself, and the SDK's RetryableTask numbers each
 * step: after every failed attempt (the last one included) it waits on a timer, and when that
 * timer fires it either expects the next attempt or gives up. The history follows suit.
 */
export function retryFollowUp(
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
  const failed =
    event.EventType === EventType.TaskFailed || event.EventType === EventType.SubOrchestrationInstanceFailed;
  if (failed && work.kind !== 'timer') {
    const timerId = nextTaskId++;
    const last = retry.attempt >= retry.policy.maxNumberOfAttempts;
    // After the last attempt nothing is left to wait for; the timer only lets the SDK give up.
    const fireAt = iso(nowMs + (last ? 0 : retryDelayMs(retry.policy, retry.attempt)));
    fresh.push({
      EventType: EventType.TimerCreated,
      EventId: timerId,
      IsPlayed: false,
      Timestamp: iso(nowMs),
      FireAt: fireAt,
    });
    pending.push({ kind: 'timer', taskId: timerId, fireAt, retry });
    return nextTaskId;
  }
  if (
    event.EventType === EventType.TimerFired &&
    work.kind === 'timer' &&
    retry.attempt < retry.policy.maxNumberOfAttempts
  ) {
    const taskId = nextTaskId++;
    const next: RetryState = { ...retry, attempt: retry.attempt + 1 };
    const target = retry.target;
    const action: OrchestratorAction =
      target.kind === 'activity'
        ? {
            kind: 'activity',
            name: target.name,
            ...(target.inputJson !== undefined ? { inputJson: target.inputJson } : {}),
          }
        : {
            kind: 'subOrchestration',
            name: target.name,
            ...(target.instanceId !== undefined ? { instanceId: target.instanceId } : {}),
            ...(target.inputJson !== undefined ? { inputJson: target.inputJson } : {}),
          };
    schedule(r, action, taskId, fresh, pending, iso(nowMs), next);
  }
  return nextTaskId;
}

/** Records a newly decided task in the episode and in the instance's pending work. */
export function schedule(
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
          ? {
              policy: action.retry,
              attempt: 1,
              target: {
                kind: 'activity',
                name: action.name,
                ...(action.inputJson !== undefined ? { inputJson: action.inputJson } : {}),
              },
            }
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
      fresh.push({
        EventType: EventType.TimerCreated,
        EventId: taskId,
        IsPlayed: false,
        Timestamp: now,
        FireAt: action.fireAt,
      });
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
