/**
 * The supervisor's run (Scheduler-Agent-Supervisor): find the sagas that are not finished,
 * ask the pure verdict what to do with each, and do it. Every action is safe to repeat, so
 * two supervisors running at once do no harm: a cancel raised twice is handled once, a
 * recovery started twice is refused the second time, a resume of a running saga is a no-op.
 *
 * Its cost follows the sagas that may need it, not the sagas in flight nor the sagas of the
 * past: running sagas are asked for only once they are old enough to be past their complete-by
 * (`runningQuietMs` plus grace after their request, which is at most INTAKE_START_GRACE_MS
 * before their creation), pending ones once they could have waited too long, dead ones while
 * young or while their delivery's intake is still open past that window, and the intake and
 * recovery behind a saga only when its verdict depends on them. An intake is checked for its
 * saga's start only when the intake could not mark it started, then again only once it is that old.
 */
import { superviseSaga } from '../../domain/delivery/supervisor';
import type { SupervisorPolicy, Verdict } from '../../domain/delivery/supervisor';
import type { RetryPolicy } from '../../domain/shared/retry';
import type { AppConfig } from '../config';
import { ORCHESTRATIONS, recoveryInstanceId, SAGA_EVENTS } from '../names';
import type { RecoveryInput } from './contracts';
import { NOT_STARTED, SAGA_GONE, closedUnstarted, settlesSaga } from '../../domain/delivery/intake-record';
import type { IntakeRecord, IntakeRecords, Sagas, SagaStatus } from '../../domain/delivery/ports';

export interface SupervisorDeps {
  readonly sagas: Sagas;
  readonly intakes: IntakeRecords;
  readonly now: () => Date;
  readonly policy: SupervisorPolicy;
  readonly retry: RetryPolicy;
  /** How far back to list running, pending and suspended sagas (dead ones are listed while young, then found through their open intakes). */
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

/**
 * How much later than its saga's creation a delivery's request may be stamped: the intake and
 * the durable store keep different clocks. The window of dead sagas listed reaches back this
 * much further than the window of old intakes starts, so the two overlap and nothing falls
 * between them.
 */
export const CLOCK_SKEW_MS = 60 * 60_000;

/** What computing a run's verdicts reads: listings and point reads, nothing written. */
export type SupervisorReads = Pick<SupervisorDeps, 'policy' | 'lookbackMs' | 'runningQuietMs'> & {
  readonly sagas: Pick<Sagas, 'list' | 'status'>;
  readonly intakes: Pick<IntakeRecords, 'get' | 'listActive'>;
};

export interface SagaVerdict {
  readonly saga: SagaStatus;
  readonly verdict: Verdict;
}

interface Scan {
  readonly verdicts: SagaVerdict[];
  readonly old: OldIntake[];
  /** Delivery sagas listed running, not finished, whose intake is not among the old open ones (with it, if the run read it). */
  readonly unmatched: { readonly saga: SagaStatus; readonly intake: IntakeRecord | undefined }[];
}

/** An intake still in flight past the quiet window, and its saga as the run read it. */
interface OldIntake {
  readonly intake: IntakeRecord;
  readonly saga: SagaStatus | undefined;
}

const isDead = (s: SagaStatus): boolean =>
  s.runtimeStatus === 'Failed' || s.runtimeStatus === 'Terminated' || s.runtimeStatus === 'Unknown';

/**
 * The verdicts of one run as of `now`, without acting on any: the candidates (running sagas old
 * enough to be overdue, pending ones that could have waited too long, suspended ones, and dead
 * ones whose delivery may still be open), each with the pure verdict over what it needs read.
 * The timer run acts on these; the console shows them.
 */
export async function supervisorVerdicts(deps: SupervisorReads, now: Date): Promise<SagaVerdict[]> {
  return (await scan(deps, now)).verdicts;
}

/**
 * A dead saga needs the supervisor only while its delivery's intake is open (a closed intake
 * means whoever closed it had finished). So dead sagas are listed only while young, and an old
 * one is found through its intake, still in flight past the quiet window: settled deaths cost a
 * run nothing however many there are, and neither do young sagas in flight.
 */
async function scan(deps: SupervisorReads, now: Date): Promise<Scan> {
  const ago = (ms: number): Date => new Date(now.getTime() - ms);
  const lookback = ago(deps.lookbackMs);
  // A saga starts within INTAKE_START_GRACE_MS of its request (else its intake is closed as
  // never started), so one created later than this cannot be past its complete-by yet.
  const quietCutoff = ago(Math.max(0, deps.runningQuietMs + deps.policy.graceMs - INTAKE_START_GRACE_MS));
  const youngDeadFrom = new Date(Math.max(lookback.getTime(), quietCutoff.getTime() - CLOCK_SKEW_MS));
  const listed = [
    ...(await deps.sagas.list({ runtimeStatus: ['Running'], createdFrom: lookback, createdTo: quietCutoff })),
    ...(await deps.sagas.list({
      runtimeStatus: ['Pending'],
      createdFrom: lookback,
      createdTo: ago(deps.policy.pendingTooLongMs),
    })),
    ...(await deps.sagas.list({ runtimeStatus: ['Suspended'], createdFrom: lookback })),
    ...(await deps.sagas.list({ runtimeStatus: ['Failed', 'Terminated'], createdFrom: youngDeadFrom })),
  ];
  const byId = new Map(listed.map((s) => [s.instanceId, s]));
  const old: OldIntake[] = [];
  const knownIntakes = new Map<string, IntakeRecord>();
  const candidates = [...listed];
  for (const intake of await deps.intakes.listActive(quietCutoff.toISOString())) {
    // A saga running past the window is usually listed already; only the others are read.
    const listedSaga = byId.get(intake.deliveryId);
    const saga = listedSaga ?? (await deps.sagas.status(intake.deliveryId));
    old.push({ intake, saga });
    knownIntakes.set(intake.deliveryId, intake);
    // Failed or Terminated only: a status the client could not name is no reason to compensate.
    if (!listedSaga && saga && (saga.runtimeStatus === 'Failed' || saga.runtimeStatus === 'Terminated'))
      candidates.push(saga);
  }
  const verdicts: SagaVerdict[] = [];
  const unmatched: Scan['unmatched'] = [];
  for (const saga of candidates) {
    if (saga.name && saga.name !== ORCHESTRATIONS.deliverySaga) continue;
    const { verdict, intake } = await verdictOn(saga, deps, now, knownIntakes.get(saga.instanceId));
    verdicts.push({ saga, verdict });
    if (saga.runtimeStatus === 'Running' && !saga.progress?.finished && !knownIntakes.has(saga.instanceId))
      unmatched.push({ saga, intake });
  }
  return { verdicts, old, unmatched };
}

async function verdictOn(
  saga: SagaStatus,
  deps: SupervisorReads,
  now: Date,
  knownIntake: IntakeRecord | undefined,
): Promise<{ verdict: Verdict; intake: IntakeRecord | undefined }> {
  const overdue =
    saga.runtimeStatus === 'Running' &&
    saga.progress !== undefined &&
    now.getTime() > Date.parse(saga.progress.completeBy) + deps.policy.graceMs;
  // Only a dead saga's verdict reads its intake and recovery, and only an overdue one's its intake;
  // a closed intake settles a dead saga (unless closed as never started), so its recovery is
  // read only while the intake does not settle it.
  const deadUnfinished = isDead(saga) && !saga.progress?.finished;
  const intake = deadUnfinished || overdue ? (knownIntake ?? (await deps.intakes.get(saga.instanceId))) : knownIntake;
  const intakeClosed = intake !== undefined && settlesSaga(intake);
  const recovery =
    deadUnfinished && !intakeClosed ? await deps.sagas.status(recoveryInstanceId(saga.instanceId)) : undefined;
  const verdict = superviseSaga(
    {
      instanceId: saga.instanceId,
      runtimeStatus: saga.runtimeStatus,
      createdAt: saga.createdAt,
      lastUpdatedAt: saga.lastUpdatedAt,
      ...(saga.progress ? { progress: saga.progress } : {}),
      recoveryExists: recovery !== undefined,
      ...(recovery ? { recoveryStatus: recovery.runtimeStatus } : {}),
      intakeClosed,
      ...(intake?.supervisorRequestedAt ? { supervisorRequestedAt: new Date(intake.supervisorRequestedAt) } : {}),
    },
    now,
    deps.policy,
  );
  return { verdict, intake };
}

export async function superviseOnce(deps: SupervisorDeps): Promise<SupervisorReport> {
  const now = deps.now();
  const report = { examined: 0, none: 0, requestCompensation: 0, recover: 0, resume: 0, alert: 0, intakesClosed: 0 };
  const { verdicts, old, unmatched } = await scan(deps, now);
  // Dead sagas that had finished (their verdict is none): their intake may still be open.
  const finishedDead = verdicts.map((v) => v.saga).filter((s) => isDead(s) && s.progress?.finished);
  for (const { saga, verdict } of verdicts) {
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
  report.intakesClosed = await reconcileIntakes(deps, now, old, finishedDead);
  await reopenInFlight(deps, now, unmatched);
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

/** Why an intake still in flight can stop counting, given its saga as read; undefined while it may go on. */
function closingOutcome(saga: SagaStatus | undefined): string | undefined {
  if (!saga) return NOT_STARTED;
  if (saga.runtimeStatus === 'Completed') return saga.progress?.outcome ?? 'Completed';
  return saga.progress?.finished ? (saga.progress.outcome ?? 'Failed') : undefined;
}

/**
 * Intake records still counted in flight whose saga never started (past a grace period), or
 * whose saga finished without closing them, stop counting. Dead sagas are the recovery's.
 *
 * The intake marks a record once it has started its saga, so a run checks for a start only the
 * records left unmarked (a start that died, a mark that failed) and marks those it finds
 * started. A marked record is read again only once it is older than the quiet window (`old`,
 * read by the scan), so a Completed saga that left its intake open is caught then; a dead one
 * that had finished is caught while young, from the listing of dead sagas. A run reads the
 * unmarked records, the old ones and those of young finished deaths, not every one in flight.
 */
async function reconcileIntakes(
  deps: SupervisorDeps,
  now: Date,
  old: readonly OldIntake[],
  finishedDead: readonly SagaStatus[],
): Promise<number> {
  let closed = 0;
  // With no saga seen, a record is closed only if no start was marked (nor the record stamped
  // afresh) since it was read: an intake may start the saga between this run's read and its
  // write (and a mark after that write reopens it). A marked record with no saga has had its
  // saga purged: it is over, and nothing may start it again.
  const close = async (intake: IntakeRecord, reading: string): Promise<void> => {
    const outcome = reading === NOT_STARTED && intake.sagaStartedAt !== undefined ? SAGA_GONE : reading;
    if (outcome !== NOT_STARTED) await deps.intakes.close(intake.deliveryId, outcome);
    else if (!(await deps.intakes.closeUnstarted(intake.deliveryId, intake.requestedAt))) return;
    deps.log({ event: 'supervisor.intake.closed', deliveryId: intake.deliveryId, outcome });
    closed++;
  };
  const checked = new Set<string>();
  const graceCutoff = new Date(now.getTime() - INTAKE_START_GRACE_MS).toISOString();
  const unconfirmed = await deps.intakes.listUnconfirmed(graceCutoff);
  for (const intake of unconfirmed) {
    checked.add(intake.deliveryId);
    const saga = await deps.sagas.status(intake.deliveryId);
    const outcome = closingOutcome(saga);
    if (outcome !== undefined) await close(intake, outcome);
    else await deps.intakes.markSagaStarted(intake.deliveryId, now.toISOString());
  }
  for (const { intake, saga } of old) {
    if (checked.has(intake.deliveryId)) continue;
    checked.add(intake.deliveryId);
    const outcome = closingOutcome(saga);
    if (outcome !== undefined) await close(intake, outcome);
  }
  // A young saga that finished and then died (in or after closing its intake) is not left for
  // the window: its intake is read, and closed with its outcome if still open or closed as
  // never started.
  for (const saga of finishedDead) {
    const outcome = closingOutcome(saga); // defined: the saga had finished
    if (checked.has(saga.instanceId) || outcome === undefined) continue;
    const intake = await deps.intakes.get(saga.instanceId);
    if (intake && (intake.active || closedUnstarted(intake))) await close(intake, outcome);
  }
  return closed;
}

/**
 * A saga the engine lists running past the quiet window, not finished, whose intake is not
 * among the open ones: normally one between closing its intake and completing. One whose
 * intake was closed as never started (a closer looked before its start, and the intake that
 * started it died before its mark) counts in flight again, so that the in-flight bound holds
 * and, should it die once old, its open intake leads a run to it. Younger ones are left to
 * their own close, or, dead, to the recovery. Costs a read per such saga (none when its verdict
 * read the intake already), none in the usual run.
 */
async function reopenInFlight(deps: SupervisorDeps, now: Date, unmatched: Scan['unmatched']): Promise<void> {
  for (const { saga, intake: known } of unmatched) {
    const intake = known ?? (await deps.intakes.get(saga.instanceId));
    if (!intake || !closedUnstarted(intake)) continue;
    await deps.intakes.markSagaStarted(saga.instanceId, now.toISOString());
    deps.log({ event: 'supervisor.intake.reopened', deliveryId: saga.instanceId, runtimeStatus: saga.runtimeStatus });
  }
}
