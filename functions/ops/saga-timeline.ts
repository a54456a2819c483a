/**
 * A saga's durable history as a timeline the console draws on a time axis: each activity call
 * as a span from scheduled to completed or failed (forward steps, compensations and the
 * publishing of events told apart; a call that follows a failure of the same activity is a
 * retry), each durable timer from creation to firing (a timer right after a failure is the
 * retry's backoff), each external event (milestones, cancel, supervisor) as a point, and the
 * orchestration's start and end.
 *
 * It reads the status API's `history` in both shapes it comes in: the local engine's (every
 * TaskScheduled with its completion naming `TaskScheduledId`) and the Durable extension's
 * (completions that carry `FunctionName` and `ScheduledTime` themselves).
 */
import { COMPENSATION_OF } from '../../domain/delivery/saga';
import { ACTIVITIES } from '../names';

export type TimelineKind = 'orchestration' | 'step' | 'compensation' | 'emit' | 'timer' | 'retryTimer' | 'event';

export interface TimelineEntry {
  readonly instanceId: string;
  readonly kind: TimelineKind;
  readonly name: string;
  readonly at: string;
  /** When a span ended (a completion, a failure, a timer firing); absent while it is open. */
  readonly endedAt?: string;
  readonly outcome?: 'completed' | 'failed' | 'open' | 'fired';
  /** 1 for the first call of an activity, 2 for its first retry, … */
  readonly attempt?: number;
  readonly detail?: string;
}

type Json = Record<string, unknown>;

const COMPENSATIONS: ReadonlySet<string> = new Set(Object.values(COMPENSATION_OF));

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

function activityKind(name: string): TimelineKind {
  if (name === ACTIVITIES.emitDeliveryEvent) return 'emit';
  return COMPENSATIONS.has(name) ? 'compensation' : 'step';
}

/** The event type an EmitDeliveryEvent call publishes, when its input says. */
function emitted(input: unknown): string | undefined {
  if (!input || typeof input !== 'object') return undefined;
  const i = input as Json;
  return str(i.type) ?? str((i.event as Json | undefined)?.type);
}

export function sagaTimeline(instanceId: string, history: readonly unknown[]): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  const openTasks = new Map<number, { index: number; name: string }>();
  const openTimers = new Map<number, number>();
  const attempts = new Map<string, number>();
  const failedLast = new Set<string>();
  let previousFailed = false;

  const call = (name: string, at: string, input: unknown): TimelineEntry => {
    // A call is a retry only when the last call of the same activity failed; calling it again after a success is a new call.
    const attempt = failedLast.has(name) ? (attempts.get(name) ?? 1) + 1 : 1;
    attempts.set(name, attempt);
    const detail = name === ACTIVITIES.emitDeliveryEvent ? emitted(input) : failedLast.has(name) ? 'retry' : undefined;
    return { instanceId, kind: activityKind(name), name, at, outcome: 'open', attempt, ...(detail ? { detail } : {}) };
  };
  const close = (entry: TimelineEntry, failed: boolean, at: string, reason: string | undefined): TimelineEntry => {
    if (failed) failedLast.add(entry.name);
    else failedLast.delete(entry.name);
    return {
      ...entry,
      endedAt: at,
      outcome: failed ? 'failed' : 'completed',
      ...(failed && reason ? { detail: reason } : {}),
    };
  };

  for (const raw of history) {
    if (!raw || typeof raw !== 'object') continue;
    const e = raw as Json;
    const type = str(e.EventType) ?? '';
    const at = str(e.Timestamp) ?? '';
    const eventId = num(e.EventId) ?? -1;
    let failedNow = false;
    switch (type) {
      case 'ExecutionStarted':
        out.push({ instanceId, kind: 'orchestration', name: str(e.Name) ?? 'started', at, detail: 'started' });
        break;
      case 'ExecutionCompleted':
      case 'ExecutionTerminated':
      case 'ExecutionSuspended':
      case 'ExecutionResumed':
        out.push({
          instanceId,
          kind: 'orchestration',
          name: type.replace('Execution', ''),
          at,
          ...(str(e.OrchestrationStatus) ? { detail: str(e.OrchestrationStatus) } : {}),
        });
        break;
      case 'TaskScheduled': {
        const name = str(e.Name) ?? '?';
        openTasks.set(eventId, { index: out.length, name });
        out.push(call(name, at, e.Input));
        break;
      }
      case 'TaskCompleted':
      case 'TaskFailed': {
        failedNow = type === 'TaskFailed';
        const reason = str(e.Reason) ?? str((e.FailureDetails as Json | undefined)?.ErrorMessage);
        const open = openTasks.get(num(e.TaskScheduledId) ?? -2);
        if (open) {
          openTasks.delete(num(e.TaskScheduledId) ?? -2);
          out[open.index] = close(out[open.index] as TimelineEntry, failedNow, at, reason);
        } else {
          // The extension's shape: the completion stands for the whole call.
          const name = str(e.FunctionName) ?? str(e.Name) ?? '?';
          out.push(close(call(name, str(e.ScheduledTime) ?? at, e.Input), failedNow, at, reason));
        }
        break;
      }
      case 'TimerCreated':
        openTimers.set(eventId, out.length);
        out.push({
          instanceId,
          kind: previousFailed ? 'retryTimer' : 'timer',
          name: previousFailed ? 'retry backoff' : 'timer',
          at,
          outcome: 'open',
          ...(str(e.FireAt) ? { detail: `fires ${str(e.FireAt)}` } : {}),
        });
        break;
      case 'TimerFired': {
        const index = openTimers.get(num(e.TimerId) ?? -2);
        if (index !== undefined) {
          openTimers.delete(num(e.TimerId) ?? -2);
          out[index] = { ...(out[index] as TimelineEntry), endedAt: at, outcome: 'fired' };
        } else {
          out.push({
            instanceId,
            kind: 'timer',
            name: 'timer',
            at: str(e.FireAt) ?? at,
            endedAt: at,
            outcome: 'fired',
          });
        }
        break;
      }
      case 'EventRaised':
        out.push({ instanceId, kind: 'event', name: str(e.Name) ?? '?', at });
        break;
      default:
        break;
    }
    previousFailed = failedNow;
  }
  return out;
}
