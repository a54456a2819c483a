/**
 * The orchestration history the engine builds and the durable-functions SDK replays: plain JSON
 * events with the Durable Task field names (`EventType`, `EventId`, `IsPlayed`, `Timestamp`, …)
 * and the numeric types of the SDK's `history/HistoryEventType`. Also the friendlier view the
 * status API returns.
 */

/** Numeric event types, as the SDK's `HistoryEventType` enum numbers them. */
export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
  ExecutionSuspended: 19,
  ExecutionResumed: 20,
} as const;

export type EventTypeName = keyof typeof EventType;
export type EventTypeNumber = (typeof EventType)[EventTypeName];

const eventTypeNames = new Map<number, EventTypeName>(
  (Object.entries(EventType) as [EventTypeName, number][]).map(([name, n]) => [n, name]),
);

export function eventTypeName(type: number): string {
  return eventTypeNames.get(type) ?? `Unknown(${type})`;
}

interface EventBase {
  readonly EventId: number;
  IsPlayed: boolean;
  /** ISO-8601; the SDK turns it into a Date on its own copy. */
  readonly Timestamp: string;
}

/** The wire form of a task failure the SDK turns into a `TaskFailedError` (exception-properties provider in use). */
export interface FailureDetailsPayload {
  readonly ErrorType: string;
  readonly ErrorMessage: string;
  readonly StackTrace?: string;
  readonly IsNonRetriable?: boolean;
  readonly Properties?: Record<string, unknown>;
}

export type HistoryEvent =
  | (EventBase & {
      readonly EventType: 0;
      readonly Name: string;
      readonly Input?: string;
      readonly ParentInstanceId?: string;
    })
  | (EventBase & { readonly EventType: 1; readonly OrchestrationStatus: string; readonly Result?: string })
  | (EventBase & { readonly EventType: 3; readonly Input?: string })
  | (EventBase & { readonly EventType: 4; readonly Name: string; readonly Input?: string })
  | (EventBase & { readonly EventType: 5; readonly TaskScheduledId: number; readonly Result: string })
  | (EventBase & {
      readonly EventType: 6;
      readonly TaskScheduledId: number;
      readonly Reason: string;
      readonly Details: string;
      readonly FailureDetails?: FailureDetailsPayload;
    })
  | (EventBase & { readonly EventType: 7; readonly Name: string; readonly InstanceId: string; readonly Input?: string })
  | (EventBase & { readonly EventType: 8; readonly TaskScheduledId: number; readonly Result: string })
  | (EventBase & {
      readonly EventType: 9;
      readonly TaskScheduledId: number;
      readonly Reason: string;
      readonly Details: string;
    })
  | (EventBase & { readonly EventType: 10; readonly FireAt: string })
  | (EventBase & { readonly EventType: 11; readonly TimerId: number; readonly FireAt: string })
  | (EventBase & { readonly EventType: 12 })
  | (EventBase & { readonly EventType: 13 })
  | (EventBase & { readonly EventType: 15; readonly Name: string; readonly Input?: string })
  | (EventBase & { readonly EventType: 19; readonly Reason?: string })
  | (EventBase & { readonly EventType: 20; readonly Reason?: string });

/** Events that complete something the orchestrator waits on; one of them opens each later episode. */
export type CompletionEvent = Extract<HistoryEvent, { EventType: 5 | 6 | 8 | 9 | 11 | 15 }>;

/** The scheduled task a completion answers, or undefined for external events (matched by name). */
export function completedTaskId(event: CompletionEvent): number | undefined {
  switch (event.EventType) {
    case 5:
    case 6:
    case 8:
    case 9:
      return event.TaskScheduledId;
    case 11:
      return event.TimerId;
    case 15:
      return undefined;
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

/**
 * Serializes a value the way the Durable extension stores payloads: JSON text. `undefined`
 * becomes `null` so the SDK's `JSON.parse(Result)` always has something to parse.
 */
export function toJsonText(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

export function parseJsonText(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  return JSON.parse(text) as unknown;
}

/** A history entry as the status API shows it: type names instead of numbers, payloads parsed. */
export interface FriendlyHistoryEvent {
  readonly EventType: string;
  readonly EventId: number;
  readonly Timestamp: string;
  readonly [field: string]: unknown;
}

/**
 * The status view of a history: episode markers (OrchestratorStarted/Completed) are dropped as
 * the Durable extension does, JSON payloads are parsed, and types are named.
 */
export function toFriendlyHistory(history: readonly HistoryEvent[], showOutput: boolean): FriendlyHistoryEvent[] {
  const out: FriendlyHistoryEvent[] = [];
  for (const e of history) {
    if (e.EventType === EventType.OrchestratorStarted || e.EventType === EventType.OrchestratorCompleted) continue;
    const { EventType: type, IsPlayed: _played, ...rest } = e;
    const view: Record<string, unknown> = { ...rest, EventType: eventTypeName(type) };
    for (const key of ['Input', 'Result'] as const) {
      const raw = view[key];
      if (typeof raw !== 'string') continue;
      if (key === 'Result' && !showOutput) delete view[key];
      else view[key] = safeParse(raw);
    }
    out.push(view as unknown as FriendlyHistoryEvent);
  }
  return out;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
