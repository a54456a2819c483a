/**
 * The episode: one replay of an orchestrator over its history plus what happened since, and the
 * check that it decided again, in order, everything it decided before (the determinism check).
 * An episode takes the next events from the inbox (everything queued in 'batch' delivery, one in
 * 'single'), replays, records the new decisions (scheduling.ts), commits the instance's new
 * state and hands the new work to work.ts. `kick` runs episodes of an instance until its inbox
 * holds nothing more to play, one at a time under the instance's lock.
 *
 * A little over 300 lines once formatted: taking events, replaying, deciding and committing are
 * one transaction of an instance; each is its own function here, but they share its draft state.
 */
import { actionSignature, takesTaskId } from './actions';
import type { OrchestratorAction } from './actions';
import { iso, ORCHESTRATION_TRIGGER } from './engine-types';
import type { DeterminismReport, Mutable } from './engine-types';
import { completedTaskId, EventType, parseJsonText, toJsonText } from './history';
import type { HistoryEvent } from './history';
import { orchestratorStarted, replay } from './replay';
import type { ReplayOutcome } from './replay';
import { needsTaskIds, retryFollowUp, schedule } from './scheduling';
import type { EngineState } from './state';
import { isTerminal } from './store';
import type { InstanceRecord, PendingWork } from './store';
import { afterTerminal, dispatch, forgetWork } from './work';

/** Runs episodes of the instance until none is left to play; a second kick meanwhile asks for another round. */
export function kick(s: EngineState, instanceId: string): void {
  if (s.closed) return;
  const state = s.processing.get(instanceId);
  if (state) {
    state.again = true;
    return;
  }
  const fresh = { again: true };
  s.processing.set(instanceId, fresh);
  void s.track(
    (async () => {
      try {
        while (fresh.again && !s.closed) {
          fresh.again = false;
          while (!s.closed && (await s.withLock(instanceId, () => episode(s, instanceId)))) {
            // One episode at a time; loop until the inbox is drained.
          }
        }
      } catch (err) {
        s.log(
          `orchestration '${instanceId}' stalled: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        );
      } finally {
        s.processing.delete(instanceId);
      }
    })(),
  );
}

/** What an episode is building: the new history events, the pending work and the next task id. */
interface Draft {
  readonly fresh: HistoryEvent[];
  readonly pending: PendingWork[];
  nextTaskId: number;
  /** How many inbox events the episode took (played or dropped as stale). */
  consumed: number;
}

/**
 * Plays the next thing that happened to the instance (its start, or the inbox events that still
 * answer something) and acts on what the orchestrator decides. Returns whether an episode ran
 * (so the caller looks for another).
 */
export async function episode(s: EngineState, instanceId: string): Promise<boolean> {
  const r = s.records.get(instanceId);
  if (!r || isTerminal(r.status) || r.status === 'Suspended') return false;
  const nowMs = s.clock.now();
  const now = iso(nowMs);
  const execution = r.execution;
  const draft: Draft = {
    fresh: [orchestratorStarted(now)],
    pending: [...r.pending],
    nextTaskId: r.nextTaskId,
    consumed: 0,
  };

  if (r.status === 'Pending' || r.status === 'ContinuedAsNew') {
    draft.fresh.push({
      EventType: EventType.ExecutionStarted,
      EventId: -1,
      IsPlayed: false,
      Timestamp: now,
      Name: r.name,
      ...(r.inputJson !== undefined ? { Input: r.inputJson } : {}),
      ...(r.parent ? { ParentInstanceId: r.parent.instanceId } : {}),
    });
  } else if (!takeEvents(s, r, draft, nowMs)) {
    if (draft.consumed > 0) {
      r.inbox.splice(0, draft.consumed);
      await s.persist(r);
    }
    return false;
  }

  const outcome = await replayDraft(s, r, draft);
  // A terminate (or restart) that won the lock race before us has already decided the instance.
  if (s.records.get(instanceId) !== r || r.execution !== execution || isTerminal(r.status)) return false;

  const decided = decide(r, outcome, draft, now);
  commit(s, r, outcome, draft, decided, now);
  await s.persist(r);
  if (isTerminal(r.status)) afterTerminal(s, r);
  else dispatch(s, r);
  return true;
}

/**
 * Moves the inbox events this episode plays into the draft: one ('single'), or everything queued
 * since the last episode ('batch', as the extension does), except that an event which makes the
 * SDK number new tasks (a retried call's failure, or the retry timer that schedules the next
 * attempt) may only open a batch: the SDK numbers those as it reads them, before tasks later
 * events start. Returns whether anything is left to play.
 */
function takeEvents(s: EngineState, r: InstanceRecord, draft: Draft, nowMs: number): boolean {
  let found = false;
  const batch = s.delivery === 'batch';
  while (draft.consumed < r.inbox.length) {
    const event = r.inbox[draft.consumed];
    if (!event) break;
    const taskId = completedTaskId(event);
    if (taskId === undefined) {
      draft.fresh.push(event);
      draft.consumed++;
      found = true;
      if (!batch) break;
      continue;
    }
    const at = draft.pending.findIndex((p) => p.taskId === taskId);
    const work = draft.pending[at];
    if (!work) {
      draft.consumed++; // stale: answered already, canceled, or from an abandoned attempt
      continue;
    }
    if (found && needsTaskIds(work, event)) break;
    draft.consumed++;
    draft.pending.splice(at, 1);
    draft.fresh.push(event);
    found = true;
    draft.nextTaskId = retryFollowUp(r, work, event, draft.fresh, draft.pending, draft.nextTaskId, nowMs);
    if (!batch) break;
  }
  return found;
}

function replayDraft(s: EngineState, r: InstanceRecord, draft: Draft): Promise<ReplayOutcome> {
  const orchestrator = s.registry.functions.get(r.name);
  if (!orchestrator || orchestrator.trigger.type !== ORCHESTRATION_TRIGGER) {
    return Promise.resolve({
      kind: 'failed',
      actions: [],
      message: `No orchestrator function named '${r.name}' is registered.`,
      customStatus: undefined,
    });
  }
  return replay({
    orchestrator,
    instanceId: r.instanceId,
    ...(r.parent ? { parentInstanceId: r.parent.instanceId } : {}),
    input: parseJsonText(r.inputJson),
    played: r.history,
    fresh: draft.fresh,
    log: (m) => s.log(`[${r.name}/${r.instanceId}] ${m}`),
  });
}

interface Decisions {
  readonly actionLog: { signature: string; taskId?: number }[];
  readonly failure: string | undefined;
  readonly continueAsNew: Extract<OrchestratorAction, { kind: 'continueAsNew' }> | undefined;
}

/** Checks the replay against the decisions before it and records the new ones in the draft. */
function decide(r: InstanceRecord, outcome: ReplayOutcome, draft: Draft, now: string): Decisions {
  const actionLog = [...r.actionLog];
  if (outcome.kind === 'failed')
    return {
      actionLog,
      failure: `Orchestrator function '${r.name}' failed: ${outcome.message}`,
      continueAsNew: undefined,
    };
  const mismatch = checkDeterminism(actionLog, outcome.actions);
  if (mismatch !== undefined) return { actionLog, failure: mismatch, continueAsNew: undefined };

  // Timers the orchestrator canceled since they were scheduled will never be awaited.
  outcome.actions.slice(0, actionLog.length).forEach((action, i) => {
    const taskId = actionLog[i]?.taskId;
    if (action.kind === 'timer' && action.canceled && taskId !== undefined) {
      const at = draft.pending.findIndex((p) => p.kind === 'timer' && p.taskId === taskId);
      if (at >= 0) draft.pending.splice(at, 1);
    }
  });
  let continueAsNew: Decisions['continueAsNew'];
  for (const action of outcome.actions.slice(actionLog.length)) {
    if (action.kind === 'unsupported') {
      return {
        actionLog,
        failure: `Orchestrator function '${r.name}' failed: ${action.description} is not supported by the local orchestration engine.`,
        continueAsNew,
      };
    }
    if (action.kind === 'reraced')
      return { actionLog, failure: `Orchestrator function '${r.name}' failed: ${action.description}.`, continueAsNew };
    if (action.kind === 'continueAsNew') continueAsNew = action;
    const taskId = takesTaskId(action) ? draft.nextTaskId++ : undefined;
    actionLog.push({ signature: actionSignature(action), ...(taskId !== undefined ? { taskId } : {}) });
    if (taskId !== undefined && outcome.kind === 'running')
      schedule(r, action, taskId, draft.fresh, draft.pending, now);
  }
  return { actionLog, failure: undefined, continueAsNew };
}

/** The instance after the episode: its history grows, and it fails, continues as new, completes or runs on. */
function commit(
  s: EngineState,
  r: InstanceRecord,
  outcome: ReplayOutcome,
  draft: Draft,
  decided: Decisions,
  now: string,
): void {
  draft.fresh.push({ EventType: EventType.OrchestratorCompleted, EventId: -1, IsPlayed: false, Timestamp: now });
  for (const e of draft.fresh) e.IsPlayed = true;
  r.history = [...r.history, ...draft.fresh];
  r.inbox.splice(0, draft.consumed);
  r.lastUpdatedTime = now;
  if (outcome.customStatus !== undefined && outcome.customStatus !== null)
    r.customStatusJson = toJsonText(outcome.customStatus);

  if (decided.failure !== undefined) {
    finish(r, 'Failed', toJsonText(decided.failure), now);
  } else if (decided.continueAsNew) {
    forgetWork(s, r);
    continueAsNew(r, decided.continueAsNew);
  } else if (outcome.kind === 'completed') {
    r.actionLog = decided.actionLog;
    r.nextTaskId = draft.nextTaskId;
    finish(r, 'Completed', toJsonText(outcome.output), now);
  } else {
    r.status = 'Running';
    r.pending = draft.pending;
    r.nextTaskId = draft.nextTaskId;
    r.actionLog = decided.actionLog;
  }
}

function continueAsNew(r: InstanceRecord, action: Extract<OrchestratorAction, { kind: 'continueAsNew' }>): void {
  r.execution++;
  if (action.inputJson !== undefined) r.inputJson = action.inputJson;
  else delete r.inputJson;
  delete r.outputJson;
  r.status = 'ContinuedAsNew';
  r.history = [];
  r.actionLog = [];
  r.nextTaskId = 0;
  r.pending = [];
  // Raised events not yet played belong to the next execution; results of this one do not.
  r.inbox = r.inbox.filter((e) => e.EventType === EventType.EventRaised);
}

/** A replay must repeat, in order, every action it decided before. */
export function checkDeterminism(
  actionLog: readonly { signature: string }[],
  actions: readonly OrchestratorAction[],
): string | undefined {
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

function finish(r: InstanceRecord, status: 'Completed' | 'Failed', outputJson: string, now: string): void {
  r.history.push({
    EventType: EventType.ExecutionCompleted,
    EventId: -1,
    IsPlayed: true,
    Timestamp: now,
    OrchestrationStatus: status,
    Result: outputJson,
  });
  r.status = status;
  r.outputJson = outputJson;
  r.pending = [];
}

/**
 * Replays the instance's whole recorded history in one pass and compares what the
 * orchestrator decides with what it decided episode by episode.
 */
export async function verifyDeterminism(s: EngineState, instanceId: string): Promise<DeterminismReport> {
  const r = s.existing(instanceId);
  const outcome = await replay({
    orchestrator: s.orchestrator(r.name),
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
  const report: Mutable<DeterminismReport> = {
    instanceId,
    deterministic: mismatchAt === undefined,
    recordedActions,
    replayedActions,
  };
  if (mismatchAt !== undefined) report.mismatchAt = mismatchAt;
  if (r.status === 'Completed') {
    report.recordedOutput = parseJsonText(r.outputJson);
    report.replayedOutput =
      outcome.kind === 'failed' ? outcome.message : (JSON.parse(toJsonText(outcome.output)) as unknown);
    if (outcome.kind !== 'completed' || toJsonText(report.replayedOutput) !== toJsonText(report.recordedOutput))
      report.deterministic = false;
  } else if (r.status === 'Failed' && outcome.kind !== 'failed') {
    report.deterministic = false;
  }
  return report;
}
