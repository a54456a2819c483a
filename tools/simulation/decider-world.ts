/**
 * A deterministic simulation of the delivery world around the pure saga workflow, in the
 * spirit of FoundationDB's and TigerBeetle's simulators: one seed draws a scenario (deliveries,
 * a small fleet, agent latencies and faults, lost results, cancels, supervisor requests,
 * milestones duplicated, reordered, late or from the wrong drone, sagas that die and are
 * recovered, doubled supervisors) and plays it on a virtual clock through `react`, with agents
 * that behave like the real ones (idempotent, compensations safe for steps that never ran).
 * Afterwards the invariants of the saga are checked; a run is a pure function of its seed.
 *
 * The engine-level simulation (test/simulation) drives the real app on the Durable engine; this
 * one is cheap, so it carries most of the scenarios.
 *
 * Over 450 lines: the world's actors share one event queue and one seeded random stream, and
 * the order they draw from it is what makes a seed replayable; split, that order is easy to break.
 */
import { milestoneDeadlines } from '../../domain/delivery/saga';
import type { ForwardStep, SagaProgress, SagaResult } from '../../domain/delivery/saga';
import { evolve, initialSagaState, progressOf, react, recoveryState } from '../../domain/delivery/saga-workflow';
import type { SagaCommand, SagaMessage, SagaState, SagaTimer } from '../../domain/delivery/saga-workflow';
import type { DeliveryEvent } from '../../domain/delivery/events';
import { completeBy } from '../../domain/delivery/saga';
import { checkDeliveryInvariants } from './invariants';
import type { DeliveryFacts, InvariantReport } from './invariants';
import { Random } from './random';

const T0 = Date.parse('2026-11-22T10:00:00.000Z');
const MIN = 60_000;
const SLA = { pickupSlaMs: 30 * MIN, deliverySlaMs: 120 * MIN, assignmentSlaMs: 10 * MIN, assignmentRetryMs: 30_000 };
const RETRY = { attempts: 3, firstRetryMs: 1000, maxRetryMs: 60_000 };
const COMPENSATION_ROUNDS = 4;
const HORIZON_MS = 72 * 3_600_000;

export interface ScenarioResult {
  readonly seed: number;
  readonly deliveries: number;
  readonly invariants: number;
  readonly violations: readonly string[];
  readonly outcomes: Readonly<Record<string, number>>;
}

interface Knobs {
  readonly permanentStepFault: number;
  readonly roundFault: number;
  readonly stuckCompensations: boolean;
  readonly lostResult: number;
  readonly cancel: number;
  readonly supervisor: number;
  readonly kill: number;
  readonly duplicate: number;
  readonly reorder: number;
  readonly wrongDrone: number;
  readonly slowDrone: number;
}

interface Run {
  readonly deliveryId: string;
  state: SagaState;
  alive: boolean;
  /** Tokens of the work and timers this run still waits for. */
  readonly live: Set<number>;
  readonly timers: Map<SagaTimer, number>;
  result?: SagaResult;
  finishedAt?: number;
}

function describe(c: SagaCommand): string {
  switch (c.type) {
    case 'CallAgent':
      return `CallAgent:${c.agent}`;
    case 'Compensate':
      return `Compensate:${c.compensation}`;
    case 'EmitEvent':
      return `EmitEvent:${c.event.type}`;
    case 'ArmTimer':
    case 'CancelTimer':
      return `${c.type}:${c.timer}`;
    case 'Complete':
      return `Complete:${c.result.outcome}`;
    case 'Log':
      return `Log:${c.event}`;
  }
}

type Scheduled = { readonly at: number; readonly order: number; readonly fire: () => void };

export function runDeciderScenario(seed: number, trace?: (line: string) => void): ScenarioResult {
  const rnd = new Random(seed);
  const knobs: Knobs = {
    permanentStepFault: rnd.pick([0, 0, 0.05, 0.2]),
    roundFault: rnd.pick([0, 0.1, 0.3]),
    stuckCompensations: rnd.chance(0.05),
    lostResult: rnd.pick([0, 0.05, 0.15]),
    cancel: rnd.pick([0, 0.2, 0.5]),
    supervisor: rnd.pick([0, 0, 0.15]),
    kill: rnd.pick([0, 0, 0.1, 0.3]),
    duplicate: rnd.pick([0, 0.2, 0.5]),
    reorder: rnd.pick([0, 0.2, 0.5]),
    wrongDrone: rnd.pick([0, 0.1, 0.3]),
    slowDrone: rnd.pick([0, 0.05, 0.2]),
  };
  let now = T0;
  let order = 0;
  const queue: Scheduled[] = [];
  const at = (when: number, fire: () => void): void => {
    // Ties are broken by the seed, so orderings that share a moment are explored too.
    queue.push({ at: Math.max(when, now), order: order++ + rnd.next(), fire });
  };

  // ------------------------------------------------------------ the agents' stores
  const drones = Array.from({ length: rnd.int(1, 5) }, (_, i) => `drone-${i}`);
  const packages = new Map<string, 'Active' | 'Cancelled' | 'Delivered'>();
  const reservations = new Map<string, string>(); // drone → delivery
  const released = new Set<string>();
  const schedules = new Map<string, { status: 'Scheduled' | 'Cancelled' | 'Delivered'; droneId: string }>();
  const intakes = new Map<string, { active: boolean; recoveryClaimed: boolean }>();
  const published: DeliveryEvent[] = [];
  const facts = new Map<string, DeliveryFacts>();
  const runs = new Map<string, Run>();
  const recoveries = new Map<string, Run>();
  let token = 0;
  let reactions = 0;
  const reactMismatches: string[] = [];

  const reservationOf = (d: string): string | undefined => [...reservations].find(([, x]) => x === d)?.[0];
  const release = (d: string): string | undefined => {
    const drone = reservationOf(d);
    if (drone) reservations.delete(drone);
    released.add(d);
    return drone;
  };

  /** The agent's effect and answer, as the real agents behave (functions/saga/agents.ts). */
  function agent(c: Extract<SagaCommand, { type: 'CallAgent' | 'Compensate' | 'EmitEvent' }>, d: string): unknown {
    if (c.type === 'EmitEvent') {
      published.push(JSON.parse(JSON.stringify(c.event)) as DeliveryEvent);
      return null;
    }
    if (c.type === 'Compensate') {
      switch (c.compensation) {
        case 'CancelPackage': {
          const p = packages.get(d);
          if (p === 'Delivered' || p === 'Cancelled') return {};
          packages.set(d, 'Cancelled');
          return p === 'Active' ? { undone: `pkg-${d}` } : {};
        }
        case 'ReleaseDrone': {
          const drone = release(d);
          return drone ? { undone: drone } : {};
        }
        case 'CancelDeliverySchedule': {
          const s = schedules.get(d);
          schedules.set(d, { status: 'Cancelled', droneId: s?.droneId ?? '' });
          return s?.status === 'Scheduled' ? { undone: d } : {};
        }
      }
    }
    switch (c.agent) {
      case 'CreatePackage':
        if (packages.get(d) === 'Cancelled') return { ok: false, code: 'PackageCancelled', reason: 'cancelled' };
        if (!packages.has(d)) packages.set(d, 'Active');
        return { ok: true, packageId: `pkg-${d}` };
      case 'AssignDrone': {
        const held = reservationOf(d);
        if (held) return { assigned: true, droneId: held, distanceToPickupM: 10 };
        if (released.has(d)) return { assigned: false, reason: 'released' };
        const free = drones.filter((x) => !reservations.has(x));
        if (free.length === 0) return { assigned: false, reason: 'every drone in reach is reserved' };
        const drone = rnd.pick(free);
        reservations.set(drone, d);
        return { assigned: true, droneId: drone, distanceToPickupM: 10 };
      }
      case 'ScheduleDelivery': {
        const s = schedules.get(d);
        if (s?.status === 'Cancelled') return { ok: false, code: 'DeliveryCancelled', reason: 'cancelled' };
        const droneId = String(c.input.droneId);
        if (!s) schedules.set(d, { status: 'Scheduled', droneId });
        fly(d, droneId);
        return {
          ok: true,
          pickupEta: new Date(now + 5 * MIN).toISOString(),
          dropoffEta: new Date(now + 20 * MIN).toISOString(),
        };
      }
      case 'CompleteDelivery': {
        schedules.set(d, { status: 'Delivered', droneId: schedules.get(d)?.droneId ?? '' });
        if (packages.get(d) === 'Active') packages.set(d, 'Delivered');
        const drone = release(d);
        return drone ? { releasedDroneId: drone } : {};
      }
      case 'CloseIntake': {
        const i = intakes.get(d);
        if (i) i.active = false;
        return null;
      }
    }
  }

  const FORWARD: ReadonlySet<string> = new Set<ForwardStep>(['CreatePackage', 'AssignDrone', 'ScheduleDelivery']);

  function perform(run: Run, c: Extract<SagaCommand, { type: 'CallAgent' | 'Compensate' | 'EmitEvent' }>): void {
    const t = ++token;
    run.live.add(t);
    const d = run.deliveryId;
    const forward = c.type === 'CallAgent' && FORWARD.has(c.agent);
    const fails =
      c.type === 'Compensate' && knobs.stuckCompensations
        ? true
        : forward
          ? rnd.chance(knobs.permanentStepFault)
          : rnd.chance(knobs.roundFault);
    const latency = rnd.chance(0.2) ? rnd.int(MIN, 10 * MIN) : rnd.int(100, 5_000);
    const complete = (delay: number): void =>
      at(now + delay, () => {
        if (!run.live.has(t) || !run.alive) return;
        if (rnd.chance(knobs.lostResult)) {
          // The worker died after the activity ran: it runs again later (at least once).
          agent(c, d);
          complete(rnd.int(1_000, 60_000));
          return;
        }
        // A failing call may still have written before it failed.
        const result = !fails || rnd.chance(0.5) ? agent(c, d) : undefined;
        run.live.delete(t);
        deliver(run, fails ? failure(c, 'injected fault') : success(c, result));
      });
    complete(latency);
  }

  function success(
    c: Extract<SagaCommand, { type: 'CallAgent' | 'Compensate' | 'EmitEvent' }>,
    result: unknown,
  ): SagaMessage {
    const when = new Date(now).toISOString();
    if (c.type === 'EmitEvent') return { type: 'EventSent', sequence: c.event.sequence, at: when };
    if (c.type === 'Compensate')
      return { type: 'Compensated', compensation: c.compensation, result: (result ?? {}) as never, at: when };
    if (FORWARD.has(c.agent)) return { type: 'StepSucceeded', step: c.agent, result, at: when } as SagaMessage;
    return {
      type: 'ClosingCallSucceeded',
      call: c.agent as 'CompleteDelivery' | 'CloseIntake',
      result: (result ?? {}) as never,
      at: when,
    };
  }

  function failure(
    c: Extract<SagaCommand, { type: 'CallAgent' | 'Compensate' | 'EmitEvent' }>,
    error: string,
  ): SagaMessage {
    const when = new Date(now).toISOString();
    if (c.type === 'EmitEvent') return { type: 'EventSendFailed', sequence: c.event.sequence, error, at: when };
    if (c.type === 'Compensate') return { type: 'CompensationFailed', compensation: c.compensation, error, at: when };
    if (FORWARD.has(c.agent)) return { type: 'StepFailed', step: c.agent as ForwardStep, error, at: when };
    return { type: 'ClosingCallFailed', call: c.agent as 'CompleteDelivery' | 'CloseIntake', error, at: when };
  }

  function deliver(run: Run, message: SagaMessage): void {
    if (!run.alive || run.result) return;
    const decided = run.state.end !== undefined;
    const { state, commands } = react(run.state, message);
    // react works each message's transition out once; it must agree with decide, then evolve by message and commands.
    reactions++;
    if (JSON.stringify([message, ...commands].reduce(evolve, run.state)) !== JSON.stringify(state))
      reactMismatches.push(`${run.deliveryId}: react's state differs from evolve's after ${JSON.stringify(message)}`);
    trace?.(
      `${new Date(now).toISOString()} ${run.deliveryId} ${JSON.stringify(message)} -> ${commands.map(describe).join(', ')}`,
    );
    run.state = state;
    const f = facts.get(run.deliveryId);
    if (f && !decided && state.end) {
      f.decidedAt ??= now;
      if (message.type === 'CancelRequested') f.decidedBy = 'cancel';
      if (message.type === 'CompensationRequested') f.decidedBy = 'supervisor';
    }
    for (const c of commands) {
      switch (c.type) {
        case 'CallAgent':
        case 'Compensate':
        case 'EmitEvent':
          perform(run, c);
          break;
        case 'ArmTimer': {
          const t = ++token;
          run.timers.set(c.timer, t);
          const timer = c.timer;
          at(Date.parse(c.fireAt), () => {
            if (run.timers.get(timer) !== t) return;
            run.timers.delete(timer);
            deliver(run, { type: 'TimerFired', timer, at: new Date(now).toISOString() });
          });
          break;
        }
        case 'CancelTimer':
          run.timers.delete(c.timer);
          break;
        case 'Complete':
          run.result = c.result;
          run.finishedAt = now;
          break;
        case 'Log':
          break;
      }
    }
  }

  /** Raises a signal on the delivery's saga instance; a dead or finished saga hears nothing. */
  function signal(d: string, message: SagaMessage, kind: 'stop' | 'milestone' | 'impostor', droneId?: string): void {
    const run = runs.get(d);
    if (!run || !run.alive || run.result) return;
    const f = facts.get(d);
    if (f) {
      if (kind === 'stop' && f.firstStopAt === undefined) f.firstStopAt = now;
      // The drone the agents assigned, whether or not the saga has heard of the assignment yet.
      if (
        kind === 'milestone' &&
        droneId !== undefined &&
        droneId === (schedules.get(d)?.droneId ?? reservationOf(d))
      ) {
        f.firstReportAt ??= now;
        if (message.type === 'MilestoneReported' && message.milestone === 'DeliveryCompleted')
          f.deliveredReportAt ??= now;
      }
    }
    deliver(run, message);
  }

  /** The assigned drone flies once scheduled: three reports, perhaps duplicated, reordered or slow; it stops if its schedule is cancelled. */
  function fly(d: string, droneId: string): void {
    const f = facts.get(d);
    if (!f || f.flying) return;
    f.flying = true;
    const slow = rnd.chance(knobs.slowDrone) ? 4 : 1;
    let t = now + slow * rnd.int(MIN, 20 * MIN);
    const reports: { at: number; status: 'PickedUp' | 'EnRouteToDropoff' | 'Delivered' }[] = [];
    for (const status of ['PickedUp', 'EnRouteToDropoff', 'Delivered'] as const) {
      reports.push({ at: t, status });
      if (rnd.chance(knobs.duplicate)) reports.push({ at: t + rnd.int(0, 5 * MIN), status });
      t += slow * rnd.int(MIN, 30 * MIN);
    }
    if (rnd.chance(knobs.reorder) && reports.length > 1) {
      const i = rnd.int(0, reports.length - 2);
      const a = reports[i];
      const b = reports[i + 1];
      if (a && b) [a.at, b.at] = [b.at, a.at];
    }
    for (const r of reports) {
      at(r.at, () => {
        if (schedules.get(d)?.status === 'Cancelled') return; // the drone was told to stop
        const milestone =
          r.status === 'PickedUp'
            ? 'PackagePickedUp'
            : r.status === 'EnRouteToDropoff'
              ? 'DeliveryInTransit'
              : 'DeliveryCompleted';
        signal(
          d,
          { type: 'MilestoneReported', milestone, droneId, at: new Date(now).toISOString() },
          'milestone',
          droneId,
        );
      });
    }
  }

  // ------------------------------------------------------------ the scenario
  const count = rnd.int(1, 4);
  for (let i = 0; i < count; i++) {
    const d = `d${seed}-${i}`;
    const requestAt = T0 + rnd.int(0, 30 * MIN);
    facts.set(d, { deliveryId: d, flying: false, killed: false });
    at(requestAt, () => {
      intakes.set(d, { active: true, recoveryClaimed: false });
      const request = {
        ownerId: 'o',
        pickup: { lat: 47.61, lon: -122.33 },
        dropoff: { lat: 47.62, lon: -122.35 },
        expedited: false,
        package: { size: 'small' as const, weightKg: 1 },
      };
      const state = initialSagaState({
        deliveryId: d,
        correlationId: d,
        request,
        sla: SLA,
        retry: RETRY,
        completeBy: completeBy(new Date(now), request, SLA).toISOString(),
        compensationRounds: COMPENSATION_ROUNDS,
      });
      const run: Run = { deliveryId: d, state, alive: true, live: new Set(), timers: new Map() };
      runs.set(d, run);
      deliver(run, { type: 'SagaStarted', at: new Date(now).toISOString() });
    });
    if (rnd.chance(knobs.cancel))
      at(requestAt + rnd.int(0, 180 * MIN), () =>
        signal(d, { type: 'CancelRequested', requestedBy: 'o', at: new Date(now).toISOString() }, 'stop'),
      );
    if (rnd.chance(knobs.supervisor))
      at(requestAt + rnd.int(0, 180 * MIN), () =>
        signal(
          d,
          { type: 'CompensationRequested', reason: 'sim: supervisor', at: new Date(now).toISOString() },
          'stop',
        ),
      );
    if (rnd.chance(knobs.wrongDrone)) {
      at(requestAt + rnd.int(0, 120 * MIN), () => {
        const run = runs.get(d);
        const wrong = drones.find((x) => x !== run?.state.droneId) ?? 'drone-stranger';
        // Not a report of a flight: even when the impostor is the drone about to be assigned, it says nothing true.
        signal(
          d,
          {
            type: 'MilestoneReported',
            milestone: rnd.pick(['PackagePickedUp', 'DeliveryInTransit', 'DeliveryCompleted'] as const),
            droneId: wrong,
            at: new Date(now).toISOString(),
          },
          'impostor',
          wrong,
        );
      });
    }
    if (rnd.chance(knobs.kill)) {
      at(requestAt + rnd.int(0, 150 * MIN), () => {
        const run = runs.get(d);
        if (!run || run.result || !run.alive) return;
        run.alive = false;
        const f = facts.get(d);
        if (f) {
          f.killed = true;
          f.killedAt = now;
        }
        const progress = progressOf(run.state);
        // One or two supervisors notice; only the one that claims the intake starts the recovery.
        const supervisors = rnd.chance(0.5) ? 2 : 1;
        for (let s = 0; s < supervisors; s++) at(now + rnd.int(MIN, 10 * MIN), () => recover(d, progress));
      });
    }
  }

  function recover(d: string, progress: SagaProgress): void {
    const intake = intakes.get(d);
    const dead = runs.get(d);
    if (intake && !intake.active && dead && !dead.result && progress.outcome) {
      // Closing the intake is the saga's last step: it had finished all but saying so.
      dead.result = { deliveryId: d, outcome: progress.outcome };
      dead.finishedAt = now;
      return;
    }
    if (!intake || !intake.active || intake.recoveryClaimed || recoveries.has(d)) return;
    intake.recoveryClaimed = true;
    const run: Run = {
      deliveryId: d,
      state: recoveryState({
        deliveryId: d,
        correlationId: d,
        progress,
        retry: RETRY,
        compensationRounds: COMPENSATION_ROUNDS,
      }),
      alive: true,
      live: new Set(),
      timers: new Map(),
    };
    recoveries.set(d, run);
    deliver(run, { type: 'RecoveryStarted', reason: 'sim: the saga died', at: new Date(now).toISOString() });
  }

  while (queue.length > 0) {
    queue.sort((a, b) => a.at - b.at || a.order - b.order);
    const next = queue.shift();
    if (!next || next.at > T0 + HORIZON_MS) break;
    now = next.at;
    next.fire();
  }

  // ------------------------------------------------------------ the invariants
  const violations: string[] = [...reactMismatches];
  let invariants = reactions;
  const outcomes: Record<string, number> = {};
  for (const [d, f] of facts) {
    const run = recoveries.get(d) ?? runs.get(d);
    const scheduledEvent = published.find((e) => e.deliveryId === d && e.type === 'DeliveryScheduled');
    const deadlines =
      scheduledEvent && runs.get(d)?.state.request
        ? milestoneDeadlines(new Date(scheduledEvent.occurredAt), runs.get(d)?.state.request as never, SLA)
        : undefined;
    const report: InvariantReport = checkDeliveryInvariants({
      facts: f,
      ...(run?.result ? { result: run.result } : {}),
      events: published.filter((e) => e.deliveryId === d),
      holdsDrone: reservationOf(d) !== undefined,
      packageActive: packages.get(d) === 'Active',
      ...(deadlines ? { pickupBy: deadlines.pickupBy.getTime(), deliverBy: deadlines.deliverBy.getTime() } : {}),
      ...(run?.finishedAt !== undefined ? { finishedAt: run.finishedAt } : {}),
      ...(run ? { completeBy: Date.parse(run.state.completeBy) } : {}),
      ...(run?.state.end?.outcome === 'Failed' ? { failureCode: run.state.end.code } : {}),
    });
    invariants += report.checked;
    violations.push(...report.violations.map((v) => `${d}: ${v}`));
    const key = run?.result
      ? `${run.result.outcome}${run.state.end && run.state.end.outcome === 'Failed' ? `:${run.state.end.code}` : ''}`
      : 'Unfinished';
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  }
  return { seed, deliveries: facts.size, invariants, violations, outcomes };
}
