/**
 * One replay of a registered orchestrator: builds the `orchestrationTrigger` binding object the
 * Durable extension would send (the shape of durable-functions' `DurableOrchestrationInput`),
 * calls the handler `df.app.orchestration` registered, and reads back what the SDK decided:
 * actions, completion, output, custom status, or the failure it reported.
 */
import { randomUUID } from 'node:crypto';
import { InvocationContext } from '@azure/functions';
import type { RegisteredFunction } from '../core/functions-core';
import { readActions } from './actions';
import type { OrchestratorAction } from './actions';
import { EventType } from './history';
import type { HistoryEvent } from './history';

/**
 * Replay schema V2 (SDK `ReplaySchema.V2`): Task.all/any come back as compound actions, and
 * timers are never split into long-timer chains (that arrives with V3), so every durable timer
 * is one TimerCreated/TimerFired pair whatever its length.
 */
export const REPLAY_SCHEMA_VERSION = 1;

export interface ReplayRequest {
  readonly orchestrator: RegisteredFunction;
  readonly instanceId: string;
  readonly parentInstanceId?: string;
  readonly input: unknown;
  /** Events played in earlier episodes. */
  readonly played: readonly HistoryEvent[];
  /** The episode being decided: its OrchestratorStarted and what arrived. */
  readonly fresh: readonly HistoryEvent[];
  readonly log?: (message: string) => void;
}

export type ReplayOutcome =
  | {
      readonly kind: 'running' | 'completed';
      readonly actions: OrchestratorAction[];
      readonly output: unknown;
      readonly customStatus: unknown;
    }
  | {
      readonly kind: 'failed';
      readonly actions: OrchestratorAction[];
      readonly message: string;
      readonly customStatus: unknown;
    };

/** The marker `OrchestrationFailureError` puts between the user's message and the SDK state. */
const OUT_OF_PROC_DATA = '\n\n$OutOfProcData$:';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** The handler mutates what it gets (timestamps become Dates), so it always gets a fresh copy. */
function episodeHistory(played: readonly HistoryEvent[], fresh: readonly HistoryEvent[]): HistoryEvent[] {
  return [...played.map((e) => ({ ...e, IsPlayed: true })), ...fresh.map((e) => ({ ...e, IsPlayed: false }))];
}

export async function replay(req: ReplayRequest): Promise<ReplayOutcome> {
  const history = episodeHistory(req.played, req.fresh);
  const binding = {
    history,
    input: req.input,
    instanceId: req.instanceId,
    isReplaying: req.played.length > 0,
    parentInstanceId: req.parentInstanceId ?? '',
    maximumShortTimerDuration: '6.00:00:00',
    longRunningTimerIntervalDuration: '3.00:00:00',
    defaultHttpAsyncRequestSleepTimeMillseconds: 30_000,
    upperSchemaVersion: REPLAY_SCHEMA_VERSION,
  };
  const log = req.log;
  const context = new InvocationContext({
    functionName: req.orchestrator.name,
    invocationId: randomUUID(),
    options: { trigger: { type: req.orchestrator.trigger.type, name: req.orchestrator.trigger.name } },
    logHandler: (level, ...args) => log?.(`[${level}] ${args.map(String).join(' ')}`),
  });
  let result: unknown;
  try {
    result = await req.orchestrator.handler(binding, context);
  } catch (err) {
    return failureOutcome(err);
  }
  if (!isRecord(result)) {
    return {
      kind: 'failed',
      actions: [],
      message: 'The orchestrator handler returned no orchestrator state.',
      customStatus: undefined,
    };
  }
  const actions = readActions(result.actions);
  return {
    kind: result.isDone === true ? 'completed' : 'running',
    actions,
    output: result.output,
    customStatus: result.customStatus,
  };
}

/**
 * The SDK reports an orchestrator exception by throwing an `OrchestrationFailureError` whose
 * message is a prefix, a marker, and the JSON orchestrator state (the error message, the actions
 * decided before the throw, the custom status).
 */
function failureOutcome(err: unknown): ReplayOutcome {
  const text = err instanceof Error ? err.message : String(err);
  const at = text.indexOf(OUT_OF_PROC_DATA);
  if (at < 0) return { kind: 'failed', actions: [], message: text, customStatus: undefined };
  // SDK 3.5 passes a boolean where the error belongs, so the text before the marker is "false";
  // the user's message travels in the state's `error` field.
  let message = text.slice(0, at);
  let customStatus: unknown;
  let actions: OrchestratorAction[] = [];
  try {
    const state = JSON.parse(text.slice(at + OUT_OF_PROC_DATA.length)) as unknown;
    if (isRecord(state)) {
      customStatus = state.customStatus;
      if (typeof state.error === 'string') message = state.error;
      actions = readActions(state.actions);
    }
  } catch {
    // The state is diagnostic only; the text before the marker is the best message left.
  }
  return { kind: 'failed', actions, message, customStatus };
}

/** The OrchestratorStarted event that opens an episode at `now`. */
export function orchestratorStarted(now: string): HistoryEvent {
  return { EventType: EventType.OrchestratorStarted, EventId: -1, IsPlayed: false, Timestamp: now };
}
