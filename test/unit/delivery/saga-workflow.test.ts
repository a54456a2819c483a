/**
 * The saga workflow as specifications: given the messages so far, when one more arrives, then
 * these commands. Pure: no engine, no stores.
 */
import { describe, expect, it } from 'vitest';
import { initialSagaState, listensTo, progressOf, react, recoveryState } from '../../../domain/delivery/saga-workflow';
import type { SagaCommand, SagaMessage, SagaState } from '../../../domain/delivery/saga-workflow';

const T = '2026-11-22T10:00:00.000Z';
const request = {
  ownerId: 'o',
  pickup: { lat: 47.61, lon: -122.33 },
  dropoff: { lat: 47.62, lon: -122.35 },
  expedited: false,
  package: { size: 'small' as const, weightKg: 1 },
};
const sla = {
  pickupSlaMs: 30 * 60_000,
  deliverySlaMs: 120 * 60_000,
  assignmentSlaMs: 10 * 60_000,
  assignmentRetryMs: 30_000,
};
type Msg = SagaMessage extends infer M ? (M extends SagaMessage ? Omit<M, 'at'> : never) : never;

function given(...messages: Msg[]): SagaState {
  let s = initialSagaState({
    deliveryId: 'd1',
    correlationId: 'd1',
    request,
    sla,
    retry: { attempts: 3, firstRetryMs: 1000, maxRetryMs: 60_000 },
    completeBy: '2026-11-22T12:10:00.000Z',
    compensationRounds: 3,
  });
  for (const m of [{ type: 'SagaStarted' } as Msg, ...messages]) s = react(s, { ...m, at: T } as SagaMessage).state;
  return s;
}

function when(s: SagaState, m: Msg): SagaCommand[] {
  return react(s, { ...m, at: T } as SagaMessage).commands;
}

const work = (commands: readonly SagaCommand[]): string[] =>
  commands.flatMap((c) =>
    c.type === 'CallAgent'
      ? [c.agent]
      : c.type === 'Compensate'
        ? [c.compensation]
        : c.type === 'EmitEvent'
          ? [`emit ${c.event.type}`]
          : c.type === 'ArmTimer' || c.type === 'CancelTimer'
            ? [`${c.type} ${c.timer}`]
            : c.type === 'Complete'
              ? [`complete ${c.result.outcome}`]
              : [],
  );

const sent = (sequence: number): Msg => ({ type: 'EventSent', sequence });
const created: Msg[] = [
  sent(1),
  { type: 'StepSucceeded', step: 'CreatePackage', result: { ok: true, packageId: 'p1' } },
  sent(2),
];
const assigned: Msg[] = [
  ...created,
  { type: 'StepSucceeded', step: 'AssignDrone', result: { assigned: true, droneId: 'dr1', distanceToPickupM: 5 } },
  sent(3),
];
const scheduled: Msg[] = [
  ...assigned,
  { type: 'StepSucceeded', step: 'ScheduleDelivery', result: { ok: true, pickupEta: T, dropoffEta: T } },
  sent(4),
];
const milestone = (m: 'PackagePickedUp' | 'DeliveryInTransit' | 'DeliveryCompleted', droneId = 'dr1'): Msg => ({
  type: 'MilestoneReported',
  milestone: m,
  droneId,
});

describe('the delivery workflow', () => {
  it('starts by announcing the request, then creates the package once it is sent', () => {
    const s = given();
    expect(s.outbox.map((e) => e.type)).toEqual(['DeliveryRequested']);
    expect(work(when(s, sent(1)))).toEqual(['CreatePackage']);
  });

  it('once scheduled, arms both SLA timers and waits for milestones (from its drone only)', () => {
    const s = given(...assigned);
    expect(
      work(
        when(s, { type: 'StepSucceeded', step: 'ScheduleDelivery', result: { ok: true, pickupEta: T, dropoffEta: T } }),
      ),
    ).toEqual(['ArmTimer PickupSla', 'ArmTimer DeliverySla', 'emit DeliveryScheduled']);
    expect(listensTo(given(...scheduled))).toContain('DeliveryCompleted');
    expect(listensTo(given(...created))).toEqual(['CancelRequested', 'CompensationRequested']);
  });

  it("schedules from the drone's position as the assignment saw it (and without one, lets the agent read it)", () => {
    const at = { lat: 47.65, lon: -122.3 };
    const withPosition = given(...created, {
      type: 'StepSucceeded',
      step: 'AssignDrone',
      result: { assigned: true, droneId: 'dr1', distanceToPickupM: 5, dronePosition: at },
    });
    const call = when(withPosition, sent(3)).find((c) => c.type === 'CallAgent');
    expect(call).toMatchObject({ agent: 'ScheduleDelivery', input: { droneId: 'dr1', dronePosition: at } });
    const without = when(given(...assigned.slice(0, -1)), sent(3)).find((c) => c.type === 'CallAgent');
    expect(without).toMatchObject({ agent: 'ScheduleDelivery', input: { droneId: 'dr1' } });
    expect(without?.type === 'CallAgent' && 'dronePosition' in without.input).toBe(false);
  });

  it('gives every state the same keys in the same order, however it started or went on', () => {
    const started = given();
    const keys = Object.keys(started);
    expect(Object.keys(given(...scheduled, milestone('PackagePickedUp')))).toEqual(keys);
    const recovered = recoveryState({
      deliveryId: 'd1',
      correlationId: 'd1',
      progress: progressOf(given(...scheduled)),
      retry: { attempts: 3, firstRetryMs: 1000, maxRetryMs: 60_000 },
    });
    expect(Object.keys(recovered)).toEqual(keys);
  });

  it("ignores a milestone from another drone, and takes the assigned drone's", () => {
    const s = given(...scheduled);
    expect(work(when(s, milestone('DeliveryCompleted', 'intruder')))).toEqual([]);
    expect(work(when(s, milestone('DeliveryCompleted')))).toEqual([
      'CancelTimer PickupSla',
      'CancelTimer DeliverySla',
      'emit DeliveryCompleted',
    ]);
  });

  it('absorbs a milestone that arrives while an emit is in flight, and emits it next', () => {
    const s = given(...scheduled, milestone('PackagePickedUp'), milestone('DeliveryInTransit'));
    expect(s.outbox.map((e) => e.type)).toEqual(['PackagePickedUp', 'DeliveryInTransit']);
    expect(work(when(s, sent(5)))).toEqual(['emit DeliveryInTransit']);
  });

  it('closes a delivered delivery: complete it (which frees the drone), announce the release, close the intake, done', () => {
    const s = given(...scheduled, milestone('DeliveryCompleted'));
    expect(work(when(s, sent(5)))).toEqual(['CompleteDelivery']);
    const completed = given(...scheduled, milestone('DeliveryCompleted'), sent(5), {
      type: 'ClosingCallSucceeded',
      call: 'CompleteDelivery',
      result: { releasedDroneId: 'dr1' },
    });
    expect(completed.outbox.map((e) => e.type)).toEqual(['DroneReleased']);
    const closing = given(
      ...scheduled,
      milestone('DeliveryCompleted'),
      sent(5),
      { type: 'ClosingCallSucceeded', call: 'CompleteDelivery', result: {} },
      sent(6),
    );
    expect(work(when(closing, { type: 'ClosingCallSucceeded', call: 'CloseIntake', result: {} }))).toEqual([
      'complete Delivered',
    ]);
  });

  it("a cancel during a step fixes the outcome at once; the step's answer then leads to compensation of every attempted step, last first", () => {
    const s = given(...assigned.slice(0, -1));
    const cancelled = react(s, { type: 'CancelRequested', requestedBy: 'o', at: T }).state;
    expect(progressOf(cancelled)).toMatchObject({ outcome: 'Cancelled', stage: 'Compensating' });
    const afterEmit = react(cancelled, { ...sent(3), at: T } as SagaMessage);
    expect(work(afterEmit.commands)).toEqual(['ReleaseDrone']);
    expect(afterEmit.state.attemptedSteps).toEqual(['CreatePackage', 'AssignDrone']);
  });

  it('compensates a step that was called but never answered, silently', () => {
    const undo = given(...created);
    const failed = react(undo, { type: 'StepFailed', step: 'AssignDrone', error: 'boom', at: T });
    expect(work(failed.commands)).toEqual(['ReleaseDrone']);
    const released = react(failed.state, { type: 'Compensated', compensation: 'ReleaseDrone', result: {}, at: T });
    expect(released.state.outbox).toEqual([]);
    expect(work(released.commands)).toEqual(['CancelPackage']);
  });

  it('refuses a cancel once a failure is being compensated: the outcome stays Failed', () => {
    const s = given(...created, { type: 'StepFailed', step: 'AssignDrone', error: 'boom' });
    const after = react(s, { type: 'CancelRequested', at: T });
    expect(after.commands.map((c) => c.type)).toEqual(['Log']);
    expect(progressOf(after.state).outcome).toBe('Failed');
  });

  it('gives a compensation up after its rounds: the saga ends Failed with CompensationStuck', () => {
    let s = given(...created, { type: 'StepFailed', step: 'AssignDrone', error: 'boom' });
    for (let round = 1; round < 3; round++) {
      const failed = react(s, { type: 'CompensationFailed', compensation: 'ReleaseDrone', error: 'down', at: T });
      expect(work(failed.commands)).toEqual(['ArmTimer Retry']);
      s = react(failed.state, { type: 'TimerFired', timer: 'Retry', at: T }).state;
    }
    const stuck = react(s, { type: 'CompensationFailed', compensation: 'ReleaseDrone', error: 'down', at: T });
    expect(progressOf(stuck.state).failure?.code).toBe('CompensationStuck');
    expect(work(stuck.commands)).toEqual(['CancelPackage']);
  });

  it('retries the assignment until its SLA, then fails with NoDroneAvailable', () => {
    const none: Msg = { type: 'StepSucceeded', step: 'AssignDrone', result: { assigned: false, reason: 'none free' } };
    expect(work(when(given(...created), none))).toEqual(['ArmTimer Retry']);
    const late = react(given(...created), { ...none, at: '2026-11-22T10:09:45.000Z' } as SagaMessage);
    expect(progressOf(late.state).failure?.code).toBe('NoDroneAvailable');
  });

  it('recovers a dead saga from its progress: re-sends what was decided, then compensates what was attempted', () => {
    const dead = given(...created, {
      type: 'StepSucceeded',
      step: 'AssignDrone',
      result: { assigned: true, droneId: 'dr1', distanceToPickupM: 5 },
    });
    const progress = progressOf(dead);
    const r = recoveryState({
      deliveryId: 'd1',
      correlationId: 'd1',
      progress,
      retry: { attempts: 3, firstRetryMs: 1000, maxRetryMs: 60_000 },
    });
    const start = react(r, { type: 'RecoveryStarted', reason: 'died', at: '2026-11-22T11:00:00.000Z' });
    expect(start.commands.find((c) => c.type === 'EmitEvent')).toEqual({
      type: 'EmitEvent',
      event: progress.outbox[0],
    });
    expect(progressOf(start.state).failure?.code).toBe('SupervisorRecovered');
    expect(work(react(start.state, { ...sent(3), at: T } as SagaMessage).commands)).toEqual(['ReleaseDrone']);
  });
});
