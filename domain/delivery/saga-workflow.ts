/**
 * The delivery saga as a pure workflow (in the decider/workflow style): everything that can
 * happen to a delivery is a message, everything the orchestrator may do is a command, and
 * `decide(state, message) → commands` with `evolve(state, message | command) → state` holds
 * every decision: the step order, retry and give-up, the SLA clock, which milestones count,
 * when the outcome is fixed, and which compensations run in what order. The orchestrator
 * (functions/saga/saga-interpreter.ts) only carries commands out and turns what completes
 * into messages.
 *
 * One piece of work is in flight at a time (an agent call, an emit, a compensation), so the
 * stream is sent in sequence order. Messages that arrive meanwhile are absorbed into the state
 * at once: the first decisive one (a failure, a cancel, the supervisor, an SLA, the delivery)
 * fixes the outcome, and the work that follows is derived from the state when the slot frees.
 *
 * Over 450 lines (since the tree was formatted at 120 columns): decide and evolve switch over
 * the same unions; split apart, every new message would have to be added in two files at once.
 */
import { assertNever } from '../shared/errors';
import { deliveryEvent } from './events';
import type { DeliveryEvent, DeliveryRequestedData, MilestoneData } from './events';
import { isFinished } from './status';
import {
  applyMilestone,
  CLOSING_CALLS_DELIVERED,
  CLOSING_CALLS_UNDONE,
  COMPENSATION_OF,
  FORWARD_STEPS,
  milestoneDeadlines,
  roundWaitMs,
} from './saga';
import type {
  ClosingCall,
  Compensation,
  CompensationResult,
  ForwardStep,
  SagaEnd,
  SagaStage,
  SlaSettings,
} from './saga';
import { changed } from './saga-state';
import type { MilestoneReport, SagaCommand, SagaMessage, SagaState, SagaTimer, Work } from './saga-state';

export * from './saga-state';

// ------------------------------------------------------------------ decide and evolve

export function decide(state: SagaState, message: SagaMessage): SagaCommand[] {
  return react(state, message).commands;
}

export function evolve(state: SagaState, m: SagaMessage | SagaCommand): SagaState {
  return isCommand(m) ? applyCommand(state, m) : transition(state, m).state;
}

/**
 * Both at once, as the interpreter uses them: the commands, and the state after message and
 * commands (what `[message, ...decide(state, message)].reduce(evolve, state)` gives, with the
 * message's transition worked out once: the interpreter replays every message in every episode).
 */
export function react(state: SagaState, message: SagaMessage): { state: SagaState; commands: SagaCommand[] } {
  const t = transition(state, message);
  const after = t.commands.reduce(applyCommand, t.state);
  const next = nextWork(after, message.at);
  return {
    state: next.reduce(applyCommand, after),
    commands: next.length === 0 ? t.commands : [...t.commands, ...next],
  };
}

const COMMAND_TYPES: ReadonlySet<string> = new Set([
  'CallAgent',
  'EmitEvent',
  'Compensate',
  'ArmTimer',
  'CancelTimer',
  'Complete',
  'Log',
]);
function isCommand(m: SagaMessage | SagaCommand): m is SagaCommand {
  return COMMAND_TYPES.has(m.type);
}

interface Transition {
  readonly state: SagaState;
  readonly commands: SagaCommand[];
}

const same = (state: SagaState, ...commands: SagaCommand[]): Transition => ({ state, commands });
const log = (level: 'info' | 'warn' | 'error', event: string, detail: string): SagaCommand => ({
  type: 'Log',
  level,
  event,
  detail,
});

function transition(s: SagaState, m: SagaMessage): Transition {
  switch (m.type) {
    case 'SagaStarted': {
      if (!s.request) throw new Error('a saga starts with its request');
      return same(withEvent(changed(s, { stage: 'Scheduling' }), 'DeliveryRequested', s.request, m.at));
    }
    case 'RecoveryStarted': {
      if (s.end)
        return same(
          s,
          log('info', 'saga.recovery', `finishing a dead saga that had decided ${s.end.outcome}: ${m.reason}`),
        );
      return fixEnd(s, { outcome: 'Failed', code: 'SupervisorRecovered', reason: m.reason }, m.at);
    }
    case 'StepSucceeded':
      return stepSucceeded(changed(s, { work: undefined, round: 0 }), m);
    case 'StepFailed': {
      const freed = changed(s, { work: undefined, round: 0 });
      return freed.end
        ? same(freed)
        : fixEnd(freed, { outcome: 'Failed', code: 'StepFailed', reason: `${m.step} failed: ${m.error}` }, m.at);
    }
    case 'EventSent': {
      const head = s.outbox[0];
      const outbox = head && head.sequence === m.sequence ? s.outbox.slice(1) : s.outbox;
      return same(changed(s, { outbox, work: undefined, round: 0 }));
    }
    case 'EventSendFailed':
      return retryRound(changed(s, { work: undefined }), m.at, `event ${m.sequence}`, m.error);
    case 'Compensated':
      return same(compensated(changed(s, { work: undefined, round: 0 }), m.compensation, m.result, m.at));
    case 'CompensationFailed': {
      const freed = changed(s, { work: undefined });
      const round = freed.round + 1;
      if (round < freed.compensationRounds) return retryRound(freed, m.at, m.compensation, m.error);
      const reason = `${m.compensation} still failing after ${round} rounds: ${m.error}`;
      const stuck = changed(freed, {
        round: 0,
        compensated: [...freed.compensated, m.compensation],
        end: { outcome: 'Failed', code: 'CompensationStuck', reason },
      });
      return same(stuck, log('error', 'saga.compensation.stuck', reason));
    }
    case 'ClosingCallSucceeded': {
      const freed = changed(s, { work: undefined, round: 0, closed: [...s.closed, m.call] });
      if (m.call !== 'CompleteDelivery') return same(freed);
      const droneId = m.result.releasedDroneId ?? s.droneId;
      return same(droneId ? withEvent(freed, 'DroneReleased', { droneId, reason: 'delivery completed' }, m.at) : freed);
    }
    case 'ClosingCallFailed':
      return retryRound(changed(s, { work: undefined }), m.at, m.call, m.error);
    case 'MilestoneReported':
      return milestone(s, m, m.at);
    case 'CancelRequested': {
      if (s.end) return same(s, log('info', 'saga.cancel.ignored', `outcome already ${s.end.outcome}`));
      return fixEnd(
        s,
        { outcome: 'Cancelled', reason: m.requestedBy ? `cancelled by ${m.requestedBy}` : 'cancelled on request' },
        m.at,
      );
    }
    case 'CompensationRequested': {
      if (s.end) return same(s, log('info', 'saga.supervisor.ignored', `outcome already ${s.end.outcome}`));
      return fixEnd(s, { outcome: 'Failed', code: 'SupervisorTimeout', reason: m.reason }, m.at);
    }
    case 'TimerFired':
      return timerFired(s, m.timer, m.at);
    default:
      return assertNever(m, 'saga message');
  }
}

function stepSucceeded(s: SagaState, m: Extract<SagaMessage, { type: 'StepSucceeded' }>): Transition {
  const done = (step: ForwardStep): readonly ForwardStep[] =>
    s.completedSteps.includes(step) ? s.completedSteps : [...s.completedSteps, step];
  switch (m.step) {
    case 'CreatePackage': {
      const r = m.result;
      if (!r.ok) return s.end ? same(s) : fixEnd(s, { outcome: 'Failed', code: r.code, reason: r.reason }, m.at);
      const pkg = requestOf(s).package;
      return same(
        withEvent(
          changed(s, { completedSteps: done('CreatePackage'), packageId: r.packageId }),
          'PackageCreated',
          { packageId: r.packageId, size: pkg.size, weightKg: pkg.weightKg },
          m.at,
        ),
      );
    }
    case 'AssignDrone': {
      const r = m.result;
      if (r.assigned) {
        return same(
          withEvent(
            changed(s, { completedSteps: done('AssignDrone'), droneId: r.droneId, dronePosition: r.dronePosition }),
            'DroneAssigned',
            { droneId: r.droneId, distanceToPickupM: r.distanceToPickupM },
            m.at,
          ),
        );
      }
      if (s.end) return same(s);
      const sla = slaOf(s);
      const nextTry = Date.parse(m.at) + sla.assignmentRetryMs;
      if (s.assignGiveUpAt === undefined || nextTry > Date.parse(s.assignGiveUpAt)) {
        return fixEnd(
          s,
          {
            outcome: 'Failed',
            code: 'NoDroneAvailable',
            reason: `no drone became available within ${Math.round(sla.assignmentSlaMs / 60_000)} min (${r.reason})`,
          },
          m.at,
        );
      }
      return same(s, { type: 'ArmTimer', timer: 'Retry', fireAt: iso(nextTry) });
    }
    case 'ScheduleDelivery': {
      const r = m.result;
      if (!r.ok) return s.end ? same(s) : fixEnd(s, { outcome: 'Failed', code: r.code, reason: r.reason }, m.at);
      const droneId = s.droneId ?? '';
      const scheduled = withEvent(
        changed(s, { completedSteps: done('ScheduleDelivery') }),
        'DeliveryScheduled',
        { droneId, pickupEta: r.pickupEta, dropoffEta: r.dropoffEta },
        m.at,
      );
      if (scheduled.end) return same(scheduled);
      const { pickupBy, deliverBy } = milestoneDeadlines(new Date(m.at), requestOf(s), slaOf(s));
      let t: Transition = same(
        changed(scheduled, { stage: 'Scheduled', early: [] }),
        { type: 'ArmTimer', timer: 'PickupSla', fireAt: pickupBy.toISOString() },
        { type: 'ArmTimer', timer: 'DeliverySla', fireAt: deliverBy.toISOString() },
      );
      for (const report of s.early) {
        const next = milestone(t.state, report, m.at);
        t = { state: next.state, commands: [...t.commands, ...next.commands] };
      }
      return t;
    }
    default:
      return assertNever(m, 'forward step');
  }
}

function milestone(s: SagaState, report: MilestoneReport, at: string): Transition {
  const what = `${report.milestone} from drone ${report.droneId ?? '(none)'}`;
  if (s.end) return same(s, log('info', 'saga.milestone.ignored', `${what}: outcome already ${s.end.outcome}`));
  if (report.droneId === undefined) return same(s, log('warn', 'saga.milestone.ignored', `${what}: no drone named`));
  // Before the saga knows its drone, no report can be told apart from a wrong drone's: none counts.
  if (s.droneId === undefined || report.droneId !== s.droneId) {
    return same(
      s,
      log('warn', 'saga.milestone.wrongDrone', `${what}: the delivery's drone is ${s.droneId ?? 'not assigned yet'}`),
    );
  }
  if (s.stage === 'Requested' || s.stage === 'Scheduling') {
    // Possible when a drone reports before the saga has seen its schedule confirmed: kept until then.
    if (s.early.some((e) => e.milestone === report.milestone)) return same(s);
    return same(changed(s, { early: [...s.early, report] }));
  }
  const next = applyMilestone(s.stage, report.milestone);
  if (!next) return same(s, log('info', 'saga.milestone.ignored', `${what}: late or duplicate at stage ${s.stage}`));
  const data: MilestoneData = {
    droneId: report.droneId,
    ...(report.position ? { position: report.position } : {}),
    ...(report.reportedAt ? { reportedAt: report.reportedAt } : {}),
  };
  const advanced = withEvent(changed(s, { stage: next }), report.milestone, data, at);
  const commands: SagaCommand[] = [];
  if (advanced.timers.PickupSla !== undefined) commands.push({ type: 'CancelTimer', timer: 'PickupSla' });
  if (next !== 'Delivered') return same(advanced, ...commands);
  if (advanced.timers.DeliverySla !== undefined) commands.push({ type: 'CancelTimer', timer: 'DeliverySla' });
  return same(changed(advanced, { end: { outcome: 'Delivered' } }), ...commands);
}

function timerFired(s: SagaState, timer: SagaTimer, at: string): Transition {
  const fireAt = s.timers[timer];
  if (fireAt === undefined) return same(s); // canceled since it was armed
  const fired = changed(s, { timers: withTimer(s.timers, timer, undefined) });
  switch (timer) {
    case 'Retry':
      return same(fired);
    case 'PickupSla':
      if (fired.end || fired.stage !== 'Scheduled') return same(fired);
      return fixEnd(
        fired,
        { outcome: 'Failed', code: 'PickupSlaExceeded', reason: `package not picked up by ${fireAt}` },
        at,
      );
    case 'DeliverySla':
      if (fired.end) return same(fired);
      return fixEnd(
        fired,
        { outcome: 'Failed', code: 'DeliverySlaExceeded', reason: `delivery not completed by ${fireAt}` },
        at,
      );
    default:
      return assertNever(timer, 'saga timer');
  }
}

/** Fixes the outcome (once): the SLA timers and any wait for a free drone stop; compensation follows. */
function fixEnd(s: SagaState, end: Exclude<SagaEnd, { outcome: 'Delivered' }>, _at: string): Transition {
  const commands: SagaCommand[] = [];
  if (s.timers.PickupSla !== undefined) commands.push({ type: 'CancelTimer', timer: 'PickupSla' });
  if (s.timers.DeliverySla !== undefined) commands.push({ type: 'CancelTimer', timer: 'DeliverySla' });
  // A retry wait with nothing left to send is a wait for a free drone: it has no reason to go on.
  if (s.timers.Retry !== undefined && s.outbox.length === 0 && !s.work)
    commands.push({ type: 'CancelTimer', timer: 'Retry' });
  const stage: SagaStage = isFinished(s.stage) ? s.stage : 'Compensating';
  return same(changed(s, { end, stage, early: [] }), ...commands);
}

function retryRound(s: SagaState, at: string, what: string, error: string): Transition {
  const round = s.round + 1;
  const wait = roundWaitMs(round);
  return same(
    changed(s, { round }),
    log('warn', 'saga.retry', `${what} failed (round ${round}), again in ${Math.round(wait / 1000)} s: ${error}`),
    { type: 'ArmTimer', timer: 'Retry', fireAt: iso(Date.parse(at) + wait) },
  );
}

function compensated(s: SagaState, c: Compensation, result: CompensationResult, at: string): SagaState {
  const done = changed(s, { compensated: s.compensated.includes(c) ? s.compensated : [...s.compensated, c] });
  const reason = endReason(s);
  // Only a step the stream announced gets its undoing announced; an attempt that never answered is undone silently.
  switch (c) {
    case 'CancelPackage':
      if (!s.completedSteps.includes('CreatePackage')) return done;
      return withEvent(
        done,
        'PackageCancelled',
        { packageId: result.undone ?? s.packageId ?? `pkg-${s.deliveryId}`, reason },
        at,
      );
    case 'ReleaseDrone':
      if (!s.completedSteps.includes('AssignDrone')) return done;
      return withEvent(done, 'DroneReleased', { droneId: result.undone ?? s.droneId ?? 'unknown', reason }, at);
    case 'CancelDeliverySchedule':
      // The delivery's own terminal event (cancelled or failed) tells this step's story.
      return done;
    default:
      return assertNever(c, 'compensation');
  }
}

/** The next piece of work once nothing is in flight or waiting. */
function nextWork(s: SagaState, at: string): SagaCommand[] {
  if (s.done || s.work || s.timers.Retry !== undefined) return [];
  const head = s.outbox[0];
  if (head) return [{ type: 'EmitEvent', event: head }];
  const end = s.end;
  if (!end) {
    if (s.stage !== 'Requested' && s.stage !== 'Scheduling') return []; // waiting for milestones
    const step = FORWARD_STEPS.find((f) => !s.completedSteps.includes(f));
    return step ? [forwardCall(s, step, at)] : [];
  }
  if (end.outcome === 'Delivered') return closing(s, CLOSING_CALLS_DELIVERED, at);
  const undo = [...s.attemptedSteps]
    .reverse()
    .map((step) => COMPENSATION_OF[step])
    .find((c) => !s.compensated.includes(c));
  if (undo)
    return [{ type: 'Compensate', compensation: undo, input: { deliveryId: s.deliveryId, reason: end.reason, at } }];
  if (!isFinished(s.stage)) {
    const event =
      end.outcome === 'Cancelled'
        ? deliveryEvent('DeliveryCancelled', s.deliveryId, s.sequence + 1, at, s.correlationId, { reason: end.reason })
        : deliveryEvent('DeliveryFailed', s.deliveryId, s.sequence + 1, at, s.correlationId, {
            reason: end.reason,
            code: end.code,
          });
    return [{ type: 'EmitEvent', event }];
  }
  return closing(s, CLOSING_CALLS_UNDONE, at);
}

function closing(s: SagaState, calls: readonly ClosingCall[], at: string): SagaCommand[] {
  const end = s.end;
  if (!end) return [];
  const call = calls.find((c) => !s.closed.includes(c));
  if (call === 'CompleteDelivery') return [{ type: 'CallAgent', agent: call, input: { deliveryId: s.deliveryId, at } }];
  if (call === 'CloseIntake') {
    return [
      {
        type: 'CallAgent',
        agent: call,
        input: {
          deliveryId: s.deliveryId,
          at,
          outcome: end.outcome,
          ...(end.outcome === 'Failed' ? { failureCode: end.code } : {}),
        },
      },
    ];
  }
  return [
    {
      type: 'Complete',
      result: {
        deliveryId: s.deliveryId,
        outcome: end.outcome,
        ...(end.outcome !== 'Delivered' ? { reason: end.reason } : {}),
      },
    },
  ];
}

function forwardCall(s: SagaState, step: ForwardStep, at: string): SagaCommand {
  const request = requestOf(s);
  switch (step) {
    case 'CreatePackage':
      return { type: 'CallAgent', agent: step, input: { deliveryId: s.deliveryId, package: request.package, at } };
    case 'AssignDrone':
      return { type: 'CallAgent', agent: step, input: { deliveryId: s.deliveryId, pickup: request.pickup, at } };
    case 'ScheduleDelivery':
      return {
        type: 'CallAgent',
        agent: step,
        input: {
          deliveryId: s.deliveryId,
          droneId: s.droneId ?? '',
          pickup: request.pickup,
          dropoff: request.dropoff,
          ...(request.deadline !== undefined ? { deadline: request.deadline } : {}),
          at,
          ...(s.dronePosition !== undefined ? { dronePosition: s.dronePosition } : {}),
        },
      };
    default:
      return assertNever(step, 'forward step');
  }
}

function applyCommand(s: SagaState, c: SagaCommand): SagaState {
  switch (c.type) {
    case 'CallAgent': {
      const step = (FORWARD_STEPS as readonly string[]).includes(c.agent) ? (c.agent as ForwardStep) : undefined;
      const attemptedSteps = step && !s.attemptedSteps.includes(step) ? [...s.attemptedSteps, step] : s.attemptedSteps;
      const work: Work = { kind: 'agent', agent: c.agent };
      return step === 'AssignDrone' && s.assignGiveUpAt === undefined
        ? changed(s, { assignGiveUpAt: iso(Date.parse(c.input.at) + slaOf(s).assignmentSlaMs), attemptedSteps, work })
        : changed(s, { attemptedSteps, work });
    }
    case 'EmitEvent': {
      const known = s.outbox.some((e) => e.sequence === c.event.sequence);
      const outbox = known ? s.outbox : [...s.outbox, c.event];
      const stage =
        c.event.type === 'DeliveryCancelled' ? 'Cancelled' : c.event.type === 'DeliveryFailed' ? 'Failed' : s.stage;
      return changed(s, {
        outbox,
        stage,
        sequence: Math.max(s.sequence, c.event.sequence),
        work: { kind: 'emit', sequence: c.event.sequence },
      });
    }
    case 'Compensate':
      return changed(s, { work: { kind: 'compensate', compensation: c.compensation } });
    case 'ArmTimer':
      return changed(s, { timers: withTimer(s.timers, c.timer, c.fireAt) });
    case 'CancelTimer':
      return changed(s, { timers: withTimer(s.timers, c.timer, undefined) });
    case 'Complete':
      return changed(s, { done: true });
    case 'Log':
      return s;
    default:
      return assertNever(c, 'saga command');
  }
}

/** The timers with one set to a time or cleared (undefined); every timer keeps its key, like the state's. */
function withTimer(t: SagaState['timers'], timer: SagaTimer, fireAt: string | undefined): SagaState['timers'] {
  const next = { PickupSla: t.PickupSla, DeliverySla: t.DeliverySla, Retry: t.Retry };
  next[timer] = fireAt;
  return next;
}

function withEvent<K extends Parameters<typeof deliveryEvent>[0]>(
  s: SagaState,
  type: K,
  data: Parameters<typeof deliveryEvent<K>>[5],
  at: string,
): SagaState {
  const event = deliveryEvent(type, s.deliveryId, s.sequence + 1, at, s.correlationId, data) as DeliveryEvent;
  return changed(s, { sequence: event.sequence, outbox: [...s.outbox, event] });
}

function endReason(s: SagaState): string {
  return s.end && s.end.outcome !== 'Delivered' ? s.end.reason : 'compensated';
}

function requestOf(s: SagaState): DeliveryRequestedData {
  if (!s.request) throw new Error(`saga ${s.deliveryId} has no request to go forward with`);
  return s.request;
}

function slaOf(s: SagaState): SlaSettings {
  if (!s.sla) throw new Error(`saga ${s.deliveryId} has no SLA settings to go forward with`);
  return s.sla;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
