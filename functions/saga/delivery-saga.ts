/**
 * The scheduler: one orchestration per delivery (instance id = delivery id). Forward steps
 * CreatePackage → AssignDrone → ScheduleDelivery, each an agent activity with retries; then
 * the milestones raised by telemetry ingestion, raced against the pickup and delivery SLA
 * timers and against a cancel (from the API or the supervisor). A permanent failure or a
 * cancel runs the compensations of exactly the completed steps, in reverse. The saga is the
 * only writer of its delivery's event stream; its progress is its custom status.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, Task, TimerTask } from 'durable-functions';
import type { MilestoneData } from '../../domain/delivery/events';
import { applyMilestone, completeBy, milestoneDeadlines, MILESTONE_EVENTS } from '../../domain/delivery/saga';
import type { ForwardStep, MilestoneEventName, SagaEnd } from '../../domain/delivery/saga';
import { ACTIVITIES, ORCHESTRATIONS, SAGA_EVENTS } from '../names';
import type {
  AssignDroneInput,
  AssignDroneResult,
  CreatePackageInput,
  CreatePackageResult,
  SagaInput,
  ScheduleDeliveryInput,
  ScheduleDeliveryResult,
} from './contracts';
import { SagaSession, stepRetry } from './saga-runtime';
import type { Steps } from './saga-runtime';

interface StopSignal {
  readonly end: SagaEnd;
}

function stopOf(task: Task, cancel: Task, supervisor: Task): StopSignal | undefined {
  if (task === cancel) {
    const by = (cancel.result as { requestedBy?: string } | undefined)?.requestedBy;
    return { end: { outcome: 'Cancelled', reason: by ? `cancelled by ${by}` : 'cancelled on request' } };
  }
  if (task === supervisor) {
    const reason = (supervisor.result as { reason?: string } | undefined)?.reason ?? 'stopped by the supervisor';
    return { end: { outcome: 'Failed', code: 'SupervisorTimeout', reason } };
  }
  return undefined;
}

function* deliverySaga(context: OrchestrationContext): Generator<Task, unknown, unknown> {
  const input = context.df.getInput() as SagaInput;
  const requestedAt = context.df.currentUtcDateTime;
  const s = new SagaSession(context, input.deliveryId, input.correlationId, input.retry, {
    stage: 'Requested',
    completedSteps: [],
    completeBy: completeBy(requestedAt, input.request, input.sla).toISOString(),
  });
  const cancel = context.df.waitForExternalEvent(SAGA_EVENTS.cancelRequested);
  const supervisor = context.df.waitForExternalEvent(SAGA_EVENTS.supervisorCompensate);
  const stopRequested = (): StopSignal | undefined => (cancel.isCompleted ? stopOf(cancel, cancel, supervisor) : supervisor.isCompleted ? stopOf(supervisor, cancel, supervisor) : undefined);

  yield* s.emit('DeliveryRequested', input.request);
  s.setProgress({ stage: 'Scheduling' });

  const completed: ForwardStep[] = [];
  let end: SagaEnd | undefined;
  let failedStep: ForwardStep | undefined;
  let droneId = '';

  /** Runs one forward step; a thrown activity (retries exhausted) is a permanent failure of the step. */
  function* step<R>(name: ForwardStep, activity: string, stepInput: unknown): Generator<Task, R | undefined, unknown> {
    try {
      return (yield context.df.callActivityWithRetry(activity, stepRetry(input.retry), stepInput)) as R;
    } catch (e) {
      failedStep = name;
      end = { outcome: 'Failed', code: 'StepFailed', reason: `${name} failed: ${messageOf(e)}` };
      return undefined;
    }
  }

  // 1. CreatePackage
  if (!end) {
    const stop = stopRequested();
    if (stop) end = stop.end;
  }
  if (!end) {
    const r = yield* step<CreatePackageResult>('CreatePackage', ACTIVITIES.createPackage, { deliveryId: input.deliveryId, package: input.request.package, at: s.now().toISOString() } satisfies CreatePackageInput);
    if (r && r.ok) {
      completed.push('CreatePackage');
      s.setProgress({ completedSteps: [...completed] });
      yield* s.emit('PackageCreated', { packageId: r.packageId, size: input.request.package.size, weightKg: input.request.package.weightKg });
    } else if (r && !r.ok) end = { outcome: 'Failed', code: r.code, reason: r.reason };
  }

  // 2. AssignDrone: keep looking for a free drone until the assignment SLA runs out.
  if (!end) {
    const giveUpAt = s.now().getTime() + input.sla.assignmentSlaMs;
    for (;;) {
      const stop = stopRequested();
      if (stop) {
        end = stop.end;
        break;
      }
      const r = yield* step<AssignDroneResult>('AssignDrone', ACTIVITIES.assignDrone, { deliveryId: input.deliveryId, pickup: input.request.pickup, at: s.now().toISOString() } satisfies AssignDroneInput);
      if (!r) break;
      if (r.assigned) {
        droneId = r.droneId;
        completed.push('AssignDrone');
        s.setProgress({ completedSteps: [...completed], droneId });
        yield* s.emit('DroneAssigned', { droneId, distanceToPickupM: r.distanceToPickupM });
        break;
      }
      const nextTry = s.now().getTime() + input.sla.assignmentRetryMs;
      if (nextTry > giveUpAt) {
        end = { outcome: 'Failed', code: 'NoDroneAvailable', reason: `no drone became available within ${Math.round(input.sla.assignmentSlaMs / 60_000)} min (${r.reason})` };
        break;
      }
      const wait = context.df.createTimer(new Date(nextTry));
      const winner = yield context.df.Task.any([wait, cancel, supervisor]);
      if (winner !== wait) wait.cancel();
    }
  }

  // 3. ScheduleDelivery
  if (!end) {
    const stop = stopRequested();
    if (stop) end = stop.end;
  }
  if (!end) {
    const r = yield* step<ScheduleDeliveryResult>('ScheduleDelivery', ACTIVITIES.scheduleDelivery, {
      deliveryId: input.deliveryId,
      droneId,
      pickup: input.request.pickup,
      dropoff: input.request.dropoff,
      ...(input.request.deadline !== undefined ? { deadline: input.request.deadline } : {}),
      at: s.now().toISOString(),
    } satisfies ScheduleDeliveryInput);
    if (r && r.ok) {
      completed.push('ScheduleDelivery');
      s.setProgress({ completedSteps: [...completed], stage: 'Scheduled' });
      yield* s.emit('DeliveryScheduled', { droneId, pickupEta: r.pickupEta, dropoffEta: r.dropoffEta });
    } else if (r && !r.ok) end = { outcome: 'Failed', code: r.code, reason: r.reason };
  }

  // 4. Milestones, raced against the SLA timers and a cancel.
  if (!end) end = yield* awaitMilestones(context, s, input, cancel, supervisor, droneId);

  // 5. The end: release what the delivery held, or compensate.
  if (end.outcome === 'Delivered') {
    yield* s.persistently(ACTIVITIES.completeDelivery, { deliveryId: input.deliveryId, at: s.now().toISOString() });
    const released = yield* s.persistently(ACTIVITIES.releaseDrone, s.compensationInput('delivery completed'));
    yield* s.emit('DroneReleased', { droneId: (released as { undone?: string } | undefined)?.undone ?? droneId, reason: 'delivery completed' });
  } else {
    const reason = end.reason;
    yield* s.compensate(completed, reason, failedStep);
    if (end.outcome === 'Cancelled') yield* s.emit('DeliveryCancelled', { reason });
    else yield* s.emit('DeliveryFailed', { reason, code: end.code });
  }
  s.setProgress({ stage: end.outcome, finished: true, ...(end.outcome === 'Failed' ? { failure: { code: end.code, reason: end.reason } } : {}) });
  yield* s.persistently(ACTIVITIES.closeIntake, { deliveryId: input.deliveryId, outcome: end.outcome });
  return { deliveryId: input.deliveryId, outcome: end.outcome, ...(end.outcome !== 'Delivered' ? { reason: end.reason } : {}) };
}

function* awaitMilestones(
  context: OrchestrationContext,
  s: SagaSession,
  input: SagaInput,
  cancel: Task,
  supervisor: Task,
  droneId: string,
): Generator<Task, SagaEnd, unknown> {
  const { pickupBy, deliverBy } = milestoneDeadlines(s.now(), input.request, input.sla);
  const pickupTimer: TimerTask = context.df.createTimer(pickupBy);
  const deliveryTimer: TimerTask = context.df.createTimer(deliverBy);
  const waits = new Map<Task, MilestoneEventName>(MILESTONE_EVENTS.map((m) => [context.df.waitForExternalEvent(m), m]));
  let end: SagaEnd | undefined;
  while (!end) {
    const racing: Task[] = [...waits.keys(), cancel, supervisor, deliveryTimer];
    if (s.progress.stage === 'Scheduled') racing.push(pickupTimer);
    const winner = (yield context.df.Task.any(racing)) as Task;
    const milestone = waits.get(winner);
    if (milestone) {
      waits.delete(winner);
      const next = applyMilestone(s.progress.stage, milestone);
      if (!next) continue; // a late milestone: the saga is already past it
      s.setProgress({ stage: next });
      yield* emitMilestone(s, milestone, winner.result as Partial<MilestoneData> | undefined, droneId);
      if (next === 'Delivered') end = { outcome: 'Delivered' };
      continue;
    }
    const stop = stopOf(winner, cancel, supervisor);
    if (stop) end = stop.end;
    else if (winner === pickupTimer) end = { outcome: 'Failed', code: 'PickupSlaExceeded', reason: `package not picked up by ${pickupBy.toISOString()}` };
    else if (winner === deliveryTimer) end = { outcome: 'Failed', code: 'DeliverySlaExceeded', reason: `delivery not completed by ${deliverBy.toISOString()}` };
  }
  if (!pickupTimer.isCompleted) pickupTimer.cancel();
  if (!deliveryTimer.isCompleted) deliveryTimer.cancel();
  return end;
}

function* emitMilestone(s: SagaSession, milestone: MilestoneEventName, raised: Partial<MilestoneData> | undefined, droneId: string): Steps {
  const data: MilestoneData = {
    droneId: raised?.droneId ?? droneId,
    ...(raised?.position ? { position: raised.position } : {}),
    ...((raised as { occurredAt?: string } | undefined)?.occurredAt ? { reportedAt: (raised as { occurredAt: string }).occurredAt } : {}),
  };
  yield* s.emit(milestone, data);
}

function messageOf(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.length > 300 ? `${m.slice(0, 300)}…` : m;
}

df.app.orchestration(ORCHESTRATIONS.deliverySaga, deliverySaga);
