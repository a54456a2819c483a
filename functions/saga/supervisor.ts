/**
 * The supervisor's run (Scheduler-Agent-Supervisor): find the sagas that are not finished,
 * ask the pure verdict what to do with each, and do it. Every action is safe to repeat, so
 * two supervisors running at once do no harm: a cancel raised twice is handled once, a
 * recovery started twice is refused the second time, a resume of a running saga is a no-op.
 *
 * Its cost follows the sagas that may need it, not the sagas in flight: running sagas are asked
 * for only once they are old enough to be past their complete-by (`runningQuietMs` plus grace
 * after their request, which is at most INTAKE_START_GRACE_MS before their creation), pending
 * ones once they could have waited too long, and the intake and recovery behind a saga are read
 * only when its verdict depends on them.
 */
import { superviseSaga } from '../../domain/delivery/supervisor';
import type { SupervisorPolicy, Verdict } from '../../domain/delivery/supervisor';
import type { RetryPolicy } from '../../domain/shared/retry';
import type { AppConfig } from '../config';
import { ORCHESTRATIONS, recoveryInstanceId, SAGA_EVENTS } from '../names';
import type { RecoveryInput } from './contracts';
import { NOT_STARTED } from './intake';
import type { IntakeRecords, Sagas, SagaStatus } from '../../domain/delivery/ports';

export interface SupervisorDeps {
  readonly sagas: Sagas;
  readonly intakes: IntakeRecords;
  readonly now: () => Date;
  readonly policy: SupervisorPolicy;
  readonly retry: RetryPolicy;
  /** How far back to look for unfinished sagas. */
  readonly lookbackMs: number;
  /** The earliest a saga's complete-by can fall after its request (assignment SLA plus the longer of pickup and delivery). */
  readonly runningQuietMs: number;
  readonly log: (entry: Record<string, unknown>) => void;
}

/** The supervisor's settings as the app configures them; `now` and `log` come from the caller. */
export function supervisorDeps(
  c: { readonly config: AppConfig; intakes(): IntakeRecords },
  sagas: Sagas,
  now: () => Date,
  log: (entry: Record<string, unknown>) => void,
): SupervisorDeps {
  const saga = c.config.saga;
  return {
    sagas,
    intakes: c.intakes(),
    now,
    policy: { graceMs: saga.supervisorGraceMs, escalateAfterMs: 15 * 60_000, pendingTooLongMs: 15 * 60_000 },
    retry: saga.stepRetry,
    lookbackMs: 30 * 86_400_000,
    runningQuietMs: saga.assignmentSlaMs + Math.max(saga.pickupSlaMs, saga.deliverySlaMs),
    log,
  };
}

export type SupervisorReport = Record<Verdict['action'], number> & {
  readonly examined: number;
  /** Intake records closed because their saga never started or had finished without closing them. */
  readonly intakesClosed: number;
};

/** How long an intake may wait for its saga to appear before it stops counting in flight. */
export const INTAKE_START_GRACE_MS = 5 * 60_000;

/** What computing a run's verdicts reads: listings and point reads, nothing written. */
export type SupervisorReads = Pick<SupervisorDeps, 'policy' | 'lookbackMs' | 'runningQuietMs'> & {
  readonly sagas: Pick<Sagas, 'list' | 'status'>;
  readonly intakes: Pick<IntakeRecords, 'get'>;
};

export interface SagaVerdict {
  readonly saga: SagaStatus;
  readonly verdict: Verdict;
}

/**
 * The verdicts of one run as of `now`, without acting on any: the candidates (running sagas old
 * enough to be overdue, pending ones that could have waited too long, dead and suspended ones),
 * each with the pure verdict over what it needs read. The timer run acts on these; the console
 * shows them.
 */
export async function supervisorVerdicts(deps: SupervisorReads, now: Date): Promise<SagaVerdict[]> {
  const ago = (ms: number): Date => new Date(now.getTime() - ms);
  const createdFrom = ago(deps.lookbackMs);
  const candidates = [
    // A saga starts within INTAKE_START_GRACE_MS of its request (else its intake is closed as
    // never started), so one created later than this cannot be past its complete-by yet.
    ...(await deps.sagas.list({
      runtimeStatus: ['Running'],
      createdFrom,
      createdTo: ago(Math.max(0, deps.runningQuietMs + deps.policy.graceMs - INTAKE_START_GRACE_MS)),
    })),
    ...(await deps.sagas.list({
      runtimeStatus: ['Pending'],
      createdFrom,
      createdTo: ago(deps.policy.pendingTooLongMs),
    })),
    ...(await deps.sagas.list({ runtimeStatus: ['Failed', 'Terminated', 'Suspended'], createdFrom })),
  ];
  const verdicts: SagaVerdict[] = [];
  for (const saga of candidates) {
    if (saga.name && saga.name !== ORCHESTRATIONS.deliverySaga) continue;
    verdicts.push({ saga, verdict: await verdictOn(saga, deps, now) });
  }
  return verdicts;
}

async function verdictOn(saga: SagaStatus, deps: SupervisorReads, now: Date): Promise<Verdict> {
  const dead =
    saga.runtimeStatus === 'Failed' || saga.runtimeStatus === 'Terminated' || saga.runtimeStatus === 'Unknown';
  const overdue =
    saga.runtimeStatus === 'Running' &&
    saga.progress !== undefined &&
    now.getTime() > Date.parse(saga.progress.completeBy) + deps.policy.graceMs;
  // Only a dead saga's verdict reads its recovery and intake, and only an overdue one's its intake.
  const deadUnfinished = dead && !saga.progress?.finished;
  const [intake, recovery] = await Promise.all([
    deadUnfinished || overdue ? deps.intakes.get(saga.instanceId) : undefined,
    deadUnfinished ? deps.sagas.status(recoveryInstanceId(saga.instanceId)) : undefined,
  ]);
  return superviseSaga(
    {
      instanceId: saga.instanceId,
      runtimeStatus: saga.runtimeStatus,
      createdAt: saga.createdAt,
      lastUpdatedAt: saga.lastUpdatedAt,
      ...(saga.progress ? { progress: saga.progress } : {}),
      recoveryExists: recovery !== undefined,
      ...(recovery ? { recoveryStatus: recovery.runtimeStatus } : {}),
      intakeClosed: intake !== undefined && !intake.active,
      ...(intake?.supervisorRequestedAt ? { supervisorRequestedAt: new Date(intake.supervisorRequestedAt) } : {}),
    },
    now,
    deps.policy,
  );
}

export async function superviseOnce(deps: SupervisorDeps): Promise<SupervisorReport> {
  const now = deps.now();
  const report = { examined: 0, none: 0, requestCompensation: 0, recover: 0, resume: 0, alert: 0, intakesClosed: 0 };
  for (const { saga, verdict } of await supervisorVerdicts(deps, now)) {
    report.examined++;
    if (
      verdict.action === 'recover' &&
      !(saga.progress && (await deps.intakes.claimRecovery(saga.instanceId, now.toISOString())))
    ) {
      // Another supervisor claimed this recovery first (or there is no progress to recover from).
      report.none++;
      continue;
    }
    report[verdict.action]++;
    if (verdict.action === 'none') continue;
    deps.log({
      event: verdict.action === 'alert' ? 'alert' : 'supervisor.verdict',
      deliveryId: saga.instanceId,
      runtimeStatus: saga.runtimeStatus,
      stage: saga.progress?.stage,
      ...verdict,
    });
    switch (verdict.action) {
      case 'requestCompensation':
        await deps.intakes.markSupervised(saga.instanceId, now.toISOString());
        await deps.sagas.signal(saga.instanceId, SAGA_EVENTS.supervisorCompensate, {
          reason: verdict.reason,
          at: now.toISOString(),
        });
        break;
      case 'recover': {
        if (!saga.progress) break;
        const input: RecoveryInput = {
          deliveryId: saga.instanceId,
          correlationId: saga.progress.outbox[0]?.correlationId ?? saga.instanceId,
          reason: verdict.reason,
          progress: saga.progress,
          retry: deps.retry,
        };
        await deps.sagas.start(ORCHESTRATIONS.deliveryRecovery, recoveryInstanceId(saga.instanceId), input);
        break;
      }
      case 'resume':
        await deps.sagas.resume(saga.instanceId, verdict.reason);
        break;
      case 'alert':
        break;
      default: {
        const _exhaustive: never = verdict;
        return _exhaustive;
      }
    }
  }
  report.intakesClosed = await reconcileIntakes(deps, now);
  for (const stuck of await deps.intakes.listStuck()) {
    report.alert++;
    deps.log({
      event: 'alert',
      deliveryId: stuck.deliveryId,
      reason: 'a compensation was given up (CompensationStuck): release its resources by hand',
    });
  }
  return report;
}

/**
 * Intake records still counted in flight whose saga never started (past a grace period), or
 * whose saga finished without closing them, stop counting. Dead sagas are the recovery's.
 */
async function reconcileIntakes(deps: SupervisorDeps, now: Date): Promise<number> {
  let closed = 0;
  for (const intake of await deps.intakes.listActive(new Date(now.getTime() - INTAKE_START_GRACE_MS).toISOString())) {
    const saga = await deps.sagas.status(intake.deliveryId);
    const outcome = !saga
      ? NOT_STARTED
      : saga.runtimeStatus === 'Completed'
        ? (saga.progress?.outcome ?? 'Completed')
        : saga.progress?.finished
          ? (saga.progress.outcome ?? 'Failed')
          : undefined;
    if (outcome === undefined) continue;
    await deps.intakes.close(intake.deliveryId, outcome);
    deps.log({ event: 'supervisor.intake.closed', deliveryId: intake.deliveryId, outcome });
    closed++;
  }
  return closed;
}
